//! The pages of a customer's accounts, and logging in and out. Each handler reads the request,
//! calls the door the API's route for the same thing calls, with the same caller, and renders.

use super::{Form, Page, PageError, PagePath, PageQuery, St, Viewer, local_path, see_other, text};
use crate::auth::ClientAddr;
use art28_core::auth::Permission;
use art28_core::ids::CustomerId;
use art28_core::lang::Lang;
use art28_core::{Error, ErrorCode};
use art28_render::DocFormat;
use art28_service::records::{AccessGrantRecord, AccessGrantStatus, AgreementVersionMeta};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// A time as people read it in the portal: minutes, UTC.
pub(crate) fn when(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn customer_id(viewer: &Viewer, raw: &str) -> Result<CustomerId, PageError> {
    raw.parse::<CustomerId>().map_err(|e| viewer.failed(e))
}

/// Whether the viewer's roles allow `p` for `customer` (to show a link or a button; the door
/// judges again when it is used).
pub(crate) fn may(viewer: &Viewer, p: Permission, customer: &CustomerId) -> bool {
    art28_core::auth::authorize(&viewer.caller.principal, p, Some(customer)).is_ok()
}

// ----- start, language ----------------------------------------------------------------------

/// `/`: the viewer's own start page.
pub(crate) async fn home(viewer: Viewer) -> Result<Response, PageError> {
    if viewer.is_staff() {
        let lists_customers =
            art28_core::auth::authorize(&viewer.caller.principal, Permission::CustomersRead, None).is_ok();
        return Ok(see_other(if lists_customers { "/staff" } else { "/staff/incidents" }));
    }
    match viewer.customer() {
        Some(c) => Ok(see_other(&format!("/c/{c}"))),
        None => Err(viewer.failed(Error::new(
            ErrorCode::PermissionDenied,
            "this account has no pages in the portal",
        ))),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Back {
    back: Option<String>,
}

/// `/lang/{nl|en}?back=/path`: remember the language, go back.
pub(crate) async fn set_lang(
    headers: HeaderMap,
    PagePath(lang): PagePath<String>,
    PageQuery(q): PageQuery<Back>,
) -> Response {
    let Ok(lang) = lang.parse::<Lang>() else {
        return super::error_page(
            &Error::new(ErrorCode::BadRequest, "the language is `nl` or `en`"),
            super::request_lang(&headers),
        );
    };
    let mut r = see_other(&local_path(q.back.as_deref()));
    let cookie = format!(
        "{}={}; Path=/; Secure; SameSite=Lax; Max-Age={}",
        super::LANG_COOKIE,
        lang.tag(),
        365 * 24 * 3600
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&cookie) {
        r.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    r
}

// ----- logging in and out -------------------------------------------------------------------

#[derive(Debug, Default, Serialize)]
struct LoginView {
    username: String,
    next: String,
    token: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
    bye: Option<String>,
}

fn login_page(lang: Lang, mut view: LoginView, status: StatusCode) -> Result<Page, PageError> {
    // A new form token for every form shown: the cookie holds it, the form repeats it.
    let token = super::random_token();
    view.token = token.clone();
    // Switching the language keeps where the viewer wanted to go.
    let here = if view.next == "/" {
        "/login".to_string()
    } else {
        format!("/login?next={}", super::encode(&view.next))
    };
    let frame = super::Frame::bare(lang, &here);
    Ok(super::render("login.html", lang, frame, view)?
        .with_status(status)
        .with_cookie(super::set_cookie(super::LOGIN_COOKIE, &token, 3600)))
}

/// `GET /login`.
pub(crate) async fn login_form(headers: HeaderMap, PageQuery(q): PageQuery<LoginQuery>) -> Result<Page, PageError> {
    let lang = super::request_lang(&headers);
    let t = text::table(lang);
    login_page(
        lang,
        LoginView {
            next: local_path(q.next.as_deref()),
            notice: q.bye.map(|_| t.get("logged_out").to_string()),
            ..LoginView::default()
        },
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
    token: String,
    next: Option<String>,
}

/// `POST /login`: a session, its cookie, and on to where the viewer wanted to go (or to the
/// password form first).
pub(crate) async fn login(
    state: St,
    headers: HeaderMap,
    ClientAddr(client): ClientAddr,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let lang = super::request_lang(&headers);
    let t = text::table(lang);
    let next = local_path(form.next.as_deref());
    let again = |error: String, status| {
        login_page(
            lang,
            LoginView {
                username: form.username.clone(),
                next: next.clone(),
                error: Some(error),
                ..LoginView::default()
            },
            status,
        )
        .map(IntoResponse::into_response)
    };
    let expected = super::cookie(&headers, super::LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !crate::auth::equal_in_constant_time(expected.as_bytes(), form.token.as_bytes()) {
        return again(t.get("login_expired").to_string(), StatusCode::FORBIDDEN);
    }
    let password = SecretString::from(form.password.clone());
    let session = match state.accounts.login(&form.username, &password, client.as_deref()).await {
        Ok(s) => s,
        Err(e) if e.code == ErrorCode::AuthenticationRequired => {
            return again(t.get("login_failed").to_string(), StatusCode::UNAUTHORIZED);
        }
        Err(e) => return again(t.error(&e), crate::error::status(e.kind())),
    };
    let key = secrecy::ExposeSecret::expose_secret(&session.session_key).to_string();
    let to = if session.account.must_change_password {
        "/password".to_string()
    } else {
        next
    };
    let mut r = see_other(&to);
    let mut cookies = vec![
        super::session_cookie(&key),
        super::set_cookie(super::LOGIN_COOKIE, "", 0),
    ];
    // The customer's language, unless the viewer chose one.
    if super::cookie(&headers, super::LANG_COOKIE).is_none()
        && let Some(tenant) = &session.account.tenant
        && let Ok(principal) = state.accounts.principal(&session.account).await
        && let Ok(customers) = state.agreements.customers(&principal).await
        && let Some(c) = customers.iter().find(|c| &c.id == tenant)
    {
        cookies.push(format!(
            "{}={}; Path=/; Secure; SameSite=Lax; Max-Age={}",
            super::LANG_COOKIE,
            c.language.tag(),
            365 * 24 * 3600
        ));
    }
    for c in cookies {
        if let Ok(v) = axum::http::HeaderValue::from_str(&c) {
            r.headers_mut().append(axum::http::header::SET_COOKIE, v);
        }
    }
    Ok(r)
}

/// `POST /logout`: the session ends, the cookie goes.
pub(crate) async fn logout(viewer: Viewer, state: St) -> Result<Response, PageError> {
    state
        .accounts
        .logout(&viewer.session_key)
        .await
        .map_err(|e| viewer.failed(e))?;
    let mut r = see_other("/login?bye=1");
    if let Ok(v) = axum::http::HeaderValue::from_str(&super::set_cookie(crate::auth::SESSION_COOKIE, "", 0)) {
        r.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    Ok(r)
}

// ----- password -----------------------------------------------------------------------------

#[derive(Debug, Default, Serialize)]
struct PasswordView {
    forced: bool,
    old_error: Option<String>,
    new_error: Option<String>,
    repeat_error: Option<String>,
    done: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DoneQuery {
    done: Option<String>,
}

/// `GET /password`.
pub(crate) async fn password_form(viewer: Viewer, PageQuery(q): PageQuery<DoneQuery>) -> Result<Page, PageError> {
    let forced = viewer.caller.account.as_ref().is_some_and(|a| a.must_change_password);
    viewer.page(
        "password.html",
        None,
        PasswordView {
            forced,
            done: q.done.is_some(),
            ..PasswordView::default()
        },
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct PasswordForm {
    old_password: String,
    new_password: String,
    repeat_password: String,
}

/// `POST /password`: the new password; every session ends, so the viewer is given a new one.
pub(crate) async fn change_password(
    viewer: Viewer,
    state: St,
    ClientAddr(client): ClientAddr,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let t = text::table(viewer.lang);
    let forced = viewer.caller.account.as_ref().is_some_and(|a| a.must_change_password);
    let Some(account) = viewer.caller.account.clone() else {
        return Err(viewer.failed(Error::new(ErrorCode::BadRequest, "this credential has no password")));
    };
    let again = |view: PasswordView| {
        viewer
            .page("password.html", None, PasswordView { forced, ..view })
            .map(|p| p.with_status(StatusCode::UNPROCESSABLE_ENTITY).into_response())
    };
    if form.new_password != form.repeat_password {
        return again(PasswordView {
            repeat_error: Some(t.get("password_mismatch").into()),
            ..PasswordView::default()
        });
    }
    let (old, new) = (
        SecretString::from(form.old_password),
        SecretString::from(form.new_password),
    );
    match state.accounts.change_password(&account, &old, &new).await {
        Ok(()) => {}
        Err(e) if e.code == ErrorCode::AuthenticationRequired => {
            return again(PasswordView {
                old_error: Some(t.get("password_wrong").into()),
                ..PasswordView::default()
            });
        }
        Err(e) if e.code == ErrorCode::PasswordTooWeak => {
            return again(PasswordView {
                new_error: Some(format!("{} {}", t.get("err_weak"), e.message)),
                ..PasswordView::default()
            });
        }
        Err(e) => return Err(viewer.failed(e)),
    }
    // Every session of the account ended with the change; this one goes on as a new session.
    let session = state
        .accounts
        .login(&account.username, &new, client.as_deref())
        .await
        .map_err(|e| viewer.failed(e))?;
    let key = secrecy::ExposeSecret::expose_secret(&session.session_key).to_string();
    let mut r = see_other("/password?done=1");
    if let Ok(v) = axum::http::HeaderValue::from_str(&super::session_cookie(&key)) {
        r.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    Ok(r)
}

// ----- a customer's pages -------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct CustomerView {
    id: String,
    name: String,
    status: &'static str,
    in_force: Option<VersionRow>,
    links: Vec<(String, &'static str)>,
}

#[derive(Debug, Serialize)]
struct VersionRow {
    id: String,
    version: u32,
    effective_from: String,
    recorded_at: String,
    recorded_by: String,
    current: bool,
}

fn version_row(m: &AgreementVersionMeta, current: Option<u32>) -> VersionRow {
    VersionRow {
        id: m.id.to_string(),
        version: m.version,
        effective_from: m.effective_from.to_string(),
        recorded_at: when(m.recorded_at),
        recorded_by: m.recorded_by.clone(),
        current: current == Some(m.version),
    }
}

/// `/c/{customer}`: what the processor keeps for this customer.
pub(crate) async fn customer(viewer: Viewer, state: St, PagePath(raw): PagePath<String>) -> Result<Page, PageError> {
    let id = customer_id(&viewer, &raw)?;
    let (detail, _) = state
        .agreements
        .customer(&viewer.caller.ctx, &viewer.caller.principal, &id)
        .await
        .map_err(|e| viewer.failed(e))?;
    let t = text::table(viewer.lang);
    let mut links = vec![(format!("/c/{id}/agreement"), t.get("nav_agreement"))];
    if may(&viewer, Permission::LogRead, &id) {
        links.push((format!("/c/{id}/log"), t.get("nav_log")));
    }
    if may(&viewer, Permission::AccessGrantsRead, &id) {
        links.push((format!("/c/{id}/access"), t.get("nav_access")));
    }
    if may(&viewer, Permission::IncidentsRead, &id) {
        links.push((format!("/c/{id}/incidents"), t.get("nav_incidents")));
    }
    if may(&viewer, Permission::TokensManage, &id) {
        links.push((format!("/c/{id}/tokens"), t.get("nav_tokens")));
    }
    let view = CustomerView {
        id: id.to_string(),
        name: detail.customer.name.clone(),
        status: text::table(viewer.lang).get(&format!("customer_{}", super::wire(&detail.customer.status))),
        in_force: detail.in_force.as_ref().map(|m| version_row(m, None)),
        links,
    };
    viewer.page("customer.html", Some(&id), view)
}

#[derive(Debug, Serialize)]
struct AgreementView {
    customer: String,
    shown: Option<VersionRow>,
    document: String,
    history: Vec<VersionRow>,
    changes: Option<Changes>,
    download: Option<String>,
    source: Option<String>,
}

#[derive(Debug, Serialize)]
struct Changes {
    since: u32,
    lines: Vec<ChangedLine>,
}

#[derive(Debug, Serialize)]
struct ChangedLine {
    added: bool,
    text: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct VersionQuery {
    /// The agreement's id (a customer may have had more than one); with `version`.
    agreement: Option<String>,
    version: Option<u32>,
}

/// An agreement document's Markdown line as a reader would see it: without the heading marks,
/// table pipes, emphasis and escapes of the source.
fn plain(line: &str) -> String {
    let t = line.trim().trim_start_matches('#').trim();
    let t = t.trim_start_matches("- ").trim_matches('|').trim();
    let mut out = String::with_capacity(t.len());
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '*' | '`' => {}
            '|' => out.push_str(" · "),
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

/// `/c/{customer}/agreement[?version=N]`: the agreement in force (or version N) as a document
/// in the viewer's language, the versions recorded, and what changed since the one before.
pub(crate) async fn agreement(
    viewer: Viewer,
    state: St,
    PagePath(raw): PagePath<String>,
    PageQuery(q): PageQuery<VersionQuery>,
) -> Result<Page, PageError> {
    let id = customer_id(&viewer, &raw)?;
    let (ctx, who) = (&viewer.caller.ctx, &viewer.caller.principal);
    let (history, _) = state
        .agreements
        .history(ctx, who, &id)
        .await
        .map_err(|e| viewer.failed(e))?;
    let (version, document) = match q.version {
        None => match state.agreements.in_force(ctx, who, &id, None).await {
            Ok((v, _)) => {
                // The document lists the sub-processors in force today, from the register.
                let mut shown = v.agreement.clone();
                state
                    .agreements
                    .list_in_force(&id, &mut shown, state.subprocessors.today())
                    .await
                    .map_err(|e| viewer.failed(e))?;
                let doc = art28_render::render_agreement(&shown, viewer.lang, DocFormat::HtmlBody)
                    .map_err(|e| viewer.failed(e))?;
                (Some(v), doc)
            }
            Err(e) if e.code == ErrorCode::AgreementNotFound => (None, String::new()),
            Err(e) => return Err(viewer.failed(e)),
        },
        Some(n) => {
            let meta = history
                .iter()
                .find(|m| m.version == n && q.agreement.as_deref().is_none_or(|a| m.id.as_str() == a))
                .ok_or_else(|| {
                    viewer.failed(Error::new(
                        ErrorCode::AgreementNotFound,
                        format!("there is no version {n}"),
                    ))
                })?;
            let (v, _) = state
                .agreements
                .version(ctx, who, &meta.id, n)
                .await
                .map_err(|e| viewer.failed(e))?;
            let doc = art28_render::render_agreement(&v.agreement, viewer.lang, DocFormat::HtmlBody)
                .map_err(|e| viewer.failed(e))?;
            (Some(v), doc)
        }
    };
    // What changed: the document's text against the version recorded before it.
    let mut changes = None;
    if let Some(v) = &version
        && let Some(before) = history
            .iter()
            .filter(|m| m.id == v.meta.id && m.version < v.meta.version)
            .max_by_key(|m| m.version)
    {
        let (old, _) = state
            .agreements
            .version(ctx, who, &before.id, before.version)
            .await
            .map_err(|e| viewer.failed(e))?;
        let md = |a| art28_render::render_agreement(a, viewer.lang, DocFormat::Markdown);
        let (a, b) = (
            md(&old.agreement).map_err(|e| viewer.failed(e))?,
            md(&v.agreement).map_err(|e| viewer.failed(e))?,
        );
        let diff = similar::TextDiff::from_lines(&a, &b);
        let lines =
            diff.iter_all_changes()
                .filter_map(|c| match c.tag() {
                    similar::ChangeTag::Equal => None,
                    tag => {
                        let text = plain(c.value());
                        (!text.is_empty() && !text.chars().all(|c| c == '-' || c == ':' || c == ' ' || c == '·'))
                            .then_some(ChangedLine {
                                added: tag == similar::ChangeTag::Insert,
                                text,
                            })
                    }
                })
                .collect();
        changes = Some(Changes {
            since: before.version,
            lines,
        });
    }
    let shown = version.as_ref().map(|v| (v.meta.id.clone(), v.meta.version));
    // The document route renders the version in force; an older version is offered as the
    // text it was recorded with.
    let in_force = q.version.is_none();
    let view = AgreementView {
        customer: id.to_string(),
        shown: version.as_ref().map(|v| version_row(&v.meta, None)),
        document,
        history: history
            .iter()
            .rev()
            .map(|m| version_row(m, shown.as_ref().filter(|(a, _)| a == &m.id).map(|(_, n)| *n)))
            .collect(),
        changes,
        download: in_force.then(|| format!("/api/v1/customers/{id}/agreement/document?lang={}", viewer.lang.tag())),
        source: version
            .as_ref()
            .map(|v| format!("/api/v1/agreements/{}/versions/{}/source", v.meta.id, v.meta.version)),
    };
    viewer.page("agreement.html", Some(&id), view)
}

#[derive(Debug, Serialize)]
struct LogView {
    customer: String,
    size: u64,
    root: String,
    signed_at: String,
    entries: Vec<EntryRow>,
    next: Option<String>,
    bundle: String,
}

#[derive(Debug, Serialize)]
struct EntryRow {
    index: u64,
    time: String,
    actor: String,
    operation: String,
    resource: String,
    granted: bool,
    rule: Option<String>,
    leaf: String,
    proof: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FromQuery {
    from: Option<u64>,
}

/// Entries per page of the log.
const LOG_PAGE: usize = 50;

/// `/c/{customer}/log[?from=N]`: the customer's entries with what the browser needs to check
/// each one's inclusion in the signed tree: the leaf's exact bytes, the proof, the root.
pub(crate) async fn log(
    viewer: Viewer,
    state: St,
    PagePath(raw): PagePath<String>,
    PageQuery(q): PageQuery<FromQuery>,
) -> Result<Page, PageError> {
    let id = customer_id(&viewer, &raw)?;
    let (page, _) = state
        .log
        .page(
            &viewer.caller.ctx,
            &viewer.caller.principal,
            &id,
            q.from.unwrap_or(0),
            LOG_PAGE,
        )
        .await
        .map_err(|e| viewer.failed(e))?;
    let entries = page
        .entries
        .iter()
        .map(|e| EntryRow {
            index: e.index,
            time: when(e.entry.time),
            actor: e.entry.actor.id.clone(),
            operation: e.entry.operation.clone(),
            resource: e.entry.resource.clone(),
            granted: e.entry.rule.is_none(),
            rule: e.entry.rule.clone(),
            leaf: String::from_utf8_lossy(&e.bytes).into_owned(),
            proof: e.proof.iter().map(hex::encode).collect::<Vec<_>>().join(","),
        })
        .collect();
    let view = LogView {
        customer: id.to_string(),
        size: page.checkpoint.size,
        root: hex::encode(page.checkpoint.root),
        signed_at: when(page.checkpoint.signed_at),
        entries,
        next: page.next.map(|n| format!("/c/{id}/log?from={n}")),
        bundle: format!("/api/v1/customers/{id}/log/bundle"),
    };
    viewer.page("log.html", Some(&id), view)
}

#[derive(Debug, Serialize)]
struct AccessView {
    customer: String,
    grants: Vec<GrantRow>,
    can_decide: bool,
    done: bool,
}

#[derive(Debug, Serialize)]
struct GrantRow {
    id: u64,
    username: String,
    reason: String,
    ticket: String,
    requested_at: String,
    ends_at: String,
    state: &'static str,
    decided: Option<String>,
    open: bool,
    live: bool,
}

fn grant_row(g: &AccessGrantRecord, now: Timestamp, t: &text::Text) -> GrantRow {
    let expired = g.ends_at <= now;
    let state = match g.status {
        AccessGrantStatus::Requested if expired => "grant_expired",
        AccessGrantStatus::Approved if expired => "grant_expired",
        AccessGrantStatus::Requested => "grant_requested",
        AccessGrantStatus::Approved => "grant_approved",
        AccessGrantStatus::Rejected => "grant_rejected",
        AccessGrantStatus::Revoked => "grant_revoked",
    };
    GrantRow {
        id: g.id,
        username: g.username.clone(),
        reason: g.reason.clone(),
        ticket: g.ticket.clone(),
        requested_at: when(g.requested_at),
        ends_at: when(g.ends_at),
        state: t.get(state),
        decided: super::done_by(t, g.decided_at, g.decided_by.as_deref()),
        open: g.status == AccessGrantStatus::Requested && !expired,
        live: g.status == AccessGrantStatus::Approved && !expired,
    }
}

/// `/c/{customer}/access`: staff access grants, with approve, reject and end for those who may.
pub(crate) async fn access(
    viewer: Viewer,
    state: St,
    PagePath(raw): PagePath<String>,
    PageQuery(q): PageQuery<DoneQuery>,
) -> Result<Page, PageError> {
    let id = customer_id(&viewer, &raw)?;
    let grants = state
        .staff_access
        .list(&viewer.caller.ctx, &viewer.caller.principal, &id)
        .await
        .map_err(|e| viewer.failed(e))?;
    let t = text::table(viewer.lang);
    let now = state.incidents.now();
    let view = AccessView {
        customer: id.to_string(),
        grants: grants.iter().rev().map(|g| grant_row(g, now, t)).collect(),
        can_decide: may(&viewer, Permission::AccessGrantsApprove, &id),
        done: q.done.is_some(),
    };
    viewer.page("access.html", Some(&id), view)
}

#[derive(Debug, Deserialize)]
pub(crate) struct GrantPath {
    customer: String,
    grant: u64,
    action: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Nothing {}

/// `POST /c/{customer}/access/{grant}/{approve|reject|end}`.
pub(crate) async fn decide_access(
    viewer: Viewer,
    state: St,
    PagePath(p): PagePath<GrantPath>,
    Form(_): Form<Nothing>,
) -> Result<Response, PageError> {
    let id = customer_id(&viewer, &p.customer)?;
    let (ctx, who) = (&viewer.caller.ctx, &viewer.caller.principal);
    let result = match p.action.as_str() {
        "approve" => state.staff_access.decide(ctx, who, &id, p.grant, true).await,
        "reject" => state.staff_access.decide(ctx, who, &id, p.grant, false).await,
        "end" => state.staff_access.revoke(ctx, who, &id, p.grant).await,
        _ => Err(Error::new(
            ErrorCode::BadRequest,
            "the action is `approve`, `reject` or `end`",
        )),
    };
    result.map_err(|e| viewer.failed(e))?;
    Ok(see_other(&format!("/c/{id}/access?done=1")))
}

#[derive(Debug, Serialize)]
struct IncidentsView {
    customer: String,
    incidents: Vec<IncidentRow>,
    can_acknowledge: bool,
    done: bool,
}

#[derive(Debug, Serialize)]
struct IncidentRow {
    id: u64,
    summary: String,
    status: &'static str,
    aware_at: String,
    due_at: Option<String>,
    notified_at: Option<String>,
    notices: Vec<NoticeRow>,
}

#[derive(Debug, Serialize)]
struct NoticeRow {
    id: u64,
    subject: String,
    body: String,
    created_at: String,
    delivered: Vec<String>,
    pending: usize,
    acknowledged: Option<String>,
}

/// `/c/{customer}/incidents`: every incident that touched the customer, with its notices.
pub(crate) async fn incidents(
    viewer: Viewer,
    state: St,
    PagePath(raw): PagePath<String>,
    PageQuery(q): PageQuery<DoneQuery>,
) -> Result<Page, PageError> {
    let id = customer_id(&viewer, &raw)?;
    let (ctx, who) = (&viewer.caller.ctx, &viewer.caller.principal);
    let list = state
        .incidents
        .list(ctx, who, Some(&id))
        .await
        .map_err(|e| viewer.failed(e))?;
    let t = text::table(viewer.lang);
    let mut rows = Vec::with_capacity(list.len());
    for i in list.iter().rev() {
        let notices = state
            .incidents
            .notices(ctx, who, Some(&id), i.id)
            .await
            .map_err(|e| viewer.failed(e))?;
        let mine = i.customers.iter().find(|c| c.customer == id);
        rows.push(IncidentRow {
            id: i.id,
            summary: i.details.summary.clone(),
            status: t.get(&format!("status_{}", i.status.as_str())),
            aware_at: when(i.aware_at),
            due_at: mine.map(|c| when(c.due_at)),
            notified_at: mine.and_then(|c| c.notified_at).map(when),
            notices: notices
                .iter()
                .map(|n| NoticeRow {
                    id: n.id,
                    subject: n.subject.clone(),
                    body: n.body.clone(),
                    created_at: when(n.created_at),
                    delivered: n
                        .deliveries
                        .iter()
                        .filter_map(|d| d.sent_at.map(|at| format!("{} ({})", d.recipient, when(at))))
                        .collect(),
                    pending: n.deliveries.iter().filter(|d| d.sent_at.is_none()).count(),
                    acknowledged: super::done_by(t, n.acknowledged_at, n.acknowledged_by.as_deref()),
                })
                .collect(),
        });
    }
    let view = IncidentsView {
        customer: id.to_string(),
        incidents: rows,
        can_acknowledge: may(&viewer, Permission::NoticesAcknowledge, &id),
        done: q.done.is_some(),
    };
    viewer.page("incidents.html", Some(&id), view)
}

#[derive(Debug, Deserialize)]
pub(crate) struct NoticePath {
    customer: String,
    notice: u64,
}

/// `POST /c/{customer}/notices/{notice}/acknowledge`.
pub(crate) async fn acknowledge(
    viewer: Viewer,
    state: St,
    PagePath(p): PagePath<NoticePath>,
    Form(_): Form<Nothing>,
) -> Result<Response, PageError> {
    let id = customer_id(&viewer, &p.customer)?;
    state
        .incidents
        .acknowledge(&viewer.caller.ctx, &viewer.caller.principal, &id, p.notice)
        .await
        .map_err(|e| viewer.failed(e))?;
    Ok(see_other(&format!("/c/{id}/incidents?done=1")))
}

// ----- machine tokens and the webhook -------------------------------------------------------

#[derive(Debug, Default, Serialize)]
struct TokensView {
    customer: String,
    tokens: Vec<TokenRow>,
    operations: Vec<String>,
    purposes: Vec<String>,
    secret: Option<String>,
    hook: Option<String>,
    hook_secret: Option<String>,
    can_hook: bool,
    error: Option<String>,
    done: bool,
}

#[derive(Debug, Serialize)]
struct TokenRow {
    id: String,
    operations: String,
    purposes: String,
    expires_at: String,
    created: String,
    revoked: Option<String>,
}

/// What the tokens page shows besides a secret just made.
async fn tokens_view(viewer: &Viewer, state: &St, id: &CustomerId) -> Result<TokensView, PageError> {
    let (ctx, who) = (&viewer.caller.ctx, &viewer.caller.principal);
    let tokens = state
        .accounts
        .tokens(ctx, who, id)
        .await
        .map_err(|e| viewer.failed(e))?;
    let t = text::table(viewer.lang);
    // What a token may be given: what the viewer may do for this customer, and the purposes of
    // the agreement in force.
    let mut operations: Vec<String> = who
        .grants
        .iter()
        .filter(|g| g.scope.customer() == Some(id))
        .flat_map(|g| g.role.permissions().iter().map(ToString::to_string))
        .collect();
    operations.sort();
    operations.dedup();
    let purposes = match state.agreements.in_force(ctx, who, id, None).await {
        Ok((v, _)) => v.agreement.processing.purposes.clone(),
        Err(_) => Vec::new(),
    };
    let can_hook = may(viewer, Permission::WebhooksManage, id);
    let hook = if can_hook {
        match state.incidents.webhook(ctx, who, id).await {
            Ok(h) => Some(h.url),
            Err(e) if e.code == ErrorCode::WebhookNotFound => None,
            Err(e) => return Err(viewer.failed(e)),
        }
    } else {
        None
    };
    Ok(TokensView {
        customer: id.to_string(),
        tokens: tokens
            .iter()
            .rev()
            .map(|k| TokenRow {
                id: k.id.clone(),
                operations: k.operations.join(", "),
                purposes: k.purposes.join(", "),
                expires_at: when(k.expires_at),
                created: super::done_by(t, Some(k.created_at), Some(&k.created_by)).unwrap_or_default(),
                revoked: super::done_by(t, k.revoked_at, k.revoked_by.as_deref()),
            })
            .collect(),
        operations,
        purposes,
        hook,
        can_hook,
        ..TokensView::default()
    })
}

/// `/c/{customer}/tokens`: machine tokens and the webhook.
pub(crate) async fn tokens(
    viewer: Viewer,
    state: St,
    PagePath(raw): PagePath<String>,
    PageQuery(q): PageQuery<DoneQuery>,
) -> Result<Page, PageError> {
    let id = customer_id(&viewer, &raw)?;
    let view = TokensView {
        done: q.done.is_some(),
        ..tokens_view(&viewer, &state, &id).await?
    };
    viewer.page("tokens.html", Some(&id), view)
}

/// `POST /c/{customer}/tokens`: a new token, shown once on the answer (never stored in the
/// clear, never in a URL). The form's checkboxes repeat their name, so it is read as pairs.
pub(crate) async fn create_token(
    viewer: Viewer,
    state: St,
    PagePath(raw): PagePath<String>,
    super::Pairs(form): super::Pairs,
) -> Result<Response, PageError> {
    let id = customer_id(&viewer, &raw)?;
    let t = text::table(viewer.lang);
    let mut operations = Vec::new();
    let mut purposes = Vec::new();
    let mut days = None;
    for (k, v) in &form {
        match k.as_str() {
            "operation" => operations.push(v.parse::<Permission>().map_err(|e| viewer.failed(e))?),
            "purpose" => purposes.push(v.clone()),
            "days" => days = v.trim().parse::<u32>().ok(),
            _ => {}
        }
    }
    let refuse = |message: String| async {
        let view = TokensView {
            error: Some(message),
            ..tokens_view(&viewer, &state, &id).await?
        };
        viewer
            .page("tokens.html", Some(&id), view)
            .map(|p| p.with_status(StatusCode::UNPROCESSABLE_ENTITY).into_response())
    };
    let Some(days) = days.filter(|d| (1..=365).contains(d)) else {
        return refuse(t.get("token_days_invalid").to_string()).await;
    };
    if operations.is_empty() {
        return refuse(t.get("token_needs_operation").to_string()).await;
    }
    let request = art28_service::accounts::TokenRequest {
        customer: id.clone(),
        operations,
        purposes,
        days,
    };
    let (secret, _) = match state
        .accounts
        .create_token(&viewer.caller.ctx, &viewer.caller.principal, request)
        .await
    {
        Ok(made) => made,
        Err(e) if e.kind() == art28_core::ErrorKind::Refused || e.kind() == art28_core::ErrorKind::Invalid => {
            return refuse(t.error(&e)).await;
        }
        Err(e) => return Err(viewer.failed(e)),
    };
    let view = TokensView {
        secret: Some(secrecy::ExposeSecret::expose_secret(&secret).to_string()),
        ..tokens_view(&viewer, &state, &id).await?
    };
    Ok(viewer.page("tokens.html", Some(&id), view)?.into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenPath {
    customer: String,
    token: String,
}

/// `POST /c/{customer}/tokens/{token}/revoke`.
pub(crate) async fn revoke_token(
    viewer: Viewer,
    state: St,
    PagePath(p): PagePath<TokenPath>,
    Form(_): Form<Nothing>,
) -> Result<Response, PageError> {
    let id = customer_id(&viewer, &p.customer)?;
    state
        .accounts
        .revoke_token(&viewer.caller.ctx, &viewer.caller.principal, &id, &p.token)
        .await
        .map_err(|e| viewer.failed(e))?;
    Ok(see_other(&format!("/c/{id}/tokens?done=1")))
}

#[derive(Debug, Deserialize)]
pub(crate) struct HookForm {
    url: String,
}

/// `POST /c/{customer}/webhook`: set the webhook (its signing secret shown once) or, with an
/// empty address, remove it.
pub(crate) async fn set_webhook(
    viewer: Viewer,
    state: St,
    PagePath(raw): PagePath<String>,
    Form(form): Form<HookForm>,
) -> Result<Response, PageError> {
    let id = customer_id(&viewer, &raw)?;
    let (ctx, who) = (&viewer.caller.ctx, &viewer.caller.principal);
    if form.url.trim().is_empty() {
        state
            .incidents
            .remove_webhook(ctx, who, &id)
            .await
            .map_err(|e| viewer.failed(e))?;
        return Ok(see_other(&format!("/c/{id}/tokens?done=1")));
    }
    match state.incidents.set_webhook(ctx, who, &id, form.url.trim()).await {
        Ok((_, secret)) => {
            let view = TokensView {
                hook_secret: Some(secret),
                ..tokens_view(&viewer, &state, &id).await?
            };
            Ok(viewer.page("tokens.html", Some(&id), view)?.into_response())
        }
        Err(e) if e.code == ErrorCode::WebhookInvalid => {
            let view = TokensView {
                error: Some(t_error(&viewer, &e)),
                ..tokens_view(&viewer, &state, &id).await?
            };
            Ok(viewer
                .page("tokens.html", Some(&id), view)?
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
        Err(e) => Err(viewer.failed(e)),
    }
}

fn t_error(viewer: &Viewer, e: &Error) -> String {
    text::table(viewer.lang).error(e)
}
