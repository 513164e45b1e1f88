//! The sub-processor register, its announcements and each customer's answer over HTTP (R5).
//!
//! Staff routes (`/api/v1/subprocessors…`, `/api/v1/subprocessor-changes…`) keep the register
//! and announce changes; customer routes (`/api/v1/customers/{customer}/subprocessor…`) give a
//! customer its list in force (JSON, CSV or HTML), the changes that reach it, its objection or
//! approval, its requests for the list and its feed key. The Atom feed
//! (`/feeds/{customer}/subprocessors.atom?key=…`) needs no session: the key is the credential.
//!
//! Handlers take the authenticated [`Caller`], call one method of
//! [`art28_service::subprocessors::Subprocessors`] (which judges the call and writes its access
//! entries) and map the result.

use crate::api::{CustomerPath, customer_id};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Path, Query, RawBody};
use crate::incident_api::DeliveryView;
use crate::state::AppState;
use aide::OperationInput;
use art28_core::ErrorCode;
use art28_core::access::{Actor, ActorKind};
use art28_core::agreement::Authorisation;
use art28_core::date::Date;
use art28_core::lang::{Lang, Text};
use art28_core::number::{Bounded, List, RowId};
use art28_core::subprocessor::{ChangeKind, Contract, CustomerState, Decision, Entry};
use art28_service::access::RequestContext;
use art28_service::records::{
    AnnouncementRecord, ChangeCustomer, ChangeRecord, DeliveryRecord, ListRequestRecord, SubprocessorRecord,
};
use art28_service::subprocessors::{Announce, InForce};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

// ---------- views ----------

/// A line in a sub-processor's history.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SubprocessorEventView {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub by: String,
    /// The entry's version after it.
    pub version: u32,
    /// What changed, with the note.
    pub note: String,
}

/// A sub-processor in the register.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SubprocessorView {
    /// Number in the register.
    pub id: u64,
    /// The entry's version; a change names it.
    pub version: u32,
    /// The entry as it stands.
    pub entry: Entry,
    /// The signed contract, once kept (its document at `…/contract`).
    pub contract: Option<Contract>,
    /// Registered at.
    pub created_at: String,
    /// Its history, oldest first.
    pub history: Vec<SubprocessorEventView>,
}

impl From<SubprocessorRecord> for SubprocessorView {
    fn from(r: SubprocessorRecord) -> Self {
        Self {
            id: r.id,
            version: r.version,
            entry: r.entry,
            contract: r.contract,
            created_at: r.created_at.to_string(),
            history: r
                .history
                .into_iter()
                .map(|e| SubprocessorEventView {
                    at: e.at.to_string(),
                    by: e.by,
                    version: e.version,
                    note: e.note,
                })
                .collect(),
        }
    }
}

/// A step in one customer's answer to a change.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangeEventView {
    /// When.
    pub at: String,
    /// Who.
    pub by: String,
    /// From (absent for the announcement).
    pub from: Option<CustomerState>,
    /// To.
    pub to: CustomerState,
    /// Reasons of an objection, note of an approval or decision.
    pub note: String,
}

/// One customer's side of a change.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangeCustomerView {
    /// The customer.
    pub customer: String,
    /// Its authorisation when told.
    pub authorisation: Authorisation,
    /// Where it stands.
    pub state: CustomerState,
    /// The rule that refused it (a stable error code), for `refused`.
    pub rule: Option<String>,
    /// The last day it may object.
    pub objection_until: Option<Date>,
    /// When the step that let the change take effect was taken.
    pub decided_at: Option<String>,
    /// Until when the customer may end the agreement over an overruled objection.
    pub termination_until: Option<Date>,
    /// Its history, oldest first.
    pub events: Vec<ChangeEventView>,
}

impl From<ChangeCustomer> for ChangeCustomerView {
    fn from(c: ChangeCustomer) -> Self {
        Self {
            customer: c.customer.to_string(),
            authorisation: c.authorisation,
            state: c.state,
            rule: c.rule,
            objection_until: c.objection_until,
            decided_at: c.decided_at.map(|t| t.to_string()),
            termination_until: c.termination_until,
            events: c
                .events
                .into_iter()
                .map(|e| ChangeEventView {
                    at: e.at.to_string(),
                    by: e.by,
                    from: e.from,
                    to: e.to,
                    note: e.note,
                })
                .collect(),
        }
    }
}

/// The sub-processor a replacement replaces.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReplacedView {
    /// Its number in the register.
    pub id: u64,
    /// Its name.
    pub name: String,
}

/// An announced change (a customer sees its own row only).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangeView {
    /// Number.
    pub id: u64,
    /// What it does.
    pub kind: ChangeKind,
    /// The sub-processor.
    pub subprocessor: u64,
    /// Its entry's version as announced.
    pub version: u32,
    /// The entry as announced.
    pub entry: Entry,
    /// For a replacement: the one replaced.
    pub replaces: Option<ReplacedView>,
    /// The intended effective date.
    pub effective: Date,
    /// The processor's explanation.
    pub note: Text,
    /// Announced at.
    pub announced_at: String,
    /// Announced by.
    pub announced_by: String,
    /// The customers it reaches.
    pub customers: Vec<ChangeCustomerView>,
}

impl From<ChangeRecord> for ChangeView {
    fn from(c: ChangeRecord) -> Self {
        Self {
            id: c.id,
            kind: c.kind,
            subprocessor: c.subprocessor,
            version: c.version,
            entry: c.entry,
            replaces: c.replaces.map(|(id, name)| ReplacedView { id, name }),
            effective: c.effective,
            note: c.note,
            announced_at: c.announced_at.to_string(),
            announced_by: c.announced_by,
            customers: c.customers.into_iter().map(Into::into).collect(),
        }
    }
}

fn delivery(d: DeliveryRecord) -> DeliveryView {
    DeliveryView {
        channel: d.channel,
        recipient: d.recipient,
        idempotency_key: d.idempotency_key,
        status: if d.sent_at.is_some() { "sent" } else { "pending" }.into(),
        sent_at: d.sent_at.map(|t| t.to_string()),
        attempts: d.attempts,
        next_attempt_at: d.sent_at.is_none().then(|| d.next_attempt_at.to_string()),
        last_error: d.last_error,
    }
}

/// An announcement as queued for one customer in one language, with its deliveries.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AnnouncementView {
    /// Id.
    pub id: u64,
    /// The change.
    pub change: u64,
    /// The customer.
    pub customer: String,
    /// `nl` or `en`.
    pub language: Lang,
    /// Composed at.
    pub created_at: String,
    /// Subject as sent.
    pub subject: String,
    /// Body as sent.
    pub body: String,
    /// Its deliveries.
    pub deliveries: Vec<DeliveryView>,
}

impl From<AnnouncementRecord> for AnnouncementView {
    fn from(a: AnnouncementRecord) -> Self {
        Self {
            id: a.id,
            change: a.change_id,
            customer: a.customer.to_string(),
            language: a.language,
            created_at: a.created_at.to_string(),
            subject: a.subject,
            body: a.body,
            deliveries: a.deliveries.into_iter().map(delivery).collect(),
        }
    }
}

/// A customer's request for the list of sub-processors.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ListRequestView {
    /// Number.
    pub id: u64,
    /// The customer.
    pub customer: String,
    /// When.
    pub requested_at: String,
    /// By whom.
    pub requested_by: String,
    /// When the answer is due, if the agreement sets a term.
    pub due_at: Option<String>,
    /// What the customer added.
    pub note: String,
    /// When answered.
    pub answered_at: Option<String>,
    /// By whom.
    pub answered_by: Option<String>,
    /// The date whose list in force the answer gives (read it at
    /// `/api/v1/customers/{customer}/subprocessors?on=…`).
    pub answer_on: Option<Date>,
}

impl From<ListRequestRecord> for ListRequestView {
    fn from(r: ListRequestRecord) -> Self {
        Self {
            id: r.id,
            customer: r.customer.to_string(),
            requested_at: r.requested_at.to_string(),
            requested_by: r.requested_by,
            due_at: r.due_at.map(|t| t.to_string()),
            note: r.note,
            answered_at: r.answered_at.map(|t| t.to_string()),
            answered_by: r.answered_by,
            answer_on: r.answer_on,
        }
    }
}

/// The customer's feed key.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FeedKeyView {
    /// The key: keep it; a rotation makes a new one and this one stops working.
    pub key: String,
    /// The feed's address on this server, key included.
    pub url: String,
}

// ---------- parameters and bodies ----------

/// Path with a sub-processor.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SubprocessorPath {
    /// Its number in the register.
    pub id: RowId,
}

/// Path with a change.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ChangePath {
    /// The change's number.
    pub id: RowId,
}

/// Path with a change and a customer.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ChangeCustomerPath {
    /// The change's number.
    pub id: RowId,
    /// Customer id.
    pub customer: String,
}

/// Path with a customer and one of its changes or requests.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CustomerItemPath {
    /// Customer id.
    pub customer: String,
    /// The change's or request's number.
    pub id: RowId,
}

/// An entry's new content.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryUpdateBody {
    /// The version read.
    pub version: Bounded<1, 4_294_967_295>,
    /// The entry as it is to stand.
    pub entry: Entry,
    /// Why it changes.
    pub note: String,
}

/// What the signed contract is.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ContractQuery {
    /// The date it was signed (YYYY-MM-DD).
    pub signed_on: String,
    /// The document's file name.
    pub file_name: String,
}

/// A change to announce.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnounceBody {
    /// What it does.
    pub kind: ChangeKind,
    /// The sub-processor it brings in, moves or removes (its number in the register).
    pub subprocessor: RowId,
    /// For `replace`: the number of the one it replaces.
    #[serde(default)]
    pub replaces: Option<RowId>,
    /// The intended effective date.
    pub effective: Date,
    /// Why, in both languages.
    pub note: Text,
    /// The customers it reaches; every customer with an agreement in force when empty.
    #[serde(default)]
    pub customers: List<String, 1000>,
}

/// What the processor decides on an objection (`art28_core::subprocessor::Decision`).
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionDecision {
    /// The change is withdrawn for this customer.
    Withdrawn,
    /// An alternative is offered; the change does not take effect for this customer.
    AlternativeOffered,
    /// The change goes ahead over the objection.
    Overruled,
}

impl From<ObjectionDecision> for Decision {
    fn from(d: ObjectionDecision) -> Self {
        match d {
            ObjectionDecision::Withdrawn => Decision::Withdrawn,
            ObjectionDecision::AlternativeOffered => Decision::AlternativeOffered,
            ObjectionDecision::Overruled => Decision::Overruled,
        }
    }
}

/// The processor's decision on a customer's objection.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `withdrawn`, `alternative_offered` or `overruled`.
    pub decision: ObjectionDecision,
    /// The reasons, as the customer is told them.
    pub note: String,
}

/// A customer's objection.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionBody {
    /// Its reasons.
    pub reasons: String,
}

/// A customer's written answer under specific authorisation.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalBody {
    /// `true`: approved; `false`: not approved.
    pub approve: bool,
    /// A note.
    #[serde(default)]
    pub note: String,
}

/// A request for the list.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRequestBody {
    /// What the customer adds.
    #[serde(default)]
    pub note: String,
}

/// The answer to a request for the list.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The date whose list in force answers it; today when absent.
    #[serde(default)]
    pub on: Option<Date>,
}

/// Make (or rotate) the feed key.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedKeyBody {
    /// Make a new key; the old one stops working.
    #[serde(default)]
    pub rotate: bool,
}

/// Which list, in what form.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct InForceQuery {
    /// Date (YYYY-MM-DD); today when absent.
    pub on: Option<String>,
    /// `json` (default), `csv` or `html`.
    pub format: Option<String>,
    /// `nl` or `en`, for `csv` and `html`; the customer's language when absent.
    pub lang: Option<String>,
}

/// The feed's credential.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AtomQuery {
    /// The customer's feed key.
    pub key: String,
}

fn date_of(s: Option<&str>) -> ApiResult<Option<Date>> {
    s.map(|s| s.parse().map_err(|m: String| ApiError::new(ErrorCode::BadRequest, m)))
        .transpose()
}

fn lang_of(s: Option<&str>) -> ApiResult<Option<Lang>> {
    s.map(|s| s.parse().map_err(|m: String| ApiError::new(ErrorCode::BadRequest, m)))
        .transpose()
}

/// A version in range for a `u32` by its type.
fn version_of(v: Bounded<1, 4_294_967_295>) -> u32 {
    u32::try_from(v.get()).unwrap_or(u32::MAX)
}

// ---------- the register (staff) ----------

/// The register.
pub async fn entries(caller: Caller, State(state): State<AppState>) -> ApiResult<Json<Vec<SubprocessorView>>> {
    let all = state.subprocessors.entries(&caller.principal).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// Register a sub-processor.
pub async fn register(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(entry): ApiJson<Entry>,
) -> ApiResult<(StatusCode, Json<SubprocessorView>)> {
    let r = state.subprocessors.register(&caller.principal, entry).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// One entry with its history.
pub async fn entry(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<SubprocessorPath>,
) -> ApiResult<Json<SubprocessorView>> {
    let r = state.subprocessors.entry(&caller.principal, p.id.unsigned()).await?;
    Ok(Json(r.into()))
}

/// Change an entry still at the version read.
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<SubprocessorPath>,
    ApiJson(body): ApiJson<EntryUpdateBody>,
) -> ApiResult<Json<SubprocessorView>> {
    let r = state
        .subprocessors
        .update(
            &caller.principal,
            p.id.unsigned(),
            version_of(body.version),
            body.entry,
            &body.note,
        )
        .await?;
    Ok(Json(r.into()))
}

/// Keep the signed contract (the raw document as the body).
pub async fn put_contract(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<SubprocessorPath>,
    Query(q): Query<ContractQuery>,
    RawBody(body): RawBody,
) -> ApiResult<Json<SubprocessorView>> {
    let signed_on = date_of(Some(&q.signed_on))?.ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "`signed_on`"))?;
    let r = state
        .subprocessors
        .put_contract(&caller.principal, p.id.unsigned(), signed_on, &q.file_name, &body)
        .await?;
    Ok(Json(r.into()))
}

/// A kept document, with its file name.
#[derive(Debug)]
pub struct ContractFile {
    file_name: String,
    body: Vec<u8>,
}

/// `attachment` with the file name, ASCII-only and as RFC 5987 UTF-8.
fn disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' })
        .filter(|c| !matches!(c, '"' | '\\'))
        .collect();
    let mut encoded = String::new();
    for b in file_name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

impl IntoResponse for ContractFile {
    fn into_response(self) -> axum::response::Response {
        let mut r = ([(header::CONTENT_TYPE, "application/octet-stream")], self.body).into_response();
        if let Ok(v) = HeaderValue::from_str(&disposition(&self.file_name)) {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        r
    }
}

impl aide::OperationOutput for ContractFile {
    type Inner = Vec<u8>;
    fn operation_response(
        _ctx: &mut aide::generate::GenContext,
        _op: &mut aide::openapi::Operation,
    ) -> Option<aide::openapi::Response> {
        Some(aide::openapi::Response {
            description: "The signed document as kept, its file name in Content-Disposition.".into(),
            content: [(
                "application/octet-stream".to_string(),
                aide::openapi::MediaType::default(),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        })
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

/// The signed contract's document.
pub async fn contract(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<SubprocessorPath>,
) -> ApiResult<ContractFile> {
    let (c, body) = state.subprocessors.contract(&caller.principal, p.id.unsigned()).await?;
    Ok(ContractFile {
        file_name: c.file_name,
        body,
    })
}

// ---------- changes (staff) ----------

/// Announce a change to the customers it reaches.
pub async fn announce(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AnnounceBody>,
) -> ApiResult<(StatusCode, Json<ChangeView>)> {
    let customers = body
        .customers
        .iter()
        .map(|c| customer_id(c))
        .collect::<ApiResult<Vec<_>>>()?;
    let a = Announce {
        kind: body.kind,
        subprocessor: body.subprocessor.unsigned(),
        replaces: body.replaces.map(|r| r.unsigned()),
        effective: body.effective,
        note: body.note,
        customers,
    };
    let c = state.subprocessors.announce(&caller.ctx, &caller.principal, a).await?;
    state.outbox_wake.notify_one();
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// Every change.
pub async fn changes(caller: Caller, State(state): State<AppState>) -> ApiResult<Json<Vec<ChangeView>>> {
    let all = state
        .subprocessors
        .changes(&caller.ctx, &caller.principal, None)
        .await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// One change with every customer's row.
pub async fn change(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<ChangePath>,
) -> ApiResult<Json<ChangeView>> {
    let c = state
        .subprocessors
        .change(&caller.ctx, &caller.principal, p.id.unsigned(), None)
        .await?;
    Ok(Json(c.into()))
}

/// Decide on a customer's objection.
pub async fn decide(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<ChangeCustomerPath>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<ChangeView>> {
    let t = customer_id(&p.customer)?;
    let c = state
        .subprocessors
        .decide(
            &caller.ctx,
            &caller.principal,
            &t,
            p.id.unsigned(),
            body.decision.into(),
            &body.note,
        )
        .await?;
    state.outbox_wake.notify_one();
    Ok(Json(c.into()))
}

/// The announcements queued for a change, with their deliveries.
pub async fn announcements(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<ChangePath>,
) -> ApiResult<Json<Vec<AnnouncementView>>> {
    let all = state
        .subprocessors
        .announcements(&caller.principal, Some(p.id.unsigned()), None)
        .await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

// ---------- the customer's side ----------

/// The list in force, as JSON or as a file.
#[derive(Debug)]
pub enum ListAnswer {
    /// `format=json`.
    Json(InForce),
    /// `format=csv` or `format=html`.
    File {
        /// The document.
        body: String,
        /// Its media type.
        content_type: &'static str,
        /// Its `Content-Disposition`.
        disposition: String,
    },
}

impl IntoResponse for ListAnswer {
    fn into_response(self) -> axum::response::Response {
        match self {
            ListAnswer::Json(v) => Json(v).into_response(),
            ListAnswer::File {
                body,
                content_type,
                disposition,
            } => {
                let mut r = ([(header::CONTENT_TYPE, content_type)], body).into_response();
                if let Ok(v) = HeaderValue::from_str(&disposition) {
                    r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
                }
                r
            }
        }
    }
}

impl aide::OperationOutput for ListAnswer {
    type Inner = InForce;
    fn operation_response(
        ctx: &mut aide::generate::GenContext,
        op: &mut aide::openapi::Operation,
    ) -> Option<aide::openapi::Response> {
        let mut r = <Json<InForce> as aide::OperationOutput>::operation_response(ctx, op)?;
        let text = crate::api::text_output(ctx, op, "", &["text/csv", "text/html"])?;
        r.description = "The list in force: JSON, or as CSV or HTML with `format`.".into();
        r.content.extend(text.content);
        Some(r)
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

/// The list in force for the customer (today or on a date), as JSON, CSV or HTML.
pub async fn in_force(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    Query(q): Query<InForceQuery>,
) -> ApiResult<ListAnswer> {
    let t = customer_id(&p.customer)?;
    let on = date_of(q.on.as_deref())?;
    let lang = lang_of(q.lang.as_deref())?;
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "html") {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!(
                "unknown format `{}`; use `json`, `csv` or `html`",
                format.chars().take(20).collect::<String>()
            ),
        ));
    }
    let list = state
        .subprocessors
        .in_force(&caller.ctx, &caller.principal, &t, on)
        .await?;
    if format == "json" {
        return Ok(ListAnswer::Json(list));
    }
    // Judged and logged above: the names are the caller's own customer's, or staff's to see.
    let customer = state
        .agreements
        .customers(&caller.principal)
        .await?
        .into_iter()
        .find(|c| c.id == t);
    let lang = lang.or(customer.as_ref().map(|c| c.language)).unwrap_or_default();
    let customer_name = customer.map(|c| c.name).unwrap_or_else(|| t.to_string());
    let processor = state.agreements.processor().await.map(|p| p.name).unwrap_or_default();
    let lines: Vec<art28_render::subprocessors::Line> = list
        .list
        .iter()
        .map(|l| art28_render::subprocessors::Line {
            listed: l.item.clone(),
            access_locations: l.access_locations.clone(),
            safeguard_reference: l.safeguard_reference.clone(),
        })
        .collect();
    let doc = art28_render::subprocessors::List {
        processor: &processor,
        customer: &customer_name,
        on: list.on,
        lines: &lines,
    };
    let (body, content_type) = if format == "csv" {
        (
            art28_render::subprocessors::list_csv(&doc, lang),
            "text/csv; charset=utf-8",
        )
    } else {
        (
            art28_render::subprocessors::list_html(&doc, lang)?,
            "text/html; charset=utf-8",
        )
    };
    Ok(ListAnswer::File {
        body,
        content_type,
        disposition: format!("attachment; filename=\"subprocessors-{t}-{}.{format}\"", list.on),
    })
}

/// The changes that reach the customer.
pub async fn customer_changes(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
) -> ApiResult<Json<Vec<ChangeView>>> {
    let t = customer_id(&p.customer)?;
    let all = state
        .subprocessors
        .changes(&caller.ctx, &caller.principal, Some(&t))
        .await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// One change that reaches the customer, with its own row.
pub async fn customer_change(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerItemPath>,
) -> ApiResult<Json<ChangeView>> {
    let t = customer_id(&p.customer)?;
    let c = state
        .subprocessors
        .change(&caller.ctx, &caller.principal, p.id.unsigned(), Some(&t))
        .await?;
    Ok(Json(c.into()))
}

/// The customer objects to a change.
pub async fn object(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerItemPath>,
    ApiJson(body): ApiJson<ObjectionBody>,
) -> ApiResult<Json<ChangeView>> {
    let t = customer_id(&p.customer)?;
    let c = state
        .subprocessors
        .object(&caller.ctx, &caller.principal, &t, p.id.unsigned(), &body.reasons)
        .await?;
    Ok(Json(c.into()))
}

/// The customer approves a change in writing, or does not.
pub async fn approve(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerItemPath>,
    ApiJson(body): ApiJson<ApprovalBody>,
) -> ApiResult<Json<ChangeView>> {
    let t = customer_id(&p.customer)?;
    let c = state
        .subprocessors
        .approve(
            &caller.ctx,
            &caller.principal,
            &t,
            p.id.unsigned(),
            body.approve,
            &body.note,
        )
        .await?;
    Ok(Json(c.into()))
}

/// The customer asks for the list in force.
pub async fn request_list(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    ApiJson(body): ApiJson<ListRequestBody>,
) -> ApiResult<(StatusCode, Json<ListRequestView>)> {
    let t = customer_id(&p.customer)?;
    let r = state
        .subprocessors
        .request_list(&caller.ctx, &caller.principal, &t, &body.note)
        .await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// The customer's requests for the list.
pub async fn list_requests(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
) -> ApiResult<Json<Vec<ListRequestView>>> {
    let t = customer_id(&p.customer)?;
    let all = state
        .subprocessors
        .list_requests(&caller.ctx, &caller.principal, Some(&t))
        .await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// The processor answers a request with the list in force on a date.
pub async fn answer_list(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerItemPath>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> ApiResult<Json<ListRequestView>> {
    let t = customer_id(&p.customer)?;
    let r = state
        .subprocessors
        .answer_list(&caller.ctx, &caller.principal, &t, p.id.unsigned(), body.on)
        .await?;
    Ok(Json(r.into()))
}

fn feed_path(customer: &str) -> String {
    format!("/feeds/{customer}/subprocessors.atom")
}

/// The customer's feed key (made at the first call, or anew with `rotate`).
pub async fn feed_key(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    ApiJson(body): ApiJson<FeedKeyBody>,
) -> ApiResult<Json<FeedKeyView>> {
    let t = customer_id(&p.customer)?;
    let key = state
        .subprocessors
        .feed_key(&caller.ctx, &caller.principal, &t, body.rotate)
        .await?;
    Ok(Json(FeedKeyView {
        url: format!("{}?key={key}", feed_path(t.as_str())),
        key,
    }))
}

// ---------- the feed ----------

/// Who reads a feed: no account, the key is the credential; the context of the request
/// (address, request id) for its access entry.
#[derive(Debug)]
pub struct FeedReader(RequestContext);

impl<S: Send + Sync> FromRequestParts<S> for FeedReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(crate::auth::context(parts, Actor::anonymous())))
    }
}

impl OperationInput for FeedReader {}

crate::api::text_answer!(
    /// An Atom feed (RFC 4287).
    Atom,
    "application/atom+xml",
    "inline; filename=\"subprocessors.atom\"",
    "The customer's sub-processor announcements as an Atom feed (RFC 4287), newest first."
);

/// The customer's announcements as an Atom feed, for its feed key. A wrong key and a customer
/// that does not exist answer alike (`401 feed_key_invalid`).
pub async fn feed(
    FeedReader(mut ctx): FeedReader,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    Query(q): Query<AtomQuery>,
) -> ApiResult<Atom> {
    let Ok(t) = p.customer.parse::<art28_core::ids::CustomerId>() else {
        // As the service answers a customer that does not exist.
        return Err(ApiError::new(
            ErrorCode::FeedKeyInvalid,
            "this feed key is not valid; make a new one in the portal",
        ));
    };
    ctx.actor = Actor {
        kind: ActorKind::Token,
        id: format!("feed:{t}"),
    };
    ctx.on_behalf_of = Some(t.clone());
    let xml = state.subprocessors.feed(&ctx, &t, &q.key, "").await?;
    Ok(Atom(xml))
}
