//! The portal: server-rendered pages for customers, their auditors and the processor's staff.
//!
//! - Pages are minijinja templates (`templates/`, embedded in the binary, HTML auto-escaped)
//!   over view structs built here from what the service's doors answer: a page calls the same
//!   door with the same caller as the API route for the same thing, so it is judged and logged
//!   alike (one access entry per call).
//! - Every page works without JavaScript. htmx (vendored, `assets/htmx.min.js`) and
//!   `assets/portal.js` only enhance: the log's inclusion check in the browser needs script.
//!   Nothing is loaded from elsewhere, and the policy ([`PORTAL_CSP`]) allows only the portal's
//!   own files: no inline script or style, no frames, forms posting only here.
//! - Who: the session cookie of `POST /login` (the same session as the API's `POST
//!   /api/v1/session`). A page without a valid session sends the browser to the login page;
//!   an account that must change its password is sent to that form first.
//! - Changes are HTML forms posted with a hidden `csrf` field. [`csrf_layer`] moves that field
//!   into the `x-csrf-token` header before the caller is authenticated, so the one rule in
//!   [`crate::auth`] judges portal and API requests alike. The login form, which has no session
//!   yet, carries a token that must match a cookie of its own (double submit).
//! - Language: Dutch or English, switched at `/lang/{nl|en}` and remembered in a cookie; by
//!   default the customer's language (set at login) or what the browser prefers.

mod pages;
mod staff;
mod subprocessors;
mod text;

use crate::auth::{CSRF_HEADER, Caller, SESSION_COOKIE};
use crate::state::AppState;
use art28_core::auth::{Role, Scope};
use art28_core::ids::CustomerId;
use art28_core::lang::Lang;
use art28_core::{Error, ErrorCode};
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::Environment;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::LazyLock;

/// The portal's policy: its own styles, scripts and images only, nothing inline, no frames,
/// forms posted only to itself, no `<base>`.
pub const PORTAL_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The cookie that remembers the language.
pub const LANG_COOKIE: &str = "art28_lang";
/// The login form's own anti-forgery cookie.
const LOGIN_COOKIE: &str = "art28_login";
/// The most a portal form may hold.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The portal's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/password", get(pages::password_form).post(pages::change_password))
        .route("/lang/{lang}", get(pages::set_lang))
        .route("/assets/{name}", get(asset))
        .route("/c/{customer}", get(pages::customer))
        .route("/c/{customer}/agreement", get(pages::agreement))
        .route("/c/{customer}/log", get(pages::log))
        .route("/c/{customer}/access", get(pages::access))
        .route("/c/{customer}/access/{grant}/{action}", post(pages::decide_access))
        .route("/c/{customer}/incidents", get(pages::incidents))
        .route("/c/{customer}/notices/{notice}/acknowledge", post(pages::acknowledge))
        .route("/c/{customer}/tokens", get(pages::tokens).post(pages::create_token))
        .route("/c/{customer}/tokens/{token}/revoke", post(pages::revoke_token))
        .route("/c/{customer}/webhook", post(pages::set_webhook))
        .route("/c/{customer}/subprocessors", get(subprocessors::customer))
        .route(
            "/c/{customer}/subprocessors/{change}/object",
            post(subprocessors::object),
        )
        .route(
            "/c/{customer}/subprocessors/{change}/approve",
            post(subprocessors::approve),
        )
        .route("/c/{customer}/subprocessors/requests", post(subprocessors::request))
        .route("/c/{customer}/subprocessors/feed", post(subprocessors::feed))
        .route(
            "/staff/subprocessors",
            get(subprocessors::register).post(subprocessors::create),
        )
        .route("/staff/subprocessors/changes", post(subprocessors::announce))
        .route(
            "/staff/subprocessors/changes/{change}/{customer}/decide",
            post(subprocessors::decide),
        )
        .route(
            "/staff/subprocessors/requests/{customer}/{request}/answer",
            post(subprocessors::answer),
        )
        .route("/staff", get(staff::customers))
        .route("/staff/incidents", get(staff::incidents).post(staff::report))
        .route("/staff/incidents/{id}", get(staff::incident))
        .route("/staff/incidents/{id}/step", post(staff::step))
        .route("/staff/incidents/{id}/details", post(staff::details))
        .route("/staff/incidents/{id}/customers", post(staff::add_customer))
        .route("/staff/incidents/{id}/notices", post(staff::send))
        .route("/staff/security", get(staff::security))
        .route("/deadlines", get(staff::deadlines))
        .route("/staff/permissions", get(staff::permissions))
        .layer(axum::middleware::from_fn(csrf_layer))
}

/// Whether a path is the portal's (everything outside the API and health).
pub fn is_portal_path(path: &str) -> bool {
    !(path.starts_with("/api/") || path == "/api" || path == "/healthz")
}

// ----- assets -------------------------------------------------------------------------------

const ASSETS: &[(&str, &str, &str)] = &[
    (
        "portal.css",
        "text/css; charset=utf-8",
        include_str!("assets/portal.css"),
    ),
    (
        "portal.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/portal.js"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/htmx.min.js"),
    ),
];

async fn asset(PagePath(name): PagePath<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, body)) => (
            [
                (CONTENT_TYPE, HeaderValue::from_static(kind)),
                // Not secret, and the same for every caller: a browser may keep them a while.
                (CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

// ----- templates ----------------------------------------------------------------------------

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("password.html", include_str!("templates/password.html")),
    ("error.html", include_str!("templates/error.html")),
    ("customer.html", include_str!("templates/customer.html")),
    ("agreement.html", include_str!("templates/agreement.html")),
    ("log.html", include_str!("templates/log.html")),
    ("access.html", include_str!("templates/access.html")),
    ("incidents.html", include_str!("templates/incidents.html")),
    ("tokens.html", include_str!("templates/tokens.html")),
    ("subprocessors.html", include_str!("templates/subprocessors.html")),
    (
        "staff_subprocessors.html",
        include_str!("templates/staff_subprocessors.html"),
    ),
    ("deadlines.html", include_str!("templates/deadlines.html")),
    ("staff_customers.html", include_str!("templates/staff_customers.html")),
    ("staff_incidents.html", include_str!("templates/staff_incidents.html")),
    ("staff_incident.html", include_str!("templates/staff_incident.html")),
    ("staff_security.html", include_str!("templates/staff_security.html")),
    (
        "staff_permissions.html",
        include_str!("templates/staff_permissions.html"),
    ),
];

static ENV: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // A misspelt field or text key fails the page (and the tests) instead of showing nothing.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
});

/// What every page knows besides its own content.
#[derive(Debug, Serialize)]
pub(crate) struct Frame {
    lang: &'static str,
    other_lang: &'static str,
    path: String,
    /// `path`, to come back to after switching the language (URL-encoded).
    back: String,
    user: Option<UserView>,
    csrf: String,
    nav: Vec<NavItem>,
}

impl Frame {
    /// The frame of a page shown to nobody in particular (logging in, an error).
    fn bare(lang: Lang, path: &str) -> Self {
        Frame {
            lang: lang.tag(),
            other_lang: other(lang).tag(),
            path: path.to_string(),
            back: encode(path),
            user: None,
            csrf: String::new(),
            nav: Vec::new(),
        }
    }
}

pub(crate) fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[derive(Debug, Serialize)]
pub(crate) struct UserView {
    username: String,
    roles: Vec<String>,
    customer: Option<String>,
    staff: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct NavItem {
    href: String,
    label: String,
    current: bool,
}

/// A rendered page (status 200 unless set).
pub(crate) struct Page {
    status: StatusCode,
    html: String,
    cookies: Vec<String>,
}

impl Page {
    fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    fn with_cookie(mut self, cookie: String) -> Self {
        self.cookies.push(cookie);
        self
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut r = (self.status, self.html).into_response();
        let h = r.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(PORTAL_CSP));
        for c in self.cookies {
            if let Ok(v) = HeaderValue::from_str(&c) {
                h.append(SET_COOKIE, v);
            }
        }
        r
    }
}

/// The text table of `lang` as a template value, made once (a value is shared, not copied).
fn text_value(lang: Lang) -> minijinja::Value {
    static NL: LazyLock<minijinja::Value> =
        LazyLock::new(|| minijinja::Value::from(minijinja::value::Serde(text::table(Lang::Nl))));
    static EN: LazyLock<minijinja::Value> =
        LazyLock::new(|| minijinja::Value::from(minijinja::value::Serde(text::table(Lang::En))));
    match lang {
        Lang::Nl => NL.clone(),
        Lang::En => EN.clone(),
    }
}

/// Render `template` with `content` (its own fields) in the frame of `who`.
fn render<T: Serialize>(template: &str, lang: Lang, frame: Frame, content: T) -> Result<Page, PageError> {
    let env = ENV.as_ref().map_err(|e| internal(lang, e))?;
    let html = env
        .get_template(template)
        .and_then(|t| {
            t.render(minijinja::context! {
                t => text_value(lang),
                frame => minijinja::Value::from(minijinja::value::Serde(&frame)),
                page => minijinja::Value::from(minijinja::value::Serde(&content)),
            })
        })
        .map_err(|e| internal(lang, e))?;
    Ok(Page {
        status: StatusCode::OK,
        html,
        cookies: Vec::new(),
    })
}

fn internal(lang: Lang, e: impl std::fmt::Display) -> PageError {
    tracing::error!(error = %e, "a portal page failed to render");
    PageError::Failed(Error::new(ErrorCode::Internal, "the page could not be rendered"), lang)
}

// ----- who is looking -----------------------------------------------------------------------

/// The person looking at a page: an authenticated session from the portal's cookie, in the
/// language they read.
pub(crate) struct Viewer {
    pub(crate) caller: Caller,
    pub(crate) lang: Lang,
    session_key: String,
    path: String,
    /// The path with its query, to come back to.
    here: String,
}

impl Viewer {
    /// The customer a customer's account belongs to.
    pub(crate) fn customer(&self) -> Option<&CustomerId> {
        self.caller.account.as_ref().and_then(|a| a.tenant.as_ref())
    }

    pub(crate) fn is_staff(&self) -> bool {
        self.caller
            .principal
            .grants
            .iter()
            .any(|g| matches!(g.scope, Scope::Processor))
    }

    fn roles(&self) -> Vec<Role> {
        self.caller.principal.grants.iter().map(|g| g.role).collect()
    }

    /// The frame of a page about `customer` (its navigation) or of a staff page.
    fn frame(&self, customer: Option<&CustomerId>) -> Frame {
        let t = text::table(self.lang);
        let mut nav = Vec::new();
        if self.is_staff() {
            use art28_core::auth::Permission as P;
            for (href, key, needs) in [
                ("/staff", "nav_customers", P::CustomersRead),
                ("/staff/incidents", "nav_register", P::IncidentsRead),
                ("/staff/subprocessors", "nav_subprocessors", P::SubprocessorsRead),
                ("/deadlines", "nav_deadlines", P::IncidentsRead),
                ("/staff/security", "nav_security", P::SecurityEventsRead),
                ("/staff/permissions", "nav_permissions", P::AccountsRead),
            ] {
                if art28_core::auth::authorize(&self.caller.principal, needs, None).is_ok() {
                    nav.push((href.to_string(), t.get(key)));
                }
            }
        }
        if let Some(c) = customer.or(self.customer()) {
            use art28_core::auth::Permission as P;
            for (suffix, key, needs) in [
                ("", "nav_overview", P::AgreementsRead),
                ("/agreement", "nav_agreement", P::AgreementsRead),
                ("/log", "nav_log", P::LogRead),
                ("/access", "nav_access", P::AccessGrantsRead),
                ("/incidents", "nav_incidents", P::IncidentsRead),
                ("/subprocessors", "nav_subprocessors", P::SubprocessorsRead),
                ("/tokens", "nav_tokens", P::TokensManage),
            ] {
                if pages::may(self, needs, c) {
                    nav.push((format!("/c/{c}{suffix}"), t.get(key)));
                }
            }
            if !self.is_staff() && pages::may(self, P::IncidentsRead, c) {
                nav.push(("/deadlines".to_string(), t.get("nav_deadlines")));
            }
        }
        let nav = nav
            .into_iter()
            .map(|(href, label)| NavItem {
                current: self.path == href,
                href,
                label: label.to_string(),
            })
            .collect();
        Frame {
            lang: self.lang.tag(),
            other_lang: other(self.lang).tag(),
            path: self.path.clone(),
            back: encode(&self.here),
            user: Some(UserView {
                username: self.caller.principal.username.clone(),
                roles: self.roles().iter().map(|r| t.role(*r).to_string()).collect(),
                customer: self.customer().map(ToString::to_string),
                staff: self.is_staff(),
            }),
            csrf: crate::auth::csrf_token(&self.session_key),
            nav,
        }
    }

    /// Render a page for this viewer.
    pub(crate) fn page<T: Serialize>(
        &self,
        template: &str,
        customer: Option<&CustomerId>,
        content: T,
    ) -> Result<Page, PageError> {
        render(template, self.lang, self.frame(customer), content)
    }

    /// A failure of a door, shown in this viewer's language and frame.
    pub(crate) fn failed(&self, e: impl Into<Error>) -> PageError {
        PageError::FailedFor(e.into(), Box::new(self.frame(None)), self.lang)
    }
}

fn other(lang: Lang) -> Lang {
    match lang {
        Lang::Nl => Lang::En,
        Lang::En => Lang::Nl,
    }
}

/// The language of a request: the remembered choice, else the browser's preference, else Dutch.
pub(crate) fn request_lang(headers: &HeaderMap) -> Lang {
    if let Some(l) = cookie(headers, LANG_COOKIE).and_then(|v| v.parse().ok()) {
        return l;
    }
    let accept = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    for part in accept.split(',') {
        let tag = part.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if tag.starts_with("nl") {
            return Lang::Nl;
        }
        if tag.starts_with("en") {
            return Lang::En;
        }
    }
    Lang::Nl
}

/// A cookie's value.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name && !v.is_empty()).then(|| v.to_string())
        })
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = request_lang(&parts.headers);
        let path = parts.uri.path().to_string();
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| path.clone(), |p| p.as_str().to_string());
        let Some(session_key) = crate::auth::session_cookie(&parts.headers) else {
            return Err(PageError::Login(login_target(parts)));
        };
        let caller = match crate::auth::authenticate(parts, state, true).await {
            Ok(c) => c,
            Err(e) if e.0.code == ErrorCode::AuthenticationRequired => {
                return Err(PageError::Login(login_target(parts)));
            }
            Err(e) => return Err(PageError::Failed(e.0, lang)),
        };
        let must_change = caller.account.as_ref().is_some_and(|a| a.must_change_password);
        if must_change && path != "/password" && path != "/logout" {
            return Err(PageError::Redirect("/password".into()));
        }
        Ok(Viewer {
            caller,
            lang,
            session_key,
            path,
            here,
        })
    }
}

/// Where to come back to after logging in: this page, if it was one to look at.
fn login_target(parts: &Parts) -> String {
    if parts.method == Method::GET && parts.uri.path() != "/" {
        let back = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        format!("/login?next={}", encode(back))
    } else {
        "/login".into()
    }
}

/// A local path to go to, or `/`: never another site (`//host`, `/\host`, a scheme).
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.chars().any(char::is_control) =>
        {
            p.to_string()
        }
        _ => "/".into(),
    }
}

// ----- failures -----------------------------------------------------------------------------

/// Why a page is not shown.
#[derive(Debug)]
pub(crate) enum PageError {
    /// Not logged in: to the login page (with where to come back to).
    Login(String),
    /// Somewhere else first.
    Redirect(String),
    /// A door refused or failed: an error page in the viewer's language.
    Failed(Error, Lang),
    /// The same for a logged-in viewer: the page keeps the viewer's header and navigation.
    FailedFor(Error, Box<Frame>, Lang),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login(to) | PageError::Redirect(to) => see_other(&to),
            PageError::Failed(e, lang) => error_page(&e, lang),
            PageError::FailedFor(e, frame, lang) => framed_error_page(&e, lang, *frame),
        }
    }
}

/// `303 See Other` to `to`.
pub(crate) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// A page saying what went wrong: the rule's code, its message in the reader's language.
pub(crate) fn error_page(e: &Error, lang: Lang) -> Response {
    framed_error_page(e, lang, Frame::bare(lang, "/"))
}

/// An error page in `frame` (a logged-in viewer's, or nobody's).
fn framed_error_page(e: &Error, lang: Lang, frame: Frame) -> Response {
    let t = text::table(lang);
    let content = ErrorView {
        code: e.code.as_str(),
        message: t.error(e),
    };
    let status = crate::error::status(e.kind());
    match render("error.html", lang, frame, content) {
        Ok(page) => page.with_status(status).into_response(),
        Err(_) => (status, e.code.as_str().to_string()).into_response(),
    }
}

#[derive(Debug, Serialize)]
struct ErrorView {
    code: &'static str,
    message: String,
}

/// The answer of the portal for a method a page does not take (`GET /logout`, say).
pub fn method_not_allowed(headers: &HeaderMap) -> Response {
    let mut r = error_page(
        &Error::new(ErrorCode::BadRequest, "this page does not take that method"),
        request_lang(headers),
    );
    *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    r
}

/// The answer of the portal for a path it does not know: an HTML page, not the API's JSON.
pub async fn not_found(headers: HeaderMap) -> Response {
    error_page(
        &Error::new(ErrorCode::RouteNotFound, "there is no such page"),
        request_lang(&headers),
    )
}

// ----- forms --------------------------------------------------------------------------------

/// Portal forms carry their anti-forgery token as the field `csrf`; the authentication in
/// [`crate::auth`] expects it in the `x-csrf-token` header. This layer reads a form posted with
/// the session cookie, and puts the field's value into that header, so the one check there
/// decides. The body is passed on unchanged.
async fn csrf_layer(req: Request, next: axum::middleware::Next) -> Response {
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if req.method() != Method::POST || !is_form {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let lang = request_lang(&parts.headers);
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return error_page(&Error::new(ErrorCode::PayloadTooLarge, "the form holds too much"), lang);
    };
    parts.headers.remove(CSRF_HEADER);
    if let Some((_, token)) = url::form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf")
        && let Ok(v) = HeaderValue::from_str(&token)
    {
        parts.headers.insert(CSRF_HEADER, v);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// The path's parameters, refused with the portal's error page (not the API's JSON).
pub(crate) struct PagePath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for PagePath<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = request_lang(&parts.headers);
        crate::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|crate::extract::Path(v)| PagePath(v))
            .map_err(|e| PageError::Failed(e.0, lang))
    }
}

/// The query string's parameters, refused with the portal's error page.
pub(crate) struct PageQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for PageQuery<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = request_lang(&parts.headers);
        crate::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|crate::extract::Query(v)| PageQuery(v))
            .map_err(|e| PageError::Failed(e.0, lang))
    }
}

/// A form's body as text: it must be UTF-8 (a browser sends it so); at most [`MAX_FORM_BYTES`].
async fn form_body(req: Request) -> Result<(Vec<u8>, Lang), PageError> {
    let lang = request_lang(req.headers());
    let bytes = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
        .await
        .map_err(|_| PageError::Failed(Error::new(ErrorCode::PayloadTooLarge, "the form holds too much"), lang))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| PageError::Failed(Error::new(ErrorCode::BadRequest, "the form is not UTF-8"), lang))?;
    // Percent-escapes are decoded lossily (an invalid sequence becomes U+FFFD): a replacement
    // character in a field is refused unless the form itself sent one.
    let sent_replacement = text.contains('\u{fffd}') || text.to_ascii_uppercase().contains("%EF%BF%BD");
    let lossless =
        url::form_urlencoded::parse(text.as_bytes()).all(|(k, v)| !k.contains('\u{fffd}') && !v.contains('\u{fffd}'));
    if !lossless && !sent_replacement {
        return Err(PageError::Failed(
            Error::new(ErrorCode::BadRequest, "the form is not UTF-8"),
            lang,
        ));
    }
    Ok((bytes.to_vec(), lang))
}

/// A form's fields, read into `T` (every field a string); `csrf` is not part of it.
pub(crate) struct Form<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Form<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, _: &AppState) -> Result<Self, Self::Rejection> {
        let (bytes, lang) = form_body(req).await?;
        let bad = |m: String| PageError::Failed(Error::new(ErrorCode::BadRequest, m), lang);
        let mut seen = std::collections::HashSet::new();
        let mut fields = Vec::new();
        for (k, v) in url::form_urlencoded::parse(&bytes) {
            if k == "csrf" {
                continue;
            }
            if !seen.insert(k.clone()) {
                return Err(bad(format!("the field `{k}` is sent twice")));
            }
            fields.push((k, v));
        }
        // serde_urlencoded reads numbers and booleans from their text, as a form sends them.
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        serde_urlencoded::from_str(&encoded)
            .map(Form)
            .map_err(|e| bad(format!("the form is not as expected: {e}")))
    }
}

/// A form's fields as sent, in order, repeated names included (checkboxes); `csrf` left out.
pub(crate) struct Pairs(pub Vec<(String, String)>);

impl FromRequest<AppState> for Pairs {
    type Rejection = PageError;

    async fn from_request(req: Request, _: &AppState) -> Result<Self, Self::Rejection> {
        let (bytes, _) = form_body(req).await?;
        Ok(Pairs(
            url::form_urlencoded::parse(&bytes)
                .filter(|(k, _)| k != "csrf")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

/// A fresh random token, hex.
pub(crate) fn random_token() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

/// A cookie the portal sets: HTTP only, same-site only, for the whole site.
pub(crate) fn set_cookie(name: &str, value: &str, max_age_secs: i64) -> String {
    format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_secs}")
}

/// The session cookie for a new session.
pub(crate) fn session_cookie(key: &str) -> String {
    set_cookie(SESSION_COOKIE, key, art28_service::accounts::SESSION_HOURS * 3600)
}

/// An enum's wire form (its serde name), to pick its label from the text table.
pub(crate) fn wire<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// "when by whom" of something done (decided, acknowledged, revoked, granted), if it was.
pub(crate) fn done_by(t: &text::Text, at: Option<jiff::Timestamp>, by: Option<&str>) -> Option<String> {
    let at = pages::when(at?);
    Some(match by {
        Some(by) => format!("{at} {} {by}", t.get("decided_by")),
        None => at,
    })
}

/// The state, for handlers that take it.
pub(crate) type St = State<AppState>;
