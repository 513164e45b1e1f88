//! The incident register and breach notices over HTTP (R4).
//!
//! Staff routes (`/api/v1/incidents…`) run the workflow; customer routes
//! (`/api/v1/customers/{customer}/incidents…`) let a customer report (R4.5), follow the
//! incidents that touch it, read its notices and acknowledge them. A customer's view never
//! names another customer.
//!
//! Handlers take the authenticated [`Caller`], call one method of
//! [`art28_service::incidents::Incidents`] (which judges the call and writes its access
//! entries) and map the result.

use crate::api::{CustomerPath, customer_id};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::extract::Path;
use crate::state::AppState;
use art28_core::ErrorCode;
use art28_core::incident::{self, CustomerScope, DeadlineState, Details, Step};
use art28_core::number::{List, RowId, Version};
use art28_service::incidents::{Deadline, Draft, Report, ScopeQuery};
use art28_service::records::{IncidentRecord, NoticeRecord};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A customer touched by an incident, with its deadline.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AffectedView {
    /// Customer.
    pub customer: String,
    /// First notice due at (RFC 3339).
    pub due_at: String,
    /// First notice delivered at.
    pub notified_at: Option<String>,
    /// The customer's own 72-hour term towards the supervisory authority.
    pub controller_due_at: String,
    /// `met`, `met_late`, `open`, `due_soon` or `overdue`; absent when the incident was not a
    /// breach.
    pub deadline: Option<DeadlineState>,
    /// What scoping found.
    pub scope: Option<CustomerScope>,
}

/// One step of the workflow's history.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventView {
    /// When.
    pub at: String,
    /// Who.
    pub by: String,
    /// From.
    pub from: Option<String>,
    /// To.
    pub to: String,
    /// Why, or what changed.
    pub note: String,
}

/// An incident as shown.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IncidentView {
    /// Number.
    pub id: u64,
    /// Read before changing; a change names it.
    pub version: u64,
    /// `processor`, `sub_processor` or `customer`.
    pub source: incident::Source,
    /// What it is.
    pub kind: incident::IncidentKind,
    /// Workflow status.
    pub status: incident::Status,
    /// Reported by.
    pub reported_by: String,
    /// Reporting customer, if a customer reported it.
    pub reporter_customer: Option<String>,
    /// Reported to.
    pub reported_to: String,
    /// When the processor became aware.
    pub aware_at: String,
    /// Registered at.
    pub created_at: String,
    /// What is known.
    pub details: Details,
    /// Customers it touches (a customer sees only itself).
    pub customers: Vec<AffectedView>,
    /// History, oldest first.
    pub events: Vec<EventView>,
}

fn view(i: IncidentRecord, now: Timestamp) -> IncidentView {
    let controller = incident::controller_due(i.aware_at);
    IncidentView {
        id: i.id,
        version: i.version,
        source: i.source,
        kind: i.kind,
        status: i.status,
        reported_by: i.reported_by,
        reporter_customer: i.reporter_tenant.map(|t| t.to_string()),
        reported_to: i.reported_to,
        aware_at: i.aware_at.to_string(),
        created_at: i.created_at.to_string(),
        details: i.details,
        customers: i
            .customers
            .into_iter()
            .map(|a| AffectedView {
                customer: a.customer.to_string(),
                due_at: a.due_at.to_string(),
                notified_at: a.notified_at.map(|t| t.to_string()),
                controller_due_at: controller.to_string(),
                deadline: incident::notice_deadline(i.status, a.due_at, a.notified_at, now),
                scope: a.scope,
            })
            .collect(),
        events: i
            .events
            .into_iter()
            .map(|e| EventView {
                at: e.at.to_string(),
                by: e.by,
                from: e.from.map(|s| s.as_str().to_string()),
                to: e.to.as_str().to_string(),
                note: e.note,
            })
            .collect(),
    }
}

/// A delivery of a notice.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeliveryView {
    /// `email`.
    pub channel: String,
    /// Recipient.
    pub recipient: String,
    /// The key the receiver deduplicates on (the e-mail's Message-ID).
    pub idempotency_key: String,
    /// `pending` or `sent`.
    pub status: String,
    /// Delivered at.
    pub sent_at: Option<String>,
    /// Attempts made.
    pub attempts: u32,
    /// Next attempt while pending.
    pub next_attempt_at: Option<String>,
    /// Last failure.
    pub last_error: Option<String>,
}

/// A notice as sent.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NoticeView {
    /// Id.
    pub id: u64,
    /// Incident.
    pub incident: u64,
    /// Customer.
    pub customer: String,
    /// 0: first notice; 1, 2, …: updates.
    pub step: u32,
    /// `nl` or `en`.
    pub language: String,
    /// Composed at.
    pub created_at: String,
    /// Confirmed by.
    pub created_by: String,
    /// Subject as sent.
    pub subject: String,
    /// Body as sent.
    pub body: String,
    /// Structured content.
    pub content: incident::NoticeContent,
    /// Acknowledged by the customer at.
    pub acknowledged_at: Option<String>,
    /// Acknowledged by.
    pub acknowledged_by: Option<String>,
    /// Deliveries.
    pub deliveries: Vec<DeliveryView>,
}

impl From<NoticeRecord> for NoticeView {
    fn from(n: NoticeRecord) -> Self {
        Self {
            id: n.id,
            incident: n.incident_id,
            customer: n.customer.to_string(),
            step: n.step,
            language: n.language.tag().to_string(),
            created_at: n.created_at.to_string(),
            created_by: n.created_by,
            subject: n.subject,
            body: n.body,
            content: n.content,
            acknowledged_at: n.acknowledged_at.map(|t| t.to_string()),
            acknowledged_by: n.acknowledged_by,
            deliveries: n
                .deliveries
                .into_iter()
                .map(|d| DeliveryView {
                    channel: d.channel,
                    recipient: d.recipient,
                    idempotency_key: d.idempotency_key,
                    status: if d.sent_at.is_some() { "sent" } else { "pending" }.into(),
                    sent_at: d.sent_at.map(|t| t.to_string()),
                    attempts: d.attempts,
                    next_attempt_at: d.sent_at.is_none().then(|| d.next_attempt_at.to_string()),
                    last_error: d.last_error,
                })
                .collect(),
        }
    }
}

/// Path with an incident.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct IncidentPath {
    /// Incident number.
    pub id: RowId,
}

/// Path with a customer and an incident.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CustomerIncidentPath {
    /// Customer id.
    pub customer: String,
    /// Incident number.
    pub id: RowId,
}

/// Path with a customer and a notice.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CustomerNoticePath {
    /// Customer id.
    pub customer: String,
    /// Notice id.
    pub notice: RowId,
}

/// New details.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetailsBody {
    /// The version read.
    pub version: Version,
    /// Everything known now (replaces what was there).
    pub details: Details,
}

/// A workflow step.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// The version read.
    pub version: Version,
    /// `triage`, `not_a_breach`, `breach` or `close`.
    pub step: Step,
    /// Reasons (required for `not_a_breach` and `close`).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A customer to add.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddCustomer {
    /// Customer id.
    pub customer: String,
    /// What scoping found, as confirmed by a person.
    #[serde(default)]
    pub scope: Option<CustomerScope>,
}

/// Which customers an incident touches.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomersBody {
    /// The version read.
    pub version: Version,
    /// Customers to add (or whose scope to replace).
    #[serde(default)]
    pub add: List<AddCustomer, 1000>,
    /// Customers not affected after all (only those without a notice).
    #[serde(default)]
    pub remove: List<String, 1000>,
}

/// Notices to compose or send.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    /// The version read (needed to send, not to preview).
    #[serde(default)]
    pub version: Option<Version>,
    /// For an update: what is new. Absent: the first notices.
    #[serde(default)]
    pub update: Option<String>,
}

/// The time views are computed at (deadline states): the service's clock.
fn now(state: &AppState) -> Timestamp {
    state.incidents.now()
}

/// Register an incident (staff).
pub async fn report(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Report>,
) -> ApiResult<(StatusCode, Json<IncidentView>)> {
    let i = state
        .incidents
        .report(&caller.ctx, &caller.principal, None, body)
        .await?;
    Ok((StatusCode::CREATED, Json(view(i, now(&state)))))
}

/// A customer reports a breach, incident, account misuse or inspection (R4.5).
pub async fn customer_report(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    ApiJson(body): ApiJson<Report>,
) -> ApiResult<(StatusCode, Json<IncidentView>)> {
    let c = customer_id(&p.customer)?;
    let i = state
        .incidents
        .report(&caller.ctx, &caller.principal, Some(&c), body)
        .await?;
    // A new report names no affected customers yet: it holds only what the caller sent.
    Ok((StatusCode::CREATED, Json(view(i, now(&state)))))
}

/// Every incident (staff).
pub async fn list(caller: Caller, State(state): State<AppState>) -> ApiResult<Json<Vec<IncidentView>>> {
    let all = state.incidents.list(&caller.ctx, &caller.principal, None).await?;
    let t = now(&state);
    Ok(Json(all.into_iter().map(|i| view(i, t)).collect()))
}

/// One incident (staff).
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<IncidentPath>,
) -> ApiResult<Json<IncidentView>> {
    let i = state
        .incidents
        .get(&caller.ctx, &caller.principal, None, p.id.unsigned())
        .await?;
    Ok(Json(view(i, now(&state))))
}

/// Replace what is known about an incident.
pub async fn update_details(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<IncidentPath>,
    ApiJson(body): ApiJson<DetailsBody>,
) -> ApiResult<Json<IncidentView>> {
    let i = state
        .incidents
        .update_details(
            &caller.principal,
            p.id.unsigned(),
            body.version.unsigned(),
            body.details,
        )
        .await?;
    Ok(Json(view(i, now(&state))))
}

/// Take a workflow step.
pub async fn step(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<IncidentPath>,
    ApiJson(body): ApiJson<StepBody>,
) -> ApiResult<Json<IncidentView>> {
    let i = state
        .incidents
        .step(
            &caller.principal,
            p.id.unsigned(),
            body.version.unsigned(),
            body.step,
            body.reason.as_deref(),
        )
        .await?;
    Ok(Json(view(i, now(&state))))
}

/// Search the access log for the customers, records, data subjects and categories that
/// actors reached in a window.
pub async fn scope(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ScopeQuery>,
) -> ApiResult<Json<Vec<CustomerScope>>> {
    Ok(Json(state.incidents.scope(&caller.principal, &body).await?))
}

/// Name the customers an incident touches.
pub async fn set_customers(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<IncidentPath>,
    ApiJson(body): ApiJson<CustomersBody>,
) -> ApiResult<Json<IncidentView>> {
    let add = body
        .add
        .into_iter()
        .map(|a| Ok((customer_id(&a.customer)?, a.scope)))
        .collect::<ApiResult<Vec<_>>>()?;
    let remove = body
        .remove
        .iter()
        .map(|c| customer_id(c))
        .collect::<ApiResult<Vec<_>>>()?;
    let i = state
        .incidents
        .set_customers(
            &caller.ctx,
            &caller.principal,
            p.id.unsigned(),
            body.version.unsigned(),
            add,
            remove,
        )
        .await?;
    Ok(Json(view(i, now(&state))))
}

/// The notices a send would queue now, for a person to check.
pub async fn preview(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<IncidentPath>,
    ApiJson(body): ApiJson<NoticeBody>,
) -> ApiResult<Json<Vec<Draft>>> {
    let (_, drafts) = state
        .incidents
        .drafts(&caller.principal, p.id.unsigned(), body.update.as_deref())
        .await?;
    Ok(Json(drafts))
}

/// Confirm and queue the notices.
pub async fn send(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<IncidentPath>,
    ApiJson(body): ApiJson<NoticeBody>,
) -> ApiResult<(StatusCode, Json<Vec<NoticeView>>)> {
    let version = body.version.ok_or_else(|| {
        ApiError::new(
            ErrorCode::BadRequest,
            "name the incident `version` you previewed; the notices go out as composed from it",
        )
    })?;
    let (_, notices) = state
        .incidents
        .send(
            &caller.ctx,
            &caller.principal,
            p.id.unsigned(),
            version.unsigned(),
            body.update.as_deref(),
        )
        .await?;
    // Deliver at once rather than at the next tick of the outbox.
    state.outbox_wake.notify_one();
    Ok((StatusCode::CREATED, Json(notices.into_iter().map(Into::into).collect())))
}

/// Every notice of an incident, with delivery status (staff).
pub async fn notices(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<IncidentPath>,
) -> ApiResult<Json<Vec<NoticeView>>> {
    let all = state
        .incidents
        .notices(&caller.ctx, &caller.principal, None, p.id.unsigned())
        .await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// Every notice deadline of open incidents, with its state now (staff: the security
/// officer's watch list).
pub async fn deadlines(caller: Caller, State(state): State<AppState>) -> ApiResult<Json<Vec<Deadline>>> {
    Ok(Json(
        state.incidents.deadlines(&caller.ctx, &caller.principal, None).await?,
    ))
}

/// The customer's incidents.
pub async fn customer_list(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
) -> ApiResult<Json<Vec<IncidentView>>> {
    let c = customer_id(&p.customer)?;
    let all = state.incidents.list(&caller.ctx, &caller.principal, Some(&c)).await?;
    let t = now(&state);
    Ok(Json(all.into_iter().map(|i| view(i, t)).collect()))
}

/// One of the customer's incidents.
pub async fn customer_get(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerIncidentPath>,
) -> ApiResult<Json<IncidentView>> {
    let c = customer_id(&p.customer)?;
    let i = state
        .incidents
        .get(&caller.ctx, &caller.principal, Some(&c), p.id.unsigned())
        .await?;
    Ok(Json(view(i, now(&state))))
}

/// The notices the customer was sent about an incident.
pub async fn customer_notices(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerIncidentPath>,
) -> ApiResult<Json<Vec<NoticeView>>> {
    let c = customer_id(&p.customer)?;
    let all = state
        .incidents
        .notices(&caller.ctx, &caller.principal, Some(&c), p.id.unsigned())
        .await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// The customer's deadlines.
pub async fn customer_deadlines(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
) -> ApiResult<Json<Vec<Deadline>>> {
    let c = customer_id(&p.customer)?;
    Ok(Json(
        state
            .incidents
            .deadlines(&caller.ctx, &caller.principal, Some(&c))
            .await?,
    ))
}

/// The customer acknowledges receipt of a notice.
pub async fn acknowledge(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerNoticePath>,
) -> ApiResult<Json<NoticeView>> {
    let c = customer_id(&p.customer)?;
    let n = state
        .incidents
        .acknowledge(&caller.ctx, &caller.principal, &c, p.notice.unsigned())
        .await?;
    Ok(Json(n.into()))
}

crate::api::text_answer!(
    /// The register as CSV.
    Csv,
    "text/csv",
    "attachment; filename=\"incidents.csv\"",
    "The register as CSV, one incident and customer per row."
);

const CSV_HEADER: &[&str] = &[
    "incident",
    "status",
    "source",
    "kind",
    "reported_by",
    "reported_to",
    "aware_at",
    "created_at",
    "summary",
    "period_start",
    "period_end",
    "systems",
    "subprocessors",
    "impact",
    "actions",
    "cause",
    "failed_measure",
    "consequences",
    "recovery",
    "measures_taken",
    "measures_proposed",
    "customer",
    "notice_due_at",
    "notified_at",
    "deadline",
    "data_subjects",
    "records",
    "categories",
];

fn join<T: Serialize>(items: &[T]) -> String {
    items
        .iter()
        .filter_map(|i| match serde_json::to_value(i) {
            Ok(serde_json::Value::String(s)) => Some(s),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A cell a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`, `@`, tab
/// or carriage return gets a leading apostrophe.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn csv(views: &[IncidentView]) -> ApiResult<Csv> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| {
        tracing::error!(error = %e, "writing CSV failed");
        ApiError::new(ErrorCode::Internal, "the CSV export failed")
    };
    w.write_record(CSV_HEADER).map_err(fail)?;
    for v in views {
        let d = &v.details;
        let opt = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
        let base = [
            v.id.to_string(),
            v.status.as_str().to_string(),
            join(&[v.source]),
            join(&[v.kind]),
            v.reported_by.clone(),
            v.reported_to.clone(),
            v.aware_at.clone(),
            v.created_at.clone(),
            d.summary.clone(),
            opt(d.period_start),
            opt(d.period_end),
            d.systems.join("; "),
            d.subprocessors.join("; "),
            join(&d.impact),
            join(&d.actions),
            d.cause.clone(),
            d.failed_measure.clone(),
            d.consequences.clone(),
            d.recovery.clone(),
            d.measures_taken.clone(),
            d.measures_proposed.clone(),
        ];
        let rows: Vec<[String; 7]> = if v.customers.is_empty() {
            vec![Default::default()]
        } else {
            v.customers
                .iter()
                .map(|a| {
                    [
                        a.customer.clone(),
                        a.due_at.clone(),
                        a.notified_at.clone().unwrap_or_default(),
                        a.deadline.map(|d| join(&[d])).unwrap_or_default(),
                        a.scope
                            .as_ref()
                            .map(|s| s.data_subjects.to_string())
                            .unwrap_or_default(),
                        a.scope.as_ref().map(|s| s.records.to_string()).unwrap_or_default(),
                        a.scope.as_ref().map(|s| s.categories.join("; ")).unwrap_or_default(),
                    ]
                })
                .collect()
        };
        for r in rows {
            w.write_record(base.iter().chain(r.iter()).map(|c| cell(c)))
                .map_err(fail)?;
        }
    }
    let bytes = w.into_inner().map_err(|e| fail(e.into_error().into()))?;
    String::from_utf8(bytes)
        .map(Csv)
        .map_err(|_| ApiError::new(ErrorCode::Internal, "the CSV export failed"))
}

/// The register for export: the whole of it (staff) or the customer's part, views at now.
async fn exported(state: &AppState, caller: &Caller, customer: Option<&str>) -> ApiResult<Vec<IncidentView>> {
    let c = customer.map(customer_id).transpose()?;
    let all = state
        .incidents
        .export(&caller.ctx, &caller.principal, c.as_ref())
        .await?;
    let t = now(state);
    Ok(all.into_iter().map(|i| view(i, t)).collect())
}

/// The whole register as JSON (for the processor's auditor).
pub async fn export_json(caller: Caller, State(state): State<AppState>) -> ApiResult<Json<Vec<IncidentView>>> {
    Ok(Json(exported(&state, &caller, None).await?))
}

/// The whole register as CSV.
pub async fn export_csv(caller: Caller, State(state): State<AppState>) -> ApiResult<Csv> {
    csv(&exported(&state, &caller, None).await?)
}

/// The customer's incidents as JSON.
pub async fn customer_export_json(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
) -> ApiResult<Json<Vec<IncidentView>>> {
    Ok(Json(exported(&state, &caller, Some(&p.customer)).await?))
}

/// The customer's incidents as CSV.
pub async fn customer_export_csv(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
) -> ApiResult<Csv> {
    csv(&exported(&state, &caller, Some(&p.customer)).await?)
}

/// A webhook to set.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// `https://…` (plain `http://` only to localhost).
    pub url: String,
}

/// The customer's webhook.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookView {
    /// Where notices are posted.
    pub url: String,
    /// Grows with every change; the secret belongs to one generation.
    pub generation: u64,
    /// Set at.
    pub created_at: String,
    /// Set by.
    pub created_by: String,
    /// The signing secret (hex), only in the answer to setting it: keep it now, it is not
    /// shown again. Verify `X-Art28-Signature: v1=HMAC-SHA256(secret, "<X-Art28-Timestamp>.<body>")`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

fn hook_view(h: art28_service::records::WebhookRecord, secret: Option<String>) -> WebhookView {
    WebhookView {
        url: h.url,
        generation: h.generation,
        created_at: h.created_at.to_string(),
        created_by: h.created_by,
        secret,
    }
}

/// Set or replace the customer's webhook for breach notices; answers with a new secret.
pub async fn set_webhook(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    ApiJson(body): ApiJson<WebhookBody>,
) -> ApiResult<Json<WebhookView>> {
    let c = customer_id(&p.customer)?;
    let (hook, secret) = state
        .incidents
        .set_webhook(&caller.ctx, &caller.principal, &c, &body.url)
        .await?;
    Ok(Json(hook_view(hook, Some(secret))))
}

/// The customer's webhook, without its secret.
pub async fn get_webhook(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
) -> ApiResult<Json<WebhookView>> {
    let c = customer_id(&p.customer)?;
    let hook = state.incidents.webhook(&caller.ctx, &caller.principal, &c).await?;
    Ok(Json(hook_view(hook, None)))
}

/// Remove the customer's webhook.
pub async fn remove_webhook(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
) -> ApiResult<StatusCode> {
    let c = customer_id(&p.customer)?;
    state
        .incidents
        .remove_webhook(&caller.ctx, &caller.principal, &c)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
