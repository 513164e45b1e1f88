//! The pages of the processor's staff.

use super::pages::when;
use super::{Page, PageError, St, Viewer};
use serde::Serialize;

#[derive(Debug, Serialize)]
struct CustomersView {
    customers: Vec<CustomerRow>,
}

#[derive(Debug, Serialize)]
struct CustomerRow {
    id: String,
    name: String,
    language: &'static str,
    status: &'static str,
    since: String,
}

/// `/staff`: the customers the viewer may see.
pub(crate) async fn customers(viewer: Viewer, state: St) -> Result<Page, PageError> {
    if !viewer.is_staff() {
        return Err(PageError::Redirect("/".into()));
    }
    let list = state
        .agreements
        .customers(&viewer.caller.principal)
        .await
        .map_err(|e| viewer.failed(e))?;
    let view = CustomersView {
        customers: list
            .iter()
            .map(|c| CustomerRow {
                id: c.id.to_string(),
                name: c.name.clone(),
                language: c.language.tag(),
                status: text::table(viewer.lang).get(&format!("customer_{}", wire(&c.status))),
                since: when(c.created_at),
            })
            .collect(),
    };
    viewer.page("staff_customers.html", None, view)
}

// ----- the incident register ----------------------------------------------------------------

use super::{Form, PagePath, PageQuery, done_by, see_other, text, wire};
use art28_core::ids::CustomerId;
use art28_core::incident::Step;
use art28_core::{Error, ErrorCode};
use art28_service::records::IncidentRecord;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Debug, Serialize)]
struct RegisterView {
    incidents: Vec<RegisterRow>,
    can_report: bool,
    summary_error: Option<String>,
}

#[derive(Debug, Serialize)]
struct RegisterRow {
    id: u64,
    summary: String,
    status: &'static str,
    aware_at: String,
    customers: Vec<String>,
}

fn status_label(t: &text::Text, i: &IncidentRecord) -> &'static str {
    t.get(&format!("status_{}", i.status.as_str()))
}

/// The register, newest first, as the page shows it.
async fn register_view(viewer: &Viewer, state: &St) -> Result<RegisterView, PageError> {
    let list = state
        .incidents
        .list(&viewer.caller.ctx, &viewer.caller.principal, None)
        .await
        .map_err(|e| viewer.failed(e))?;
    let t = text::table(viewer.lang);
    Ok(RegisterView {
        incidents: list
            .iter()
            .rev()
            .map(|i| RegisterRow {
                id: i.id,
                summary: i.details.summary.clone(),
                status: status_label(t, i),
                aware_at: when(i.aware_at),
                customers: i.customers.iter().map(|c| c.customer.to_string()).collect(),
            })
            .collect(),
        can_report: art28_core::auth::authorize(
            &viewer.caller.principal,
            art28_core::auth::Permission::IncidentsReport,
            None,
        )
        .is_ok(),
        summary_error: None,
    })
}

/// `/staff/incidents`: the register, newest first, and a form to report a new incident.
pub(crate) async fn incidents(viewer: Viewer, state: St) -> Result<Page, PageError> {
    let view = register_view(&viewer, &state).await?;
    viewer.page("staff_incidents.html", None, view)
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReportForm {
    summary: String,
    description: String,
}

/// `POST /staff/incidents`: a new incident, aware now.
pub(crate) async fn report(viewer: Viewer, state: St, Form(form): Form<ReportForm>) -> Result<Response, PageError> {
    let t = text::table(viewer.lang);
    let problem = if form.summary.trim().is_empty() {
        Some(t.get("summary_required").to_string())
    } else {
        None
    };
    let report: Result<art28_service::incidents::Report, _> = serde_json::from_value(serde_json::json!({
        "details": {"summary": form.summary.trim(), "description": form.description.trim()}
    }));
    let outcome: Result<(), String> = match (problem, report) {
        (Some(p), _) => Err(p),
        (None, Err(e)) => Err(e.to_string()),
        (None, Ok(report)) => match state
            .incidents
            .report(&viewer.caller.ctx, &viewer.caller.principal, None, report)
            .await
        {
            Ok(inc) => return Ok(see_other(&format!("/staff/incidents/{}", inc.id))),
            Err(e) if e.code == ErrorCode::IncidentInvalid => Err(t.error(&e)),
            Err(e) => return Err(viewer.failed(e)),
        },
    };
    let message = outcome.err().unwrap_or_default();
    let view = RegisterView {
        summary_error: Some(message),
        ..register_view(&viewer, &state).await?
    };
    Ok(viewer
        .page("staff_incidents.html", None, view)?
        .with_status(axum::http::StatusCode::UNPROCESSABLE_ENTITY)
        .into_response())
}

#[derive(Debug, Serialize)]
struct IncidentView {
    id: u64,
    version: u64,
    summary: String,
    description: String,
    status: &'static str,
    kind: &'static str,
    aware_at: String,
    reported_by: String,
    customers: Vec<AffectedRow>,
    events: Vec<EventRow>,
    steps: Vec<(&'static str, &'static str, bool)>,
    can_send: bool,
    addable: Vec<(String, String)>,
    /// Without `customers_read` (a security officer) the customer is typed, not chosen.
    type_customer: bool,
    details: DetailsForm,
    missing: Vec<&'static str>,
    done: bool,
}

/// The details as the form shows them.
#[derive(Debug, Serialize)]
struct DetailsForm {
    texts: Vec<(&'static str, &'static str, String)>,
    impact: Vec<(String, &'static str, bool)>,
    actions: Vec<(String, &'static str, bool)>,
}

/// The free-text fields of the details a person fills in, in the order of a notice.
const DETAIL_TEXTS: &[&str] = &[
    "description",
    "cause",
    "failed_measure",
    "consequences",
    "recovery",
    "measures_taken",
    "measures_proposed",
];

fn detail_text<'a>(d: &'a art28_core::incident::Details, field: &str) -> &'a str {
    match field {
        "description" => &d.description,
        "cause" => &d.cause,
        "failed_measure" => &d.failed_measure,
        "consequences" => &d.consequences,
        "recovery" => &d.recovery,
        "measures_taken" => &d.measures_taken,
        "measures_proposed" => &d.measures_proposed,
        _ => "",
    }
}

fn details_form(t: &text::Text, d: &art28_core::incident::Details) -> DetailsForm {
    use art28_core::incident::{BreachAction as A, Impact as I};
    DetailsForm {
        texts: DETAIL_TEXTS
            .iter()
            .map(|f| (*f, t.get(&format!("field_{f}")), detail_text(d, f).to_string()))
            .collect(),
        impact: [I::Confidentiality, I::Integrity, I::Availability]
            .iter()
            .map(|i| {
                let w = wire(i);
                let label = t.get(&format!("impact_{w}"));
                (w, label, d.impact.contains(i))
            })
            .collect(),
        actions: [A::Reading, A::Copying, A::Changing, A::Deleting, A::Theft]
            .iter()
            .map(|a| {
                let w = wire(a);
                let label = t.get(&format!("action_{w}"));
                (w, label, d.actions.contains(a))
            })
            .collect(),
    }
}

#[derive(Debug, Serialize)]
struct AffectedRow {
    customer: String,
    due_at: String,
    notified_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct EventRow {
    at: String,
    by: String,
    to: &'static str,
    note: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct IdPath {
    id: u64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DoneQuery {
    done: Option<String>,
}

/// `/staff/incidents/{id}`: one incident, its history, the customers it touches, and the
/// workflow's next steps.
pub(crate) async fn incident(
    viewer: Viewer,
    state: St,
    PagePath(p): PagePath<IdPath>,
    PageQuery(q): PageQuery<DoneQuery>,
) -> Result<Page, PageError> {
    let (ctx, who) = (&viewer.caller.ctx, &viewer.caller.principal);
    let i = state
        .incidents
        .get(ctx, who, None, p.id)
        .await
        .map_err(|e| viewer.failed(e))?;
    // Who may not list the customers (a security officer) types the one to add.
    let customers = state.agreements.customers(who).await.unwrap_or_default();
    let t = text::table(viewer.lang);
    use art28_core::incident::Status as S;
    let steps: &[(&str, &str, bool)] = match i.status {
        S::Reported => &[("triage", "step_triage", false)],
        S::Triaged => &[
            ("breach", "step_breach", false),
            ("not_a_breach", "step_not_a_breach", true),
        ],
        S::Breach | S::Notified | S::NotABreach => &[("close", "step_close", true)],
        S::Closed => &[],
    };
    let open = !matches!(i.status, S::Closed | S::NotABreach);
    let view = IncidentView {
        id: i.id,
        version: i.version,
        summary: i.details.summary.clone(),
        description: i.details.description.clone(),
        status: status_label(t, &i),
        kind: t.get(&format!("kind_{}", wire(&i.kind))),
        aware_at: when(i.aware_at),
        reported_by: i.reported_by.clone(),
        customers: i
            .customers
            .iter()
            .map(|c| AffectedRow {
                customer: c.customer.to_string(),
                due_at: when(c.due_at),
                notified_at: c.notified_at.map(when),
            })
            .collect(),
        events: i
            .events
            .iter()
            .map(|e| EventRow {
                at: when(e.at),
                by: e.by.clone(),
                to: t.get(&format!("status_{}", e.to.as_str())),
                note: e.note.clone(),
            })
            .collect(),
        steps: steps.iter().map(|(s, k, reason)| (*s, t.get(k), *reason)).collect(),
        can_send: matches!(i.status, S::Breach | S::Notified)
            && !i.customers.is_empty()
            && i.details.missing_for_notice().is_empty(),
        type_customer: open && customers.is_empty(),
        details: details_form(t, &i.details),
        missing: i
            .details
            .missing_for_notice()
            .iter()
            .map(|f| t.get(&format!("field_{f}")))
            .collect(),
        addable: if open {
            customers
                .iter()
                .filter(|c| !i.customers.iter().any(|a| a.customer == c.id))
                .map(|c| (c.id.to_string(), c.name.clone()))
                .collect()
        } else {
            Vec::new()
        },
        done: q.done.is_some(),
    };
    viewer.page("staff_incident.html", None, view)
}

#[derive(Debug, Deserialize)]
pub(crate) struct StepForm {
    version: u64,
    step: String,
    reason: Option<String>,
}

/// `POST /staff/incidents/{id}/step`.
pub(crate) async fn step(
    viewer: Viewer,
    state: St,
    PagePath(p): PagePath<IdPath>,
    Form(form): Form<StepForm>,
) -> Result<Response, PageError> {
    let step: Step = serde_json::from_value(serde_json::Value::String(form.step.clone())).map_err(|_| {
        viewer.failed(Error::new(
            ErrorCode::BadRequest,
            format!("there is no step `{}`", form.step),
        ))
    })?;
    let reason = form.reason.as_deref().filter(|r| !r.trim().is_empty());
    state
        .incidents
        .step(&viewer.caller.principal, p.id, form.version, step, reason)
        .await
        .map_err(|e| viewer.failed(e))?;
    Ok(see_other(&format!("/staff/incidents/{}?done=1", p.id)))
}

/// `POST /staff/incidents/{id}/details`: what is known, as a notice needs it. The fields the
/// form does not show (the period, systems, sub-processors) are kept as they are.
pub(crate) async fn details(
    viewer: Viewer,
    state: St,
    PagePath(p): PagePath<IdPath>,
    super::Pairs(form): super::Pairs,
) -> Result<Response, PageError> {
    let (ctx, who) = (&viewer.caller.ctx, &viewer.caller.principal);
    let i = state
        .incidents
        .get(ctx, who, None, p.id)
        .await
        .map_err(|e| viewer.failed(e))?;
    let bad = |m: String| viewer.failed(Error::new(ErrorCode::BadRequest, m));
    let mut d = i.details.clone();
    d.impact.clear();
    d.actions.clear();
    let mut version = None;
    for (k, v) in &form {
        let v = v.trim().to_string();
        match k.as_str() {
            "version" => version = Some(v.parse::<u64>().map_err(|_| bad("the version is a number".into()))?),
            "impact" => d
                .impact
                .push(serde_json::from_value(serde_json::Value::String(v)).map_err(|e| bad(e.to_string()))?),
            "action" => d
                .actions
                .push(serde_json::from_value(serde_json::Value::String(v)).map_err(|e| bad(e.to_string()))?),
            "description" => d.description = v,
            "cause" => d.cause = v,
            "failed_measure" => d.failed_measure = v,
            "consequences" => d.consequences = v,
            "recovery" => d.recovery = v,
            "measures_taken" => d.measures_taken = v,
            "measures_proposed" => d.measures_proposed = v,
            other => return Err(bad(format!("the form has no field `{other}`"))),
        }
    }
    let version = version.ok_or_else(|| bad("the form lacks the version".into()))?;
    state
        .incidents
        .update_details(who, p.id, version, d)
        .await
        .map_err(|e| viewer.failed(e))?;
    Ok(see_other(&format!("/staff/incidents/{}?done=1", p.id)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct AddForm {
    version: u64,
    customer: String,
}

/// `POST /staff/incidents/{id}/customers`: one more customer it touches.
pub(crate) async fn add_customer(
    viewer: Viewer,
    state: St,
    PagePath(p): PagePath<IdPath>,
    Form(form): Form<AddForm>,
) -> Result<Response, PageError> {
    let customer: CustomerId = form.customer.parse().map_err(|e| viewer.failed(e))?;
    state
        .incidents
        .set_customers(
            &viewer.caller.ctx,
            &viewer.caller.principal,
            p.id,
            form.version,
            vec![(customer, None)],
            Vec::new(),
        )
        .await
        .map_err(|e| viewer.failed(e))?;
    Ok(see_other(&format!("/staff/incidents/{}?done=1", p.id)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SendForm {
    version: u64,
}

/// `POST /staff/incidents/{id}/notices`: the notices to every customer not yet told, through
/// the outbox.
pub(crate) async fn send(
    viewer: Viewer,
    state: St,
    PagePath(p): PagePath<IdPath>,
    Form(form): Form<SendForm>,
) -> Result<Response, PageError> {
    state
        .incidents
        .send(&viewer.caller.ctx, &viewer.caller.principal, p.id, form.version, None)
        .await
        .map_err(|e| viewer.failed(e))?;
    state.outbox_wake.notify_one();
    Ok(see_other(&format!("/staff/incidents/{}?done=1", p.id)))
}

// ----- security events and the permission register -----------------------------------------

#[derive(Debug, Serialize)]
struct EventsView {
    events: Vec<SecurityRow>,
}

#[derive(Debug, Serialize)]
struct SecurityRow {
    time: String,
    username: String,
    kind: String,
    detail: String,
    client: String,
}

/// `/staff/security`: the newest security events (failed logins, lockouts, grants …).
pub(crate) async fn security(viewer: Viewer, state: St) -> Result<Page, PageError> {
    let events = state
        .accounts
        .security_events(&viewer.caller.principal, 0, 1000)
        .await
        .map_err(|e| viewer.failed(e))?;
    let view = EventsView {
        events: events
            .iter()
            .rev()
            .take(200)
            .map(|e| SecurityRow {
                time: when(e.time),
                username: e.username.clone().unwrap_or_default(),
                kind: e.kind.clone(),
                detail: e.detail.clone(),
                client: e.client.clone().unwrap_or_default(),
            })
            .collect(),
    };
    viewer.page("staff_security.html", None, view)
}

#[derive(Debug, Serialize)]
struct PermissionsView {
    grants: Vec<PermissionRow>,
}

#[derive(Debug, Serialize)]
struct PermissionRow {
    account: String,
    role: String,
    customer: String,
    granted: String,
    revoked: Option<String>,
}

/// `/staff/permissions`: who holds which role for whom, since when, and by whose grant; ended
/// grants stay.
pub(crate) async fn permissions(viewer: Viewer, state: St) -> Result<Page, PageError> {
    let grants = state
        .accounts
        .grants(&viewer.caller.ctx, &viewer.caller.principal, None)
        .await
        .map_err(|e| viewer.failed(e))?;
    let names: std::collections::HashMap<u64, String> = state
        .accounts
        .accounts(&viewer.caller.ctx, &viewer.caller.principal, None)
        .await
        .map_err(|e| viewer.failed(e))?
        .into_iter()
        .map(|a| (a.id, a.username))
        .collect();
    let t = text::table(viewer.lang);
    let view = PermissionsView {
        grants: grants
            .iter()
            .map(|g| PermissionRow {
                account: names
                    .get(&g.account_id)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", g.account_id)),
                role: g
                    .role
                    .parse()
                    .map_or_else(|_| g.role.clone(), |r| t.role(r).to_string()),
                customer: g.tenant.as_ref().map(ToString::to_string).unwrap_or_default(),
                granted: done_by(t, Some(g.granted_at), Some(&g.granted_by)).unwrap_or_default(),
                revoked: done_by(t, g.revoked_at, g.revoked_by.as_deref()),
            })
            .collect(),
    };
    viewer.page("staff_permissions.html", None, view)
}

// ----- the deadlines view -------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct DeadlinesView {
    now: String,
    deadlines: Vec<DeadlineRow>,
    json: String,
    ics: String,
}

#[derive(Debug, Serialize)]
struct DeadlineRow {
    kind: &'static str,
    customer: String,
    subject: String,
    link: Option<String>,
    due: String,
    done: Option<String>,
    state: &'static str,
    class: &'static str,
}

/// `/deadlines`: every term that runs (breach notices today), overdue and due soon first, as
/// the service computes them; for staff all customers, for a customer's account its own. The
/// same list as JSON and as an iCalendar feed.
pub(crate) async fn deadlines(viewer: Viewer, state: St) -> Result<Page, PageError> {
    use art28_core::incident::DeadlineState as D;
    let filter = art28_service::deadlines::Filter {
        customer: viewer.customer().cloned(),
        state: None,
    };
    let (now, list) = state
        .deadlines
        .deadlines(&viewer.caller.ctx, &viewer.caller.principal, &filter)
        .await
        .map_err(|e| viewer.failed(e))?;
    let staff = viewer.is_staff();
    let query = viewer.customer().map(|c| format!("?customer={c}")).unwrap_or_default();
    let view = DeadlinesView {
        now: when(now),
        deadlines: list
            .iter()
            .map(|d| DeadlineRow {
                kind: d.kind.label(viewer.lang),
                customer: d.customer.to_string(),
                subject: format!(
                    "{} {}: {}",
                    text::table(viewer.lang).get("incident"),
                    d.subject.number,
                    d.subject.title
                ),
                link: Some(if staff {
                    format!("/staff/incidents/{}", d.subject.number)
                } else {
                    format!("/c/{}/incidents#incident-{}", d.customer, d.subject.number)
                }),
                due: when(d.due),
                done: d.done.map(when),
                state: d.state.label(viewer.lang),
                class: match d.state {
                    D::Overdue | D::MetLate => "error",
                    D::DueSoon => "warn",
                    D::Met => "ok",
                    D::Open => "",
                },
            })
            .collect(),
        json: format!("/api/v1/deadlines{query}"),
        ics: format!(
            "/api/v1/deadlines.ics{query}{}lang={}",
            if query.is_empty() { "?" } else { "&" },
            viewer.lang.tag()
        ),
    };
    let customer = viewer.customer().cloned();
    viewer.page("deadlines.html", customer.as_ref(), view)
}
