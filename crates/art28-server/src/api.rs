//! The JSON API under `/api/v1`, and the OpenAPI document generated from it.
//!
//! Handlers only extract, call one service method, and map: no rule lives here. Each
//! handler's signature shows what it requires: `Authorized<perm::X>` checks permission X for the
//! customer in the path; `Caller` means the handler authorizes once it knows the customer.

use crate::auth::{Authorized, Caller, perm};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, TomlBody};
use crate::extract::{Path, Query};
use crate::state::AppState;
use aide::axum::routing::{delete_with as axum_delete, get_with, post_with, put_with};
use aide::axum::{ApiRouter, IntoApiResponse};
use aide::openapi::{Info, OpenApi};
use aide::transform::TransformOperation;
use art28_core::ErrorCode;
use art28_core::agreement::ProcessorAgreement;
use art28_core::ids::{AgreementId, CustomerId};
use art28_core::lang::Lang;
use art28_core::vocabulary::Vocabulary;
use art28_render::DocFormat;
use art28_service::records::{AgreementVersion, AgreementVersionMeta, ContactRecord, CustomerRecord};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

// ---------- response and request bodies ----------

/// A customer of the processor.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CustomerView {
    /// Id.
    pub id: String,
    /// Legal name.
    pub name: String,
    /// Language of documents and notices (`nl` or `en`).
    pub language: Lang,
    /// `active`, `suspended`, `terminated` or `erased`.
    pub status: String,
    /// When the customer was added (RFC 3339, UTC).
    pub created_at: String,
}

impl From<CustomerRecord> for CustomerView {
    fn from(c: CustomerRecord) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name,
            language: c.language,
            status: c.status.as_str().to_string(),
            created_at: c.created_at.to_string(),
        }
    }
}

/// A contact of a customer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ContactView {
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Telephone.
    pub phone: Option<String>,
    /// Language for messages.
    pub language: Lang,
    /// What the contact is for, e.g. `breach_notice`.
    pub roles: Vec<art28_core::agreement::ContactRole>,
}

impl From<ContactRecord> for ContactView {
    fn from(c: ContactRecord) -> Self {
        Self {
            name: c.name,
            email: c.email,
            phone: c.phone,
            language: c.language,
            roles: c.roles,
        }
    }
}

/// A customer with its contacts and the agreement in force.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CustomerDetail {
    /// The customer.
    pub customer: CustomerView,
    /// Its contacts, as of its latest agreement version.
    pub contacts: Vec<ContactView>,
    /// The agreement version in force today, if any.
    pub agreement_in_force: Option<VersionView>,
}

/// What is recorded about an agreement version.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionView {
    /// Agreement id.
    pub id: String,
    /// Version.
    pub version: u32,
    /// `standard` or `customer`.
    pub kind: art28_core::agreement::AgreementKind,
    /// The customer, for a customer agreement.
    pub customer: Option<String>,
    /// In force from (YYYY-MM-DD).
    pub effective_from: String,
    /// The standard agreement it deviates from, as `id@version`.
    pub based_on: Option<String>,
    /// SHA-256 of the submitted text (hex).
    pub sha256: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When (RFC 3339, UTC).
    pub recorded_at: String,
}

impl From<AgreementVersionMeta> for VersionView {
    fn from(m: AgreementVersionMeta) -> Self {
        Self {
            id: m.id.to_string(),
            version: m.version,
            kind: m.kind,
            customer: m.customer.map(|c| c.to_string()),
            effective_from: m.effective_from.to_string(),
            based_on: m.based_on.map(|(id, v)| format!("{id}@{v}")),
            sha256: m.sha256,
            recorded_by: m.recorded_by,
            recorded_at: m.recorded_at.to_string(),
        }
    }
}

/// An agreement version with its content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgreementView {
    /// What is recorded about the version.
    pub version: VersionView,
    /// The agreement, merged with its standard agreement where it deviates from one.
    pub agreement: ProcessorAgreement,
}

impl From<AgreementVersion> for AgreementView {
    fn from(v: AgreementVersion) -> Self {
        Self {
            version: v.meta.into(),
            agreement: v.agreement,
        }
    }
}

/// A customer to add.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomerBody {
    /// Id: 2-64 characters a-z, 0-9 and inner hyphens; never reused.
    pub id: String,
    /// Legal name.
    pub name: String,
    /// Language of documents and notices.
    #[serde(default)]
    pub language: Lang,
}

/// The processor running this art28.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProcessorView {
    /// Legal name.
    pub name: String,
    /// Registration.
    pub registration: String,
    /// Country.
    pub country: String,
}

/// A term of the vocabulary.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TermView {
    /// Stable id.
    pub id: &'static str,
    /// W3C DPV IRI.
    pub dpv: String,
    /// Fideslang key.
    pub fideslang: Option<&'static str>,
    /// Dutch label.
    pub nl: &'static str,
    /// English label.
    pub en: &'static str,
    /// Special category (GDPR art 9/10).
    pub special: bool,
}

/// The whole vocabulary.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VocabularyView {
    /// Categories of data subjects.
    pub data_subjects: Vec<TermView>,
    /// Categories of personal data.
    pub personal_data: Vec<TermView>,
    /// Purposes.
    pub purposes: Vec<TermView>,
    /// Processing operations.
    pub processing_operations: Vec<TermView>,
    /// Security measures.
    pub security_measures: Vec<TermView>,
}

/// Health of the server.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Health {
    /// `ok` when the store answers.
    pub status: &'static str,
    /// Version of art28.
    pub version: &'static str,
}

// ---------- parameters ----------

/// Path with a customer id.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CustomerPath {
    /// Customer id.
    pub customer: String,
}

/// Path with an agreement id.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AgreementPath {
    /// Agreement id.
    pub agreement: String,
}

/// Path with an agreement id and version.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct VersionPath {
    /// Agreement id.
    pub agreement: String,
    /// Version number.
    pub version: art28_core::number::Bounded<1, 4_294_967_295>,
}

/// Which date to look at.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct OnQuery {
    /// Date (YYYY-MM-DD); today when absent.
    pub on: Option<String>,
}

/// How to render a document.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DocumentQuery {
    /// `nl` or `en`; the customer's language when absent.
    pub lang: Option<String>,
    /// `html` (default) or `md`.
    pub format: Option<String>,
    /// Date (YYYY-MM-DD) of the version to render; today when absent.
    pub on: Option<String>,
}

/// A customer id from a path or body, refused as `bad_request` when malformed.
pub(crate) fn customer_id(s: &str) -> ApiResult<CustomerId> {
    Ok(s.parse()?)
}

fn agreement_id(s: &str) -> ApiResult<AgreementId> {
    Ok(s.parse()?)
}

fn date_arg(on: Option<&str>) -> ApiResult<Option<art28_core::date::Date>> {
    on.map(|s| s.parse().map_err(|m: String| ApiError::new(ErrorCode::BadRequest, m)))
        .transpose()
}

/// A response with the id of its access entry in the `x-art28-access-id` header.
#[derive(Debug)]
pub struct WithAccess<T>(pub String, pub T);

impl<T: IntoResponse> IntoResponse for WithAccess<T> {
    fn into_response(self) -> axum::response::Response {
        let mut r = self.1.into_response();
        if !self.0.is_empty()
            && let Ok(v) = axum::http::HeaderValue::from_str(&self.0)
        {
            r.headers_mut().insert("x-art28-access-id", v);
        }
        r
    }
}

impl<T: aide::OperationOutput> aide::OperationOutput for WithAccess<T> {
    type Inner = T::Inner;
    fn operation_response(
        ctx: &mut aide::generate::GenContext,
        op: &mut aide::openapi::Operation,
    ) -> Option<aide::openapi::Response> {
        T::operation_response(ctx, op)
    }
    fn inferred_responses(
        ctx: &mut aide::generate::GenContext,
        op: &mut aide::openapi::Operation,
    ) -> Vec<(Option<u16>, aide::openapi::Response)> {
        T::inferred_responses(ctx, op)
    }
}

// ---------- handlers ----------

async fn health(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state.agreements.ping().await?;
    Ok(Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    }))
}

async fn openapi_json(State(state): State<AppState>) -> impl IntoApiResponse {
    Json(state.openapi.as_ref().clone())
}

async fn get_processor(_: Caller, State(state): State<AppState>) -> ApiResult<Json<ProcessorView>> {
    let p = state.agreements.processor().await?;
    Ok(Json(ProcessorView {
        name: p.name,
        registration: p.registration,
        country: p.country,
    }))
}

async fn list_customers(op: Caller, State(state): State<AppState>) -> ApiResult<Json<Vec<CustomerView>>> {
    let visible = state.agreements.customers(&op.principal).await?;
    Ok(Json(visible.into_iter().map(Into::into).collect()))
}

async fn create_customer(
    op: Authorized<perm::CustomersManage>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewCustomerBody>,
) -> ApiResult<WithAccess<(StatusCode, Json<CustomerView>)>> {
    let id = customer_id(&body.id)?;
    let created = state
        .agreements
        .create_customer(&op.ctx, &op.principal, id, &body.name, body.language)
        .await?;
    Ok(WithAccess(
        created.receipt.access_id,
        (StatusCode::CREATED, Json(created.value.into())),
    ))
}

async fn get_customer(
    op: Authorized<perm::AgreementsRead>,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
) -> ApiResult<WithAccess<Json<CustomerDetail>>> {
    let id = customer_id(&p.customer)?;
    let (detail, receipt) = state.agreements.customer(&op.ctx, &op.principal, &id).await?;
    Ok(WithAccess(
        receipt.access_id,
        Json(CustomerDetail {
            customer: detail.customer.into(),
            contacts: detail.contacts.into_iter().map(Into::into).collect(),
            agreement_in_force: detail.in_force.map(Into::into),
        }),
    ))
}

async fn customer_history(
    op: Authorized<perm::AgreementsRead>,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
) -> ApiResult<WithAccess<Json<Vec<VersionView>>>> {
    let id = customer_id(&p.customer)?;
    let (history, receipt) = state.agreements.history(&op.ctx, &op.principal, &id).await?;
    Ok(WithAccess(
        receipt.access_id,
        Json(history.into_iter().map(Into::into).collect()),
    ))
}

async fn customer_agreement(
    op: Authorized<perm::AgreementsRead>,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    Query(q): Query<OnQuery>,
) -> ApiResult<WithAccess<Json<AgreementView>>> {
    let id = customer_id(&p.customer)?;
    let on = date_arg(q.on.as_deref())?;
    let (v, receipt) = state.agreements.in_force(&op.ctx, &op.principal, &id, on).await?;
    Ok(WithAccess(receipt.access_id, Json(v.into())))
}

/// A rendered document.
#[derive(Debug)]
pub struct Document {
    body: String,
    content_type: &'static str,
}

impl IntoResponse for Document {
    fn into_response(self) -> axum::response::Response {
        ([(header::CONTENT_TYPE, self.content_type)], self.body).into_response()
    }
}

impl aide::OperationOutput for Document {
    type Inner = String;
    fn operation_response(
        ctx: &mut aide::generate::GenContext,
        op: &mut aide::openapi::Operation,
    ) -> Option<aide::openapi::Response> {
        text_output(
            ctx,
            op,
            "The agreement as an HTML or Markdown document.",
            &["text/html", "text/markdown"],
        )
    }
    fn inferred_responses(
        ctx: &mut aide::generate::GenContext,
        op: &mut aide::openapi::Operation,
    ) -> Vec<(Option<u16>, aide::openapi::Response)> {
        Self::operation_response(ctx, op)
            .map(|r| vec![(Some(200), r)])
            .unwrap_or_default()
    }
}

/// A text answer of one media type (the register as CSV, the deadlines as a calendar), with
/// its `Content-Disposition` and its place in the OpenAPI document.
macro_rules! text_answer {
    ($(#[$doc:meta])* $name:ident, $media:literal, $disposition:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(String);

        impl axum::response::IntoResponse for $name {
            fn into_response(self) -> axum::response::Response {
                axum::response::IntoResponse::into_response((
                    [
                        (axum::http::header::CONTENT_TYPE, concat!($media, "; charset=utf-8")),
                        (axum::http::header::CONTENT_DISPOSITION, $disposition),
                    ],
                    self.0,
                ))
            }
        }

        impl aide::OperationOutput for $name {
            type Inner = String;
            fn operation_response(
                ctx: &mut aide::generate::GenContext,
                op: &mut aide::openapi::Operation,
            ) -> Option<aide::openapi::Response> {
                crate::api::text_output(ctx, op, $what, &[$media])
            }
            fn inferred_responses(
                ctx: &mut aide::generate::GenContext,
                op: &mut aide::openapi::Operation,
            ) -> Vec<(Option<u16>, aide::openapi::Response)> {
                Self::operation_response(ctx, op)
                    .map(|r| vec![(Some(200), r)])
                    .unwrap_or_default()
            }
        }
    };
}
pub(crate) use text_answer;

/// The OpenAPI response of a text body served as one of `media` types.
pub(crate) fn text_output(
    ctx: &mut aide::generate::GenContext,
    op: &mut aide::openapi::Operation,
    description: &str,
    media: &[&str],
) -> Option<aide::openapi::Response> {
    let mut r = <String as aide::OperationOutput>::operation_response(ctx, op)?;
    r.description = description.into();
    if let Some(schema) = r
        .content
        .shift_remove("text/plain; charset=utf-8")
        .or_else(|| r.content.shift_remove("text/plain"))
    {
        for m in media {
            r.content.insert((*m).into(), schema.clone());
        }
    }
    Some(r)
}

async fn customer_document(
    op: Authorized<perm::AgreementsRead>,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    Query(q): Query<DocumentQuery>,
) -> ApiResult<WithAccess<Document>> {
    let id = customer_id(&p.customer)?;
    let lang: Option<Lang> = q
        .lang
        .as_deref()
        .map(|s| s.parse().map_err(|m: String| ApiError::new(ErrorCode::BadRequest, m)))
        .transpose()?;
    let format = match q.format.as_deref() {
        None | Some("html") => DocFormat::Html,
        Some("md") | Some("markdown") => DocFormat::Markdown,
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                format!("unknown format `{other}`; use `html` or `md`"),
            ));
        }
    };
    let on = date_arg(q.on.as_deref())?;
    let (body, receipt) = state
        .agreements
        .document(&op.ctx, &op.principal, &id, lang, format, on)
        .await?;
    Ok(WithAccess(
        receipt.access_id,
        Document {
            body,
            content_type: match format {
                DocFormat::Html | DocFormat::HtmlBody => "text/html; charset=utf-8",
                DocFormat::Markdown => "text/markdown; charset=utf-8",
            },
        },
    ))
}

async fn standard_agreements(op: Caller, State(state): State<AppState>) -> ApiResult<Json<Vec<VersionView>>> {
    let list = state.agreements.standard_agreements(&op.principal).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

async fn agreement_versions(
    op: Caller,
    State(state): State<AppState>,
    Path(p): Path<AgreementPath>,
) -> ApiResult<WithAccess<Json<Vec<VersionView>>>> {
    let id = agreement_id(&p.agreement)?;
    let (versions, receipt) = state.agreements.versions(&op.ctx, &op.principal, &id).await?;
    Ok(WithAccess(
        receipt.map(|r| r.access_id).unwrap_or_default(),
        Json(versions.into_iter().map(Into::into).collect()),
    ))
}

/// A stored version, after the service's checks (a customer's version is logged as read;
/// standard agreements are not any customer's data).
async fn stored_version(state: &AppState, op: &Caller, p: &VersionPath) -> ApiResult<(AgreementVersion, String)> {
    let id = agreement_id(&p.agreement)?;
    // In range for a `u32` by its type.
    let version = u32::try_from(p.version.get()).unwrap_or(u32::MAX);
    let (v, receipt) = state.agreements.version(&op.ctx, &op.principal, &id, version).await?;
    Ok((v, receipt.map(|r| r.access_id).unwrap_or_default()))
}

async fn agreement_version(
    op: Caller,
    State(state): State<AppState>,
    Path(p): Path<VersionPath>,
) -> ApiResult<WithAccess<Json<AgreementView>>> {
    let (v, access_id) = stored_version(&state, &op, &p).await?;
    Ok(WithAccess(access_id, Json(v.into())))
}

async fn agreement_source(
    op: Caller,
    State(state): State<AppState>,
    Path(p): Path<VersionPath>,
) -> ApiResult<WithAccess<String>> {
    let (v, access_id) = stored_version(&state, &op, &p).await?;
    Ok(WithAccess(access_id, v.source))
}

async fn record_agreement(
    op: Authorized<perm::AgreementsManage>,
    State(state): State<AppState>,
    TomlBody(body): TomlBody,
) -> ApiResult<WithAccess<(StatusCode, Json<VersionView>)>> {
    let v = state
        .agreements
        .record(&op.ctx, &op.principal, "request body", &body)
        .await?;
    Ok(WithAccess(
        v.receipt.access_id,
        (StatusCode::CREATED, Json(v.value.meta.into())),
    ))
}

async fn vocabulary(_: Caller) -> Json<VocabularyView> {
    let list = |v: Vocabulary| {
        v.terms()
            .iter()
            .map(|t| TermView {
                id: t.id,
                dpv: t.dpv_iri(),
                fideslang: t.fideslang,
                nl: t.nl,
                en: t.en,
                special: t.special,
            })
            .collect()
    };
    Json(VocabularyView {
        data_subjects: list(Vocabulary::DataSubjects),
        personal_data: list(Vocabulary::PersonalData),
        purposes: list(Vocabulary::Purposes),
        processing_operations: list(Vocabulary::ProcessingOperations),
        security_measures: list(Vocabulary::SecurityMeasures),
    })
}

// ---------- routes ----------

/// Summary and tag of an operation, and its success answer where aide cannot see it: a
/// handler that answers `(StatusCode, body)` or a bare `StatusCode` documents nothing itself.
macro_rules! doc {
    ($summary:expr, $tag:expr) => {
        |op: TransformOperation<'_>| op.summary($summary).tag($tag)
    };
    ($summary:expr, $tag:expr, created: $body:ty) => {
        |op: TransformOperation<'_>| op.summary($summary).tag($tag).response::<201, $body>()
    };
    ($summary:expr, $tag:expr, no_content) => {
        |op: TransformOperation<'_>| op.summary($summary).tag($tag).response::<204, ()>()
    };
}

/// Every route of the server, documented.
pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/healthz",
            get_with(health, doc!("Health of the server and its store", "meta")),
        )
        .api_route(
            "/api/openapi.json",
            get_with(openapi_json, doc!("This OpenAPI document", "meta")),
        )
        .api_route(
            "/api/v1/processor",
            get_with(get_processor, doc!("The processor running this art28", "processor")),
        )
        .api_route(
            "/api/v1/customers",
            get_with(list_customers, doc!("List customers", "customers")).post_with(
                create_customer,
                doc!("Add a customer", "customers", created: Json<CustomerView>),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}",
            get_with(
                get_customer,
                doc!("A customer with contacts and the agreement in force", "customers"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/agreements",
            get_with(
                customer_history,
                doc!("History of the customer's agreement versions", "agreements"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/agreement",
            get_with(
                customer_agreement,
                doc!("The customer's agreement in force (today or on a date)", "agreements"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/agreement/document",
            get_with(
                customer_document,
                doc!(
                    "The agreement in force as a readable document (NL/EN, HTML/Markdown)",
                    "agreements"
                ),
            ),
        )
        .api_route(
            "/api/v1/agreements",
            post_with(
                record_agreement,
                doc!("Record a new agreement version (TOML body)", "agreements", created: Json<VersionView>),
            ),
        )
        .api_route(
            "/api/v1/agreements/standard",
            get_with(
                standard_agreements,
                doc!("Latest version of each standard agreement", "agreements"),
            ),
        )
        .api_route(
            "/api/v1/agreements/{agreement}/versions",
            get_with(agreement_versions, doc!("Versions of an agreement", "agreements")),
        )
        .api_route(
            "/api/v1/agreements/{agreement}/versions/{version}",
            get_with(agreement_version, doc!("One agreement version", "agreements")),
        )
        .api_route(
            "/api/v1/agreements/{agreement}/versions/{version}/source",
            get_with(
                agreement_source,
                doc!("The TOML text of a version, as submitted", "agreements"),
            ),
        )
        .api_route(
            "/api/v1/session",
            post_with(
                crate::session_api::login,
                doc!(
                    "Log in with user name and password; returns a session key",
                    "accounts",
                    created: Json<crate::session_api::SessionView>
                ),
            )
            .delete_with(crate::session_api::logout, doc!("Log out", "accounts", no_content)),
        )
        .api_route(
            "/api/v1/security/events",
            get_with(
                crate::session_api::security_events,
                doc!("Security events: failed logins, lockouts, grants", "accounts"),
            ),
        )
        .api_route(
            "/api/v1/accounts/{account}/enable",
            post_with(
                crate::session_api::enable_account,
                doc!("Re-enable a disabled account (audited)", "accounts"),
            ),
        )
        .api_route(
            "/api/v1/accounts/{account}/block",
            post_with(
                crate::session_api::block_account,
                doc!(
                    "Block a fellow representative for at most the agreement's term",
                    "accounts"
                ),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/tokens",
            get_with(
                crate::session_api::list_tokens,
                doc!("The customer's machine tokens (no secrets)", "accounts"),
            )
            .post_with(
                crate::session_api::create_token,
                doc!(
                    "Issue a machine token for one customer, some operations and purposes",
                    "accounts",
                    created: Json<crate::session_api::TokenView>
                ),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/tokens/{token}",
            axum_delete(
                crate::session_api::revoke_token,
                doc!("Revoke a machine token", "accounts", no_content),
            ),
        )
        .api_route(
            "/api/v1/accounts/{account}/grants",
            post_with(
                crate::session_api::add_grant,
                doc!("Give an account a role", "accounts", created: Json<crate::session_api::GrantView>),
            ),
        )
        .api_route(
            "/api/v1/grants",
            get_with(
                crate::session_api::grant_register,
                doc!("The permission register", "accounts"),
            ),
        )
        .api_route(
            "/api/v1/grants/{grant}",
            axum_delete(crate::session_api::revoke_grant, doc!("Revoke a grant", "accounts")),
        )
        .api_route(
            "/api/v1/customers/{customer}/access-grants",
            get_with(
                crate::staff_access_api::list,
                doc!("Every staff access grant for the customer", "access"),
            )
            .post_with(
                crate::staff_access_api::request,
                doc!(
                    "Ask for time-bound access to the customer's data",
                    "access",
                    created: Json<crate::staff_access_api::AccessGrantView>
                ),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/access-grants/{grant}/{action}",
            post_with(
                crate::staff_access_api::decide,
                doc!("Approve, reject or end an access grant", "access"),
            ),
        )
        .api_route(
            "/api/v1/accounts/{account}/password-disclosed",
            post_with(
                crate::session_api::password_disclosed,
                doc!(
                    "Mark a password as disclosed: sessions end, a change is forced",
                    "accounts"
                ),
            ),
        )
        .api_route(
            "/api/v1/session/password",
            post_with(
                crate::session_api::change_password,
                doc!("Change your own password", "accounts", no_content),
            ),
        )
        .api_route(
            "/api/v1/accounts",
            get_with(
                crate::session_api::list_accounts,
                doc!("List accounts (all, or one customer's)", "accounts"),
            )
            .post_with(
                crate::session_api::create_account,
                doc!(
                    "Add an account with one role",
                    "accounts",
                    created: Json<crate::session_api::AccountView>
                ),
            ),
        )
        .api_route(
            "/api/v1/log/checkpoint",
            get_with(
                crate::log_api::latest_checkpoint,
                doc!("The latest signed checkpoint of the access log", "log"),
            ),
        )
        .api_route(
            "/api/v1/log/consistency",
            get_with(
                crate::log_api::consistency,
                doc!("Consistency proof between two checkpoints", "log"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/log",
            get_with(
                crate::log_api::customer_log,
                doc!("A customer's access entries with inclusion proofs", "log"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/log/bundle",
            get_with(
                crate::log_api::customer_bundle,
                doc!("Evidence bundle for offline verification (`art28 log verify`)", "log"),
            ),
        )
        .api_route(
            "/.well-known/art28/log-key",
            get_with(
                crate::log_api::public_key,
                doc!("The access log's public key (C2SP verifier key)", "log"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/vault/collections",
            get_with(
                crate::vault_api::list_collections,
                doc!("The customer's vault collections", "vault"),
            )
            .post_with(
                crate::vault_api::define_collection,
                doc!(
                    "Define a collection; every field's category must be in the agreement",
                    "vault",
                    created: Json<art28_core::vault::CollectionDef>
                ),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/vault/collections/{collection}/records",
            get_with(
                crate::vault_api::list_records,
                doc!("A page of a collection's records", "vault"),
            )
            .post_with(
                crate::vault_api::create_record,
                doc!("Add a record about a data subject", "vault", created: Json<crate::vault_api::Written>),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/vault/collections/{collection}/import",
            post_with(
                crate::vault_api::import_records,
                doc!(
                    "Import records under one access entry",
                    "vault",
                    created: Json<crate::vault_api::Imported>
                ),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/vault/collections/{collection}/records/{id}",
            get_with(crate::vault_api::read_record, doc!("One record", "vault"))
                .patch_with(crate::vault_api::update_record, doc!("Change a record", "vault"))
                .delete_with(
                    crate::vault_api::delete_record,
                    doc!("Delete a record", "vault", no_content),
                ),
        )
        .api_route(
            "/api/v1/customers/{customer}/vault/lookup",
            post_with(
                crate::vault_api::lookup,
                doc!(
                    "All records of one data subject (by reference, e-mail, phone or id)",
                    "vault"
                ),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/vault/erase-subject",
            post_with(
                crate::vault_api::erase_subject,
                doc!(
                    "Erase a data subject: its key is destroyed, its records removed",
                    "vault"
                ),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/vault/erase",
            post_with(
                crate::vault_api::erase_tenant,
                doc!(
                    "Erase all of the customer's data: its key at once, the rows in the background",
                    "vault"
                ),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/vault/legal-holds",
            get_with(crate::vault_api::list_holds, doc!("Legal holds", "vault")).post_with(
                crate::vault_api::place_hold,
                doc!("Place a legal hold", "vault", created: Json<crate::vault_api::HoldView>),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/vault/legal-holds/{id}",
            axum_delete(
                crate::vault_api::lift_hold,
                doc!("Lift a legal hold", "vault", no_content),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/vault/export",
            post_with(
                crate::vault_api::export,
                doc!("Export the customer's data, whole or pseudonymised", "vault"),
            ),
        )
        .api_route(
            "/api/v1/vault/master-key/rotate",
            post_with(
                crate::vault_api::rotate_master_key,
                doc!("Rotate the vault's master key without downtime", "vault"),
            ),
        )
        .api_route(
            "/api/v1/incidents",
            get_with(crate::incident_api::list, doc!("The incident register", "incidents")).post_with(
                crate::incident_api::report,
                doc!(
                    "Register a security incident (staff)",
                    "incidents",
                    created: Json<crate::incident_api::IncidentView>
                ),
            ),
        )
        .api_route(
            "/api/v1/incidents/scope",
            post_with(
                crate::incident_api::scope,
                doc!(
                    "Search the access log: customers, records, data subjects and categories reached",
                    "incidents"
                ),
            ),
        )
        .api_route(
            "/api/v1/incidents/deadlines",
            get_with(
                crate::incident_api::deadlines,
                doc!("Notice deadlines of open incidents and where they stand", "incidents"),
            ),
        )
        .api_route(
            "/api/v1/deadlines",
            get_with(
                crate::deadline_api::list,
                doc!(
                    "Every deadline the caller may see, overdue first, then due soon, open, met",
                    "deadlines"
                ),
            ),
        )
        .api_route(
            "/api/v1/deadlines.ics",
            get_with(
                crate::deadline_api::feed,
                doc!(
                    "The deadlines still running as an iCalendar (RFC 5545) feed",
                    "deadlines"
                ),
            ),
        )
        .api_route(
            "/api/v1/incidents/export.json",
            get_with(
                crate::incident_api::export_json,
                doc!("The whole register as JSON", "incidents"),
            ),
        )
        .api_route(
            "/api/v1/incidents/export.csv",
            get_with(
                crate::incident_api::export_csv,
                doc!("The whole register as CSV", "incidents"),
            ),
        )
        .api_route(
            "/api/v1/incidents/{id}",
            get_with(
                crate::incident_api::get,
                doc!("One incident with its history", "incidents"),
            ),
        )
        .api_route(
            "/api/v1/incidents/{id}/details",
            put_with(
                crate::incident_api::update_details,
                doc!("Replace what is known about an incident", "incidents"),
            ),
        )
        .api_route(
            "/api/v1/incidents/{id}/step",
            post_with(
                crate::incident_api::step,
                doc!(
                    "Take a step in the workflow (triage, not a breach, breach, close)",
                    "incidents"
                ),
            ),
        )
        .api_route(
            "/api/v1/incidents/{id}/customers",
            put_with(
                crate::incident_api::set_customers,
                doc!(
                    "Name the customers an incident touches; sets their notice deadlines",
                    "incidents"
                ),
            ),
        )
        .api_route(
            "/api/v1/incidents/{id}/notices/preview",
            post_with(
                crate::incident_api::preview,
                doc!(
                    "The notices a send would queue now, to check before confirming",
                    "incidents"
                ),
            ),
        )
        .api_route(
            "/api/v1/incidents/{id}/notices",
            get_with(
                crate::incident_api::notices,
                doc!("Notices of an incident as sent, with delivery status", "incidents"),
            )
            .post_with(
                crate::incident_api::send,
                doc!(
                    "Confirm and send the first notices or an update",
                    "incidents",
                    created: Json<Vec<crate::incident_api::NoticeView>>
                ),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/incidents",
            get_with(
                crate::incident_api::customer_list,
                doc!("Incidents that touch the customer", "incidents"),
            )
            .post_with(
                crate::incident_api::customer_report,
                doc!(
                    "The customer reports a breach, incident, account misuse or inspection",
                    "incidents",
                    created: Json<crate::incident_api::IncidentView>
                ),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/incidents/deadlines",
            get_with(
                crate::incident_api::customer_deadlines,
                doc!("The customer's notice deadlines and its own 72-hour terms", "incidents"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/incidents/export.json",
            get_with(
                crate::incident_api::customer_export_json,
                doc!("The customer's incidents as JSON", "incidents"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/incidents/export.csv",
            get_with(
                crate::incident_api::customer_export_csv,
                doc!("The customer's incidents as CSV", "incidents"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/incidents/{id}",
            get_with(
                crate::incident_api::customer_get,
                doc!("One of the customer's incidents", "incidents"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/incidents/{id}/notices",
            get_with(
                crate::incident_api::customer_notices,
                doc!("The notices the customer was sent about an incident", "incidents"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/notices/{notice}/acknowledge",
            post_with(
                crate::incident_api::acknowledge,
                doc!("Acknowledge receipt of a breach notice", "incidents"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/webhook",
            get_with(
                crate::incident_api::get_webhook,
                doc!("The customer's webhook for breach notices", "incidents"),
            )
            .put_with(
                crate::incident_api::set_webhook,
                doc!(
                    "Set the customer's webhook; the answer holds its signing secret, once",
                    "incidents"
                ),
            )
            .delete_with(
                crate::incident_api::remove_webhook,
                doc!("Remove the customer's webhook", "incidents", no_content),
            ),
        )
        .api_route(
            "/api/v1/subprocessors",
            get_with(
                crate::subprocessor_api::entries,
                doc!("The sub-processor register (staff)", "subprocessors"),
            )
            .post_with(
                crate::subprocessor_api::register,
                doc!(
                    "Register a sub-processor",
                    "subprocessors",
                    created: Json<crate::subprocessor_api::SubprocessorView>
                ),
            ),
        )
        .api_route(
            "/api/v1/subprocessors/{id}",
            get_with(
                crate::subprocessor_api::entry,
                doc!("One sub-processor with its history", "subprocessors"),
            )
            .put_with(
                crate::subprocessor_api::update,
                doc!("Change a sub-processor's entry at the version read", "subprocessors"),
            ),
        )
        .api_route(
            "/api/v1/subprocessors/{id}/contract",
            get_with(
                crate::subprocessor_api::contract,
                doc!("The signed contract's document", "subprocessors"),
            )
            .put_with(
                crate::subprocessor_api::put_contract,
                doc!("Keep the signed contract (the document as the body)", "subprocessors"),
            ),
        )
        .api_route(
            "/api/v1/subprocessor-changes",
            get_with(
                crate::subprocessor_api::changes,
                doc!("Every announced change (staff)", "subprocessors"),
            )
            .post_with(
                crate::subprocessor_api::announce,
                doc!(
                    "Announce a change to the customers it reaches, judged by each one's agreement",
                    "subprocessors",
                    created: Json<crate::subprocessor_api::ChangeView>
                ),
            ),
        )
        .api_route(
            "/api/v1/subprocessor-changes/{id}",
            get_with(
                crate::subprocessor_api::change,
                doc!("One change with every customer's answer", "subprocessors"),
            ),
        )
        .api_route(
            "/api/v1/subprocessor-changes/{id}/announcements",
            get_with(
                crate::subprocessor_api::announcements,
                doc!("The announcements of a change, with their deliveries", "subprocessors"),
            ),
        )
        .api_route(
            "/api/v1/subprocessor-changes/{id}/customers/{customer}/decision",
            post_with(
                crate::subprocessor_api::decide,
                doc!("Decide on a customer's objection", "subprocessors"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/subprocessors",
            get_with(
                crate::subprocessor_api::in_force,
                doc!(
                    "The customer's sub-processors in force (today or on a date), as JSON, CSV or HTML",
                    "subprocessors"
                ),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/subprocessor-changes",
            get_with(
                crate::subprocessor_api::customer_changes,
                doc!("The changes announced to the customer", "subprocessors"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/subprocessor-changes/{id}",
            get_with(
                crate::subprocessor_api::customer_change,
                doc!("One change announced to the customer", "subprocessors"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/subprocessor-changes/{id}/objection",
            post_with(
                crate::subprocessor_api::object,
                doc!("Object to a change (general authorisation)", "subprocessors"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/subprocessor-changes/{id}/approval",
            post_with(
                crate::subprocessor_api::approve,
                doc!(
                    "Approve a change in writing, or not (specific authorisation)",
                    "subprocessors"
                ),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/subprocessor-list-requests",
            get_with(
                crate::subprocessor_api::list_requests,
                doc!("The customer's requests for the list", "subprocessors"),
            )
            .post_with(
                crate::subprocessor_api::request_list,
                doc!(
                    "Ask for the list of sub-processors in force",
                    "subprocessors",
                    created: Json<crate::subprocessor_api::ListRequestView>
                ),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/subprocessor-list-requests/{id}/answer",
            post_with(
                crate::subprocessor_api::answer_list,
                doc!("Answer a request with the list in force on a date", "subprocessors"),
            ),
        )
        .api_route(
            "/api/v1/customers/{customer}/subprocessor-feed-key",
            post_with(
                crate::subprocessor_api::feed_key,
                doc!(
                    "The customer's key to its Atom feed of announcements (or a new one)",
                    "subprocessors"
                ),
            ),
        )
        .api_route(
            "/feeds/{customer}/subprocessors.atom",
            get_with(
                crate::subprocessor_api::feed,
                doc!(
                    "The customer's announcements as an Atom feed; the feed key is the credential",
                    "subprocessors"
                ),
            ),
        )
        .api_route(
            "/api/v1/vocabulary",
            get_with(vocabulary, |op: TransformOperation<'_>| {
                // Its only errors are the `Caller` extractor's refusals, which aide does not see.
                op.summary("Categories, purposes and measures with DPV and Fideslang mappings")
                    .tag("vocabulary")
                    .default_response::<ApiError>()
            }),
        )
}

/// The OpenAPI document of [`routes`].
pub fn openapi() -> serde_json::Value {
    let mut api = base_doc();
    let _ = routes().finish_api(&mut api);
    serde_json::to_value(&api).unwrap_or_default()
}

/// The document's fixed parts.
pub fn base_doc() -> OpenApi {
    use aide::openapi::{Components, ReferenceOr, SecurityScheme};
    let mut components = Components::default();
    components.security_schemes.insert(
        "bearer".into(),
        ReferenceOr::Item(SecurityScheme::Http {
            scheme: "bearer".into(),
            bearer_format: None,
            description: Some("The operator token from `operator.token` in the data directory.".into()),
            extensions: Default::default(),
        }),
    );
    OpenApi {
        info: Info {
            title: "art28".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: Some(
                "GDPR Article 28 processor agreements, as data. Errors are JSON objects with a stable `code`.".into(),
            ),
            ..Info::default()
        },
        components: Some(components),
        ..OpenApi::default()
    }
}
