//! The sub-processor pages: a customer's list in force, the changes announced to it with the
//! forms to object or approve, its list requests and feed; and the processor's register with
//! the forms to register, announce, decide on objections and answer list requests. Each handler
//! calls the door the API's route for the same thing calls, with the same caller.

use super::pages::{may, when};
use super::{Form, Page, PageError, PagePath, PageQuery, St, Viewer, see_other, text};
use art28_core::agreement::Safeguard;
use art28_core::auth::Permission;
use art28_core::date::Date;
use art28_core::ids::CustomerId;
use art28_core::lang::{Lang, Text};
use art28_core::subprocessor::{ChangeKind, CustomerState, Decision, Entry};
use art28_core::{Error, ErrorKind};
use art28_service::subprocessors::Announce;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

fn customer_id(viewer: &Viewer, raw: &str) -> Result<CustomerId, PageError> {
    raw.parse::<CustomerId>().map_err(|e| viewer.failed(e))
}

fn state_label(lang: Lang, s: CustomerState) -> String {
    s.label(lang).to_string()
}

fn safeguard_label(lang: Lang, s: Option<Safeguard>) -> String {
    art28_render::subprocessors::safeguard(s, lang)
}

/// A refusal a person can mend shows on the page itself (422); anything else is the error page.
fn mendable(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Refused | ErrorKind::Invalid | ErrorKind::Conflict)
}

// ----- a customer's page --------------------------------------------------------------------

#[derive(Debug, Serialize)]
struct ListRow {
    name: String,
    service: String,
    location: String,
    region: String,
    access: String,
    safeguard: String,
    since: String,
}

#[derive(Debug, Serialize)]
struct EventRow {
    at: String,
    by: String,
    state: String,
    note: String,
}

#[derive(Debug, Serialize)]
struct ChangeRow {
    id: u64,
    kind: String,
    name: String,
    service: String,
    locations: String,
    safeguard: String,
    replaces: Option<String>,
    effective: String,
    note: String,
    announced_at: String,
    state: String,
    state_code: String,
    rule: Option<String>,
    objection_until: Option<String>,
    termination_until: Option<String>,
    can_object: bool,
    can_approve: bool,
    events: Vec<EventRow>,
}

#[derive(Debug, Serialize)]
struct RequestRow {
    id: u64,
    requested_at: String,
    requested_by: String,
    due_at: Option<String>,
    answered: Option<String>,
    answer_on: Option<String>,
}

#[derive(Debug, Serialize)]
struct CustomerView {
    customer: String,
    on: String,
    authorisation: String,
    notice: String,
    list: Vec<ListRow>,
    no_agreement: Option<String>,
    changes: Vec<ChangeRow>,
    requests: Vec<RequestRow>,
    can_answer: bool,
    feed_url: Option<String>,
    error: Option<String>,
    done: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OnQuery {
    on: Option<String>,
    done: Option<String>,
}

async fn customer_view(
    viewer: &Viewer,
    state: &St,
    id: &CustomerId,
    on: Option<Date>,
) -> Result<CustomerView, PageError> {
    let (ctx, who) = (&viewer.caller.ctx, &viewer.caller.principal);
    let lang = viewer.lang;
    let t = text::table(lang);
    let sp = &state.subprocessors;
    // Without an agreement in force on the date (it ended, or a date before it) there is no
    // list, but the changes and requests are still shown.
    let (list, no_agreement) = match sp.in_force(ctx, who, id, on).await {
        Ok(l) => (Some(l), None),
        Err(e) if e.code == art28_core::ErrorCode::NoAgreementInForce => (None, Some(t.error(&e))),
        Err(e) => return Err(viewer.failed(e)),
    };
    let changes = sp.changes(ctx, who, Some(id)).await.map_err(|e| viewer.failed(e))?;
    let can_answer = may(viewer, Permission::SubprocessorsAnswer, id);
    let today = sp.today();
    let rows = changes
        .iter()
        .rev()
        .filter_map(|c| {
            let row = c.customers.iter().find(|r| &r.customer == id)?;
            let open_objection = row.state == CustomerState::Announced
                && c.kind.needs_consent()
                && row.objection_until.is_some_and(|d| d >= today);
            Some(ChangeRow {
                id: c.id,
                kind: c.kind.label(lang).to_string(),
                name: c.entry.name.clone(),
                service: c.entry.service.get(lang).to_string(),
                locations: c.entry.locations().join(", "),
                safeguard: safeguard_label(lang, c.entry.safeguard),
                replaces: c.replaces.as_ref().map(|(_, n)| n.clone()),
                effective: c.effective.to_string(),
                note: c.note.get(lang).to_string(),
                announced_at: when(c.announced_at),
                state: state_label(lang, row.state),
                state_code: row.state.as_str().to_string(),
                rule: row.rule.clone(),
                objection_until: row.objection_until.map(|d| d.to_string()),
                termination_until: row.termination_until.map(|d| d.to_string()),
                can_object: can_answer && open_objection,
                can_approve: can_answer && row.state == CustomerState::AwaitingApproval,
                events: row
                    .events
                    .iter()
                    .map(|e| EventRow {
                        at: when(e.at),
                        by: e.by.clone(),
                        state: state_label(lang, e.to),
                        note: e.note.clone(),
                    })
                    .collect(),
            })
        })
        .collect();
    let requests = sp
        .list_requests(ctx, who, Some(id))
        .await
        .map_err(|e| viewer.failed(e))?
        .into_iter()
        .rev()
        .map(|r| RequestRow {
            id: r.id,
            requested_at: when(r.requested_at),
            requested_by: r.requested_by,
            due_at: r.due_at.map(when),
            answered: super::done_by(t, r.answered_at, r.answered_by.as_deref()),
            answer_on: r.answer_on.map(|d| d.to_string()),
        })
        .collect();
    let shown_on = list.as_ref().map_or_else(|| on.unwrap_or(today), |l| l.on);
    Ok(CustomerView {
        customer: id.to_string(),
        on: shown_on.to_string(),
        authorisation: list.as_ref().map_or_else(String::new, |l| {
            t.get(match l.authorisation {
                art28_core::agreement::Authorisation::General => "sp_general",
                art28_core::agreement::Authorisation::Specific => "sp_specific",
            })
            .to_string()
        }),
        notice: list.as_ref().map_or_else(String::new, |l| {
            l.notice
                .parse::<art28_core::duration::IsoDuration>()
                .map_or_else(|_| l.notice.clone(), |d| d.describe(lang))
        }),
        list: list
            .iter()
            .flat_map(|l| l.list.iter())
            .map(|l| ListRow {
                name: l.item.name.clone(),
                service: l.item.service.get(lang).to_string(),
                location: l.item.location.clone(),
                region: l.item.region.clone().unwrap_or_default(),
                access: l.access_locations.join(", "),
                safeguard: safeguard_label(lang, l.item.safeguard),
                since: l.item.since.map(|d| d.to_string()).unwrap_or_default(),
            })
            .collect(),
        no_agreement,
        changes: rows,
        requests,
        can_answer,
        feed_url: None,
        error: None,
        done: false,
    })
}

/// `/c/{customer}/subprocessors`: the list in force (on a date), the changes, the requests.
pub(crate) async fn customer(
    viewer: Viewer,
    state: St,
    PagePath(raw): PagePath<String>,
    PageQuery(q): PageQuery<OnQuery>,
) -> Result<Page, PageError> {
    let id = customer_id(&viewer, &raw)?;
    let on = match q.on.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            s.parse::<Date>()
                .map_err(|e| viewer.failed(Error::new(art28_core::ErrorCode::BadRequest, e.to_string())))?,
        ),
        None => None,
    };
    let mut view = customer_view(&viewer, &state, &id, on).await?;
    view.done = q.done.is_some();
    viewer.page("subprocessors.html", Some(&id), view)
}

async fn refuse_customer(viewer: &Viewer, state: &St, id: &CustomerId, e: Error) -> Result<Response, PageError> {
    if !mendable(&e) {
        return Err(viewer.failed(e));
    }
    let mut view = customer_view(viewer, state, id, None).await?;
    view.error = Some(text::table(viewer.lang).error(&e));
    Ok(viewer
        .page("subprocessors.html", Some(id), view)?
        .with_status(StatusCode::UNPROCESSABLE_ENTITY)
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChangePath {
    customer: String,
    change: u64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ObjectForm {
    reasons: String,
}

/// `POST /c/{customer}/subprocessors/{change}/object`.
pub(crate) async fn object(
    viewer: Viewer,
    state: St,
    PagePath(p): PagePath<ChangePath>,
    Form(form): Form<ObjectForm>,
) -> Result<Response, PageError> {
    let id = customer_id(&viewer, &p.customer)?;
    let done = state
        .subprocessors
        .object(
            &viewer.caller.ctx,
            &viewer.caller.principal,
            &id,
            p.change,
            &form.reasons,
        )
        .await;
    match done {
        Ok(_) => Ok(see_other(&format!("/c/{id}/subprocessors?done=1#change-{}", p.change))),
        Err(e) => refuse_customer(&viewer, &state, &id, e).await,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApproveForm {
    answer: String,
    #[serde(default)]
    note: String,
}

/// `POST /c/{customer}/subprocessors/{change}/approve`: `answer` is `approve` or `reject`.
pub(crate) async fn approve(
    viewer: Viewer,
    state: St,
    PagePath(p): PagePath<ChangePath>,
    Form(form): Form<ApproveForm>,
) -> Result<Response, PageError> {
    let id = customer_id(&viewer, &p.customer)?;
    let yes = match form.answer.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Err(viewer.failed(Error::new(
                art28_core::ErrorCode::BadRequest,
                "`answer` is `approve` or `reject`",
            )));
        }
    };
    let done = state
        .subprocessors
        .approve(
            &viewer.caller.ctx,
            &viewer.caller.principal,
            &id,
            p.change,
            yes,
            &form.note,
        )
        .await;
    match done {
        Ok(_) => Ok(see_other(&format!("/c/{id}/subprocessors?done=1#change-{}", p.change))),
        Err(e) => refuse_customer(&viewer, &state, &id, e).await,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RequestForm {
    #[serde(default)]
    note: String,
}

/// `POST /c/{customer}/subprocessors/requests`: ask for the list.
pub(crate) async fn request(
    viewer: Viewer,
    state: St,
    PagePath(raw): PagePath<String>,
    Form(form): Form<RequestForm>,
) -> Result<Response, PageError> {
    let id = customer_id(&viewer, &raw)?;
    let done = state
        .subprocessors
        .request_list(&viewer.caller.ctx, &viewer.caller.principal, &id, &form.note)
        .await;
    match done {
        Ok(_) => Ok(see_other(&format!("/c/{id}/subprocessors?done=1#requests"))),
        Err(e) => refuse_customer(&viewer, &state, &id, e).await,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct FeedForm {
    #[serde(default)]
    rotate: Option<String>,
}

/// `POST /c/{customer}/subprocessors/feed`: the feed's address with its key, shown on the answer
/// only (`rotate`: a new key, the old one stops working).
pub(crate) async fn feed(
    viewer: Viewer,
    state: St,
    PagePath(raw): PagePath<String>,
    Form(form): Form<FeedForm>,
) -> Result<Response, PageError> {
    let id = customer_id(&viewer, &raw)?;
    let key = state
        .subprocessors
        .feed_key(&viewer.caller.ctx, &viewer.caller.principal, &id, form.rotate.is_some())
        .await
        .map_err(|e| viewer.failed(e))?;
    let mut view = customer_view(&viewer, &state, &id, None).await?;
    view.feed_url = Some(format!("/feeds/{id}/subprocessors.atom?key={key}"));
    Ok(viewer.page("subprocessors.html", Some(&id), view)?.into_response())
}

// ----- the processor's register -------------------------------------------------------------

#[derive(Debug, Serialize)]
struct EntryRow {
    id: u64,
    version: u32,
    name: String,
    service: String,
    location: String,
    region: String,
    access: String,
    safeguard: String,
    reference: String,
    contract: Option<String>,
}

#[derive(Debug, Serialize)]
struct StaffCustomerRow {
    customer: String,
    state: String,
    rule: Option<String>,
    objection: Option<String>,
    can_decide: bool,
}

#[derive(Debug, Serialize)]
struct StaffChangeRow {
    id: u64,
    kind: String,
    name: String,
    effective: String,
    announced: String,
    customers: Vec<StaffCustomerRow>,
}

#[derive(Debug, Serialize)]
struct StaffRequestRow {
    id: u64,
    customer: String,
    requested_at: String,
    due_at: Option<String>,
    answered: Option<String>,
}

#[derive(Debug, Serialize)]
struct StaffView {
    entries: Vec<EntryRow>,
    changes: Vec<StaffChangeRow>,
    requests: Vec<StaffRequestRow>,
    kinds: Vec<(String, String)>,
    decisions: Vec<(String, String)>,
    safeguards: Vec<(String, String)>,
    can_manage: bool,
    error: Option<String>,
    done: bool,
}

async fn staff_view(viewer: &Viewer, state: &St) -> Result<StaffView, PageError> {
    let (ctx, who) = (&viewer.caller.ctx, &viewer.caller.principal);
    let lang = viewer.lang;
    let t = text::table(lang);
    let sp = &state.subprocessors;
    let entries = sp.entries(who).await.map_err(|e| viewer.failed(e))?;
    let changes = sp.changes(ctx, who, None).await.map_err(|e| viewer.failed(e))?;
    let requests = sp.list_requests(ctx, who, None).await.map_err(|e| viewer.failed(e))?;
    let can_manage = art28_core::auth::authorize(who, Permission::SubprocessorsManage, None).is_ok();
    Ok(StaffView {
        entries: entries
            .iter()
            .map(|r| EntryRow {
                id: r.id,
                version: r.version,
                name: r.entry.name.clone(),
                service: r.entry.service.get(lang).to_string(),
                location: r.entry.location.clone(),
                region: r.entry.region.clone().unwrap_or_default(),
                access: r.entry.access_locations.join(", "),
                safeguard: safeguard_label(lang, r.entry.safeguard),
                reference: r.entry.safeguard_reference.clone().unwrap_or_default(),
                contract: r
                    .contract
                    .as_ref()
                    .map(|c| format!("{} · {} · SHA-256 {}", c.signed_on, c.file_name, c.sha256)),
            })
            .collect(),
        changes: changes
            .iter()
            .rev()
            .map(|c| StaffChangeRow {
                id: c.id,
                kind: c.kind.label(lang).to_string(),
                name: c.entry.name.clone(),
                effective: c.effective.to_string(),
                announced: super::done_by(t, Some(c.announced_at), Some(&c.announced_by)).unwrap_or_default(),
                customers: c
                    .customers
                    .iter()
                    .map(|r| StaffCustomerRow {
                        customer: r.customer.to_string(),
                        state: state_label(lang, r.state),
                        rule: r.rule.clone(),
                        objection: r
                            .events
                            .iter()
                            .rev()
                            .find(|e| e.to == CustomerState::Objected)
                            .map(|e| e.note.clone()),
                        can_decide: can_manage && r.state == CustomerState::Objected,
                    })
                    .collect(),
            })
            .collect(),
        requests: requests
            .iter()
            .rev()
            .map(|r| StaffRequestRow {
                id: r.id,
                customer: r.customer.to_string(),
                requested_at: when(r.requested_at),
                due_at: r.due_at.map(when),
                answered: super::done_by(t, r.answered_at, r.answered_by.as_deref()),
            })
            .collect(),
        kinds: ChangeKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label(lang).to_string()))
            .collect(),
        decisions: [
            ("withdrawn", CustomerState::Withdrawn),
            ("alternative_offered", CustomerState::AlternativeOffered),
            ("overruled", CustomerState::Overruled),
        ]
        .iter()
        .map(|(wire, s)| (wire.to_string(), s.label(lang).to_string()))
        .collect(),
        safeguards: [
            Safeguard::AdequacyDecision,
            Safeguard::StandardContractualClauses,
            Safeguard::BindingCorporateRules,
            Safeguard::CodeOfConduct,
            Safeguard::Certification,
        ]
        .iter()
        .map(|s| {
            let wire = serde_json::to_value(s)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            (wire, safeguard_label(lang, Some(*s)))
        })
        .collect(),
        can_manage,
        error: None,
        done: false,
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct DoneQuery {
    done: Option<String>,
}

/// `/staff/subprocessors`: the register, the changes with each customer's answer, the requests.
pub(crate) async fn register(viewer: Viewer, state: St, PageQuery(q): PageQuery<DoneQuery>) -> Result<Page, PageError> {
    let mut view = staff_view(&viewer, &state).await?;
    view.done = q.done.is_some();
    viewer.page("staff_subprocessors.html", None, view)
}

async fn refuse_staff(viewer: &Viewer, state: &St, e: Error) -> Result<Response, PageError> {
    if !mendable(&e) {
        return Err(viewer.failed(e));
    }
    let mut view = staff_view(viewer, state).await?;
    view.error = Some(text::table(viewer.lang).error(&e));
    Ok(viewer
        .page("staff_subprocessors.html", None, view)?
        .with_status(StatusCode::UNPROCESSABLE_ENTITY)
        .into_response())
}

fn list_of(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn optional(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|x| !x.is_empty())
}

#[derive(Debug, Deserialize)]
pub(crate) struct EntryForm {
    name: String,
    service_nl: String,
    service_en: String,
    purpose_nl: String,
    purpose_en: String,
    location: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    access_locations: String,
    #[serde(default)]
    categories: String,
    #[serde(default)]
    systems: String,
    #[serde(default)]
    safeguard: String,
    #[serde(default)]
    safeguard_reference: String,
}

/// `POST /staff/subprocessors`: register a sub-processor.
pub(crate) async fn create(viewer: Viewer, state: St, Form(f): Form<EntryForm>) -> Result<Response, PageError> {
    let safeguard = match f.safeguard.trim() {
        "" => None,
        s => match serde_json::from_value::<Safeguard>(serde_json::Value::String(s.to_string())) {
            Ok(g) => Some(g),
            Err(_) => {
                return Err(viewer.failed(Error::new(
                    art28_core::ErrorCode::BadRequest,
                    "`safeguard` is not one of the list",
                )));
            }
        },
    };
    let entry = Entry {
        name: f.name.trim().to_string(),
        service: Text {
            nl: f.service_nl,
            en: f.service_en,
        },
        purpose: Text {
            nl: f.purpose_nl,
            en: f.purpose_en,
        },
        location: f.location.trim().to_ascii_uppercase(),
        region: optional(&f.region),
        access_locations: list_of(&f.access_locations.to_ascii_uppercase()),
        categories: list_of(&f.categories),
        systems: list_of(&f.systems),
        safeguard,
        safeguard_reference: optional(&f.safeguard_reference),
    };
    match state.subprocessors.register(&viewer.caller.principal, entry).await {
        Ok(_) => Ok(see_other("/staff/subprocessors?done=1")),
        Err(e) => refuse_staff(&viewer, &state, e).await,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct AnnounceForm {
    kind: String,
    subprocessor: u64,
    #[serde(default)]
    replaces: String,
    effective: String,
    note_nl: String,
    note_en: String,
    #[serde(default)]
    customers: String,
}

/// `POST /staff/subprocessors/changes`: announce a change.
pub(crate) async fn announce(viewer: Viewer, state: St, Form(f): Form<AnnounceForm>) -> Result<Response, PageError> {
    let bad = |m: &str| Error::new(art28_core::ErrorCode::SubprocessorInvalid, m.to_string());
    let kind = match ChangeKind::parse(&f.kind) {
        Some(k) => k,
        None => return refuse_staff(&viewer, &state, bad("`kind` is not one of the list")).await,
    };
    let effective = match f.effective.trim().parse::<Date>() {
        Ok(d) => d,
        Err(_) => return refuse_staff(&viewer, &state, bad("`effective` is a date such as 2027-01-31")).await,
    };
    let replaces = match f.replaces.trim() {
        "" => None,
        s => match s.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => return refuse_staff(&viewer, &state, bad("`replaces` is a number in the register")).await,
        },
    };
    let mut customers = Vec::new();
    for c in list_of(&f.customers) {
        match c.parse::<CustomerId>() {
            Ok(id) => customers.push(id),
            Err(e) => return refuse_staff(&viewer, &state, e).await,
        }
    }
    let a = Announce {
        kind,
        subprocessor: f.subprocessor,
        replaces,
        effective,
        note: Text {
            nl: f.note_nl,
            en: f.note_en,
        },
        customers,
    };
    match state
        .subprocessors
        .announce(&viewer.caller.ctx, &viewer.caller.principal, a)
        .await
    {
        Ok(_) => {
            state.outbox_wake.notify_one();
            Ok(see_other("/staff/subprocessors?done=1#changes"))
        }
        Err(e) => refuse_staff(&viewer, &state, e).await,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecidePath {
    change: u64,
    customer: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecideForm {
    decision: String,
    note: String,
}

/// `POST /staff/subprocessors/changes/{change}/{customer}/decide`.
pub(crate) async fn decide(
    viewer: Viewer,
    state: St,
    PagePath(p): PagePath<DecidePath>,
    Form(f): Form<DecideForm>,
) -> Result<Response, PageError> {
    let id = customer_id(&viewer, &p.customer)?;
    let decision = match f.decision.as_str() {
        "withdrawn" => Decision::Withdrawn,
        "alternative_offered" => Decision::AlternativeOffered,
        "overruled" => Decision::Overruled,
        _ => {
            return Err(viewer.failed(Error::new(
                art28_core::ErrorCode::BadRequest,
                "`decision` is `withdrawn`, `alternative_offered` or `overruled`",
            )));
        }
    };
    match state
        .subprocessors
        .decide(
            &viewer.caller.ctx,
            &viewer.caller.principal,
            &id,
            p.change,
            decision,
            &f.note,
        )
        .await
    {
        Ok(_) => {
            state.outbox_wake.notify_one();
            Ok(see_other("/staff/subprocessors?done=1#changes"))
        }
        Err(e) => refuse_staff(&viewer, &state, e).await,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct AnswerPath {
    customer: String,
    request: u64,
}

/// `POST /staff/subprocessors/requests/{customer}/{request}/answer`: answer with today's list.
pub(crate) async fn answer(
    viewer: Viewer,
    state: St,
    PagePath(p): PagePath<AnswerPath>,
    Form(_): Form<super::pages::Nothing>,
) -> Result<Response, PageError> {
    let id = customer_id(&viewer, &p.customer)?;
    match state
        .subprocessors
        .answer_list(&viewer.caller.ctx, &viewer.caller.principal, &id, p.request, None)
        .await
    {
        Ok(_) => Ok(see_other("/staff/subprocessors?done=1#requests")),
        Err(e) => refuse_staff(&viewer, &state, e).await,
    }
}
