//! IncidentStore: the register with its history and affected customers, notices with their
//! deliveries through the outbox, and customers' webhooks.

use super::*;
use art28_core::ErrorCode;
use art28_core::incident::{CustomerScope, Details, IncidentKind, NoticeContent, Source, Status};
use art28_store::{
    AffectedCustomer, DeliveryOutcome, IncidentChange, IncidentEvent, IncidentRecord, NewDelivery, NewIncident,
    NewNotice, NoticeRecord,
};

fn details(summary: &str) -> Details {
    Details {
        summary: summary.into(),
        ..Details::default()
    }
}

fn new_incident(reporter: Option<&CustomerId>) -> NewIncident {
    NewIncident {
        source: if reporter.is_some() {
            Source::Customer
        } else {
            Source::SubProcessor
        },
        kind: IncidentKind::SecurityIncident,
        reported_by: "hoster (operator)".into(),
        reporter_tenant: reporter.cloned(),
        reported_to: "security officer".into(),
        aware_at: ts("2026-01-02T08:00:00Z"),
        created_at: ts("2026-01-02T09:00:00Z"),
        details: details("lost laptop"),
    }
}

fn step(from: Status, to: Status) -> IncidentEvent {
    IncidentEvent {
        at: ts("2026-01-02T10:00:00Z"),
        by: "officer".into(),
        from: Some(from),
        to,
        note: format!("{} to {}", from.as_str(), to.as_str()),
    }
}

fn moving(from: Status, to: Status) -> IncidentChange {
    IncidentChange {
        status: Some((from, to)),
        ..IncidentChange::default()
    }
}

fn affected(customer: &CustomerId, due: &str) -> AffectedCustomer {
    AffectedCustomer {
        customer: customer.clone(),
        due_at: ts(due),
        scope: None,
        added_at: ts("2026-01-02T10:00:00Z"),
        added_by: "officer".into(),
        notified_at: None,
    }
}

fn scope(customer: &CustomerId, records: u64) -> CustomerScope {
    CustomerScope {
        customer: customer.clone(),
        entries: 3,
        records,
        data_subjects: 1,
        categories: vec!["contact_details".into()],
        subject_groups: vec![],
    }
}

/// A notice of `step` to a customer, with one delivery per `(channel, recipient, key)`.
fn notice(inc: u64, customer: &CustomerId, step: u32, deliveries: &[(&str, &str, &str)]) -> NewNotice {
    NewNotice {
        customer: customer.clone(),
        step,
        language: Lang::Nl,
        subject: format!("incident {inc} step {step}"),
        body: "body".into(),
        content: NoticeContent {
            incident: inc,
            step,
            customer: customer.clone(),
            customer_name: "Klant".into(),
            addressees: vec!["ict <ict@x.example>".into()],
            processor: "P".into(),
            language: Lang::Nl,
            notice_at: ts("2026-01-02T11:00:00Z"),
            aware_at: ts("2026-01-02T08:00:00Z"),
            due_at: ts("2026-01-04T08:00:00Z"),
            controller_due_at: ts("2026-01-05T08:00:00Z"),
            details: details("lost laptop"),
            scope: scope(customer, 2),
            update: (step > 0).then(|| "more is known".to_string()),
        },
        deliveries: deliveries
            .iter()
            .map(|(channel, recipient, key)| NewDelivery {
                channel: (*channel).into(),
                recipient: (*recipient).into(),
                idempotency_key: (*key).into(),
            })
            .collect(),
    }
}

/// An incident at status `breach` affecting `customers` (due in that order of deadlines).
async fn breach(store: &dyn Store, customers: &[(&CustomerId, &str)]) -> IncidentRecord {
    let inc = store.create_incident(&new_incident(None), &[]).await.expect("create");
    let inc = store
        .update_incident(
            inc.id,
            inc.version,
            &moving(Status::Reported, Status::Triaged),
            &step(Status::Reported, Status::Triaged),
            &[],
        )
        .await
        .expect("triage");
    store
        .update_incident(
            inc.id,
            inc.version,
            &IncidentChange {
                customers: customers.iter().map(|(c, due)| affected(c, due)).collect(),
                ..moving(Status::Triaged, Status::Breach)
            },
            &step(Status::Triaged, Status::Breach),
            &[],
        )
        .await
        .expect("breach")
}

/// Queue notices on an incident without changing its status.
async fn send(store: &dyn Store, inc: &IncidentRecord, notices: &[NewNotice]) -> (IncidentRecord, Vec<NoticeRecord>) {
    store
        .add_notices(
            inc.id,
            inc.version,
            notices,
            (ts("2026-01-02T11:00:00Z"), "officer"),
            &IncidentChange::default(),
            &step(inc.status, inc.status),
            &[],
        )
        .await
        .expect("notices")
}

pub async fn incidents_are_registered_and_listed_by_customer(store: &dyn Store) {
    let customer = seed(store).await;
    let other = id("andere-klant");
    add_customer(store, &other).await;
    assert_eq!(store.incidents(None).await.expect("none"), vec![]);
    let first = store.create_incident(&new_incident(None), &[]).await.expect("create");
    assert_eq!(
        (
            first.status,
            first.version,
            first.source,
            first.kind,
            first.reporter_tenant.clone()
        ),
        (
            Status::Reported,
            1,
            Source::SubProcessor,
            IncidentKind::SecurityIncident,
            None
        )
    );
    assert_eq!(
        (
            first.reported_by.as_str(),
            first.reported_to.as_str(),
            first.aware_at,
            first.created_at
        ),
        (
            "hoster (operator)",
            "security officer",
            ts("2026-01-02T08:00:00Z"),
            ts("2026-01-02T09:00:00Z")
        )
    );
    assert_eq!(first.details, details("lost laptop"));
    assert_eq!(first.customers, vec![]);
    assert_eq!(first.events.len(), 1, "its first history line");
    assert_eq!(
        (
            first.events[0].from,
            first.events[0].to,
            first.events[0].at,
            first.events[0].by.as_str()
        ),
        (None, Status::Reported, first.created_at, "hoster (operator)")
    );
    let reported = store
        .create_incident(&new_incident(Some(&customer)), &[])
        .await
        .expect("create");
    assert!(reported.id > first.id);
    assert_eq!(reported.reporter_tenant.as_ref(), Some(&customer));
    assert_eq!(
        store.incident(first.id).await.expect("get"),
        Some(first.clone()),
        "reads back as created"
    );
    assert_eq!(store.incident(9999).await.expect("get"), None);

    // `other` is affected by the first.
    let first = store
        .update_incident(
            first.id,
            1,
            &IncidentChange {
                customers: vec![affected(&other, "2026-01-04T08:00:00Z")],
                ..IncidentChange::default()
            },
            &step(Status::Reported, Status::Reported),
            &[],
        )
        .await
        .expect("affect");
    let ids = |v: Vec<IncidentRecord>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.incidents(None).await.expect("all")),
        vec![first.id, reported.id]
    );
    assert_eq!(
        ids(store.incidents(Some(&customer)).await.expect("reported")),
        vec![reported.id]
    );
    assert_eq!(
        ids(store.incidents(Some(&other)).await.expect("affected")),
        vec![first.id]
    );
    assert_eq!(
        ids(store.incidents(Some(&id("nobody-here"))).await.expect("none")),
        Vec::<u64>::new()
    );
    let listed = store.incidents(Some(&other)).await.expect("affected");
    assert_eq!(listed[0], first, "with its customers and history");
}

pub async fn a_change_needs_the_current_version_and_status(store: &dyn Store) {
    let inc = store.create_incident(&new_incident(None), &[]).await.expect("create");
    let inc = store
        .update_incident(
            inc.id,
            1,
            &IncidentChange {
                details: Some(details("stolen laptop")),
                ..moving(Status::Reported, Status::Triaged)
            },
            &step(Status::Reported, Status::Triaged),
            &[],
        )
        .await
        .expect("triage");
    assert_eq!((inc.status, inc.version, inc.events.len()), (Status::Triaged, 2, 2));
    assert_eq!(inc.details.summary, "stolen laptop");
    assert_eq!(
        inc.events[1],
        step(Status::Reported, Status::Triaged),
        "the history line as given"
    );
    let stale = store
        .update_incident(
            inc.id,
            1,
            &IncidentChange {
                details: Some(details("lost")),
                ..IncidentChange::default()
            },
            &step(Status::Triaged, Status::Triaged),
            &[],
        )
        .await
        .expect_err("stale");
    assert_eq!(stale.code, ErrorCode::IncidentVersionConflict);
    let wrong = store
        .update_incident(
            inc.id,
            2,
            &IncidentChange {
                details: Some(details("lost")),
                ..moving(Status::Reported, Status::Triaged)
            },
            &step(Status::Reported, Status::Triaged),
            &[],
        )
        .await
        .expect_err("wrong from");
    assert_eq!(wrong.code, ErrorCode::IncidentTransitionNotAllowed);
    let missing = store
        .update_incident(
            9999,
            1,
            &IncidentChange::default(),
            &step(Status::Triaged, Status::Triaged),
            &[],
        )
        .await
        .expect_err("no such incident");
    assert_eq!(missing.code, ErrorCode::IncidentNotFound);
    // The failed changes left nothing behind: not their details, version or history lines.
    assert_eq!(store.incident(inc.id).await.expect("read"), Some(inc.clone()));
    let closed = store
        .update_incident(
            inc.id,
            2,
            &moving(Status::Triaged, Status::NotABreach),
            &step(Status::Triaged, Status::NotABreach),
            &[],
        )
        .await
        .expect("not a breach");
    assert_eq!(
        (closed.status, closed.version, closed.events.len()),
        (Status::NotABreach, 3, 3)
    );
}

pub async fn notices_are_stored_with_exactly_their_deliveries(store: &dyn Store) {
    let customer = seed(store).await;
    let other = id("andere-klant");
    add_customer(store, &other).await;
    let inc = breach(
        store,
        &[(&customer, "2026-01-04T08:00:00Z"), (&other, "2026-01-05T08:00:00Z")],
    )
    .await;
    let n1 = notice(
        inc.id,
        &customer,
        0,
        &[
            ("email", "ict@x.example", "key-1"),
            ("email", "dpo@x.example", "key-2"),
            ("webhook", "https://x.example/hook", "key-3"),
        ],
    );
    let n2 = notice(inc.id, &other, 0, &[]);
    let (after, notices) = store
        .add_notices(
            inc.id,
            inc.version,
            &[n1.clone(), n2.clone()],
            (ts("2026-01-02T11:00:00Z"), "officer"),
            &moving(Status::Breach, Status::Notified),
            &step(Status::Breach, Status::Notified),
            &[],
        )
        .await
        .expect("notices");
    assert_eq!(
        (after.status, after.version, after.events.len()),
        (Status::Notified, inc.version + 1, inc.events.len() + 1)
    );
    assert_eq!(notices.len(), 2);
    let first = &notices[0];
    assert_eq!(
        (
            first.incident_id,
            &first.customer,
            first.step,
            first.language,
            first.created_at,
            first.created_by.as_str()
        ),
        (inc.id, &customer, 0, Lang::Nl, ts("2026-01-02T11:00:00Z"), "officer")
    );
    assert_eq!(
        (first.subject.clone(), first.body.as_str(), first.content.clone()),
        (n1.subject.clone(), "body", n1.content.clone())
    );
    assert_eq!((first.acknowledged_at, first.acknowledged_by.clone()), (None, None));
    assert_eq!(
        first
            .deliveries
            .iter()
            .map(|d| (d.channel.as_str(), d.recipient.as_str(), d.idempotency_key.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("email", "ict@x.example", "key-1"),
            ("email", "dpo@x.example", "key-2"),
            ("webhook", "https://x.example/hook", "key-3"),
        ],
        "exactly the deliveries given, in order"
    );
    assert!(first.deliveries.iter().all(|d| d.notice_id == first.id
        && d.sent_at.is_none()
        && d.attempts == 0
        && d.last_error.is_none()
        && d.next_attempt_at == ts("2026-01-02T11:00:00Z")));
    assert_eq!(notices[1].deliveries, vec![], "none given, none queued");

    assert_eq!(
        store.notices(Some(inc.id), None).await.expect("n"),
        notices,
        "as returned"
    );
    assert_eq!(
        store.notices(None, Some(&other)).await.expect("n"),
        vec![notices[1].clone()]
    );
    assert_eq!(
        store.notices(Some(inc.id), Some(&customer)).await.expect("n"),
        vec![notices[0].clone()]
    );
    assert_eq!(store.notices(Some(9999), None).await.expect("n"), vec![]);
    assert_eq!(store.notices(None, None).await.expect("n").len(), 2);

    // A stale version stores nothing; the same notice again is refused and changes nothing.
    let update = notice(inc.id, &customer, 1, &[("email", "ict@x.example", "key-4")]);
    let stale = store
        .add_notices(
            inc.id,
            inc.version,
            std::slice::from_ref(&update),
            (ts("2026-01-03T11:00:00Z"), "officer"),
            &IncidentChange::default(),
            &step(Status::Notified, Status::Notified),
            &[],
        )
        .await
        .expect_err("stale");
    assert_eq!(stale.code, ErrorCode::IncidentVersionConflict);
    let dup = store
        .add_notices(
            after.id,
            after.version,
            &[update.clone(), n1.clone()],
            (ts("2026-01-03T11:00:00Z"), "officer"),
            &IncidentChange::default(),
            &step(Status::Notified, Status::Notified),
            &[],
        )
        .await
        .expect_err("duplicate notice");
    assert_eq!(dup.code, ErrorCode::IncidentVersionConflict);
    let wrong = store
        .add_notices(
            after.id,
            after.version,
            std::slice::from_ref(&update),
            (ts("2026-01-03T11:00:00Z"), "officer"),
            &moving(Status::Breach, Status::Notified),
            &step(Status::Breach, Status::Notified),
            &[],
        )
        .await
        .expect_err("wrong from");
    assert_eq!(wrong.code, ErrorCode::IncidentTransitionNotAllowed);
    assert_eq!(
        store.notices(None, None).await.expect("n"),
        notices,
        "nothing of the refused calls"
    );
    assert_eq!(store.incident(inc.id).await.expect("get"), Some(after.clone()));
    // An update notice in a later step is one more.
    let (_, later) = send(store, &after, &[update]).await;
    assert_eq!((later[0].step, later[0].deliveries.len()), (1, 1));
    assert_eq!(store.notices(Some(inc.id), Some(&customer)).await.expect("n").len(), 2);
}

pub async fn a_duplicate_delivery_key_leaves_nothing_of_the_call(store: &dyn Store) {
    let customer = seed(store).await;
    let other = id("andere-klant");
    add_customer(store, &other).await;
    let inc = breach(
        store,
        &[(&customer, "2026-01-04T08:00:00Z"), (&other, "2026-01-05T08:00:00Z")],
    )
    .await;
    let (inc, _) = send(
        store,
        &inc,
        &[notice(inc.id, &customer, 0, &[("email", "ict@x.example", "key-1")])],
    )
    .await;
    for deliveries in [
        // A key queued by an earlier call.
        vec![("email", "a@y.example", "key-2"), ("email", "b@y.example", "key-1")],
        // The same key twice in this call.
        vec![
            ("email", "a@y.example", "key-3"),
            ("webhook", "https://y.example", "key-3"),
        ],
    ] {
        let err = store
            .add_notices(
                inc.id,
                inc.version,
                &[notice(inc.id, &other, 0, &deliveries)],
                (ts("2026-01-02T12:00:00Z"), "officer"),
                &moving(Status::Breach, Status::Notified),
                &step(Status::Breach, Status::Notified),
                &[],
            )
            .await
            .expect_err("duplicate key");
        assert_eq!(err.code, ErrorCode::IncidentVersionConflict);
    }
    assert_eq!(store.notices(None, Some(&other)).await.expect("n"), vec![], "no notice");
    assert_eq!(
        store.incident(inc.id).await.expect("get"),
        Some(inc.clone()),
        "no status, version or line"
    );
    let due = store
        .due_deliveries(
            ts("2026-01-03T00:00:00Z"),
            &["email", "webhook"],
            100,
            ts("2026-01-03T00:00:00Z"),
        )
        .await
        .expect("due");
    assert_eq!(
        due.iter().map(|(d, _)| d.idempotency_key.as_str()).collect::<Vec<_>>(),
        vec!["key-1"],
        "no delivery of the refused calls"
    );
}

pub async fn the_outbox_serves_due_deliveries_per_channel_and_records_outcomes(store: &dyn Store) {
    let customer = seed(store).await;
    let inc = breach(store, &[(&customer, "2026-01-04T08:00:00Z")]).await;
    let (_, notices) = send(
        store,
        &inc,
        &[notice(
            inc.id,
            &customer,
            0,
            &[
                ("email", "ict@x.example", "k-1"),
                ("webhook", "https://x.example/hook", "k-2"),
                ("email", "dpo@x.example", "k-3"),
            ],
        )],
    )
    .await;
    let keys = |v: &[(art28_store::DeliveryRecord, NoticeRecord)]| {
        v.iter().map(|(d, _)| d.idempotency_key.clone()).collect::<Vec<_>>()
    };
    // Leased until the same moment: due again at once, so each call sees what is due.
    let due = |at: &'static str, channels: &'static [&'static str], limit: usize| async move {
        store
            .due_deliveries(ts(at), channels, limit, ts(at))
            .await
            .expect("due")
    };
    assert!(
        due("2026-01-02T10:59:59Z", &["email", "webhook"], 10).await.is_empty(),
        "not before the notice time"
    );
    let all = due("2026-01-02T11:00:00Z", &["email", "webhook"], 10).await;
    assert_eq!(keys(&all), vec!["k-1", "k-2", "k-3"]);
    assert!(all.iter().all(|(_, n)| n == &notices[0]), "each with its notice");
    assert_eq!(
        keys(&due("2026-01-02T11:00:00Z", &["email"], 10).await),
        vec!["k-1", "k-3"]
    );
    assert_eq!(keys(&due("2026-01-02T11:00:00Z", &["webhook"], 10).await), vec!["k-2"]);
    assert!(due("2026-01-02T11:00:00Z", &[], 10).await.is_empty());
    assert_eq!(
        keys(&due("2026-01-02T11:00:00Z", &["email", "webhook"], 2).await),
        vec!["k-1", "k-2"]
    );

    let id_of = |k: &str| all.iter().find(|(d, _)| d.idempotency_key == k).expect("delivery").0.id;
    store
        .record_delivery(
            id_of("k-1"),
            &DeliveryOutcome::Failed {
                error: "relay down".into(),
                retry_at: ts("2026-01-02T11:05:00Z"),
            },
        )
        .await
        .expect("fail");
    store
        .record_delivery(id_of("k-3"), &DeliveryOutcome::Sent(ts("2026-01-02T11:00:01Z")))
        .await
        .expect("sent");
    assert_eq!(
        keys(&due("2026-01-02T11:01:00Z", &["email", "webhook"], 10).await),
        vec!["k-2"],
        "sent is done, failed waits for its retry"
    );
    let retry = due("2026-01-02T11:05:00Z", &["email"], 10).await;
    assert_eq!(keys(&retry), vec!["k-1"]);
    let d = &retry[0].0;
    assert_eq!(
        (d.attempts, d.last_error.as_deref(), d.next_attempt_at, d.sent_at),
        (1, Some("relay down"), ts("2026-01-02T11:05:00Z"), None)
    );
    // A sent delivery stays as it was sent.
    store
        .record_delivery(id_of("k-3"), &DeliveryOutcome::Sent(ts("2026-01-02T12:00:00Z")))
        .await
        .expect("again");
    store
        .record_delivery(
            id_of("k-3"),
            &DeliveryOutcome::Failed {
                error: "late".into(),
                retry_at: ts("2026-01-02T12:00:00Z"),
            },
        )
        .await
        .expect("late failure");
    let n = store.notices(Some(inc.id), None).await.expect("n").remove(0);
    let sent = n.deliveries.iter().find(|d| d.idempotency_key == "k-3").expect("k-3");
    assert_eq!(
        (sent.sent_at, sent.attempts, sent.last_error.clone()),
        (Some(ts("2026-01-02T11:00:01Z")), 1, None)
    );
    assert!(!keys(&due("2026-01-03T00:00:00Z", &["email"], 10).await).contains(&"k-3".to_string()));
}

/// A delivery leased to one caller is not due for another until the lease runs out (the first
/// caller died) or its outcome is recorded; callers asking at the same moment share nothing.
pub async fn a_leased_delivery_goes_to_one_caller_until_its_lease_runs_out(store: &dyn Store) {
    let customer = seed(store).await;
    let inc = breach(store, &[(&customer, "2026-01-04T08:00:00Z")]).await;
    let recipients: Vec<(String, String)> = (0..6).map(|i| (format!("r{i}@x.example"), format!("l-{i}"))).collect();
    let deliveries: Vec<(&str, &str, &str)> = recipients
        .iter()
        .map(|(r, k)| ("email", r.as_str(), k.as_str()))
        .collect();
    send(store, &inc, &[notice(inc.id, &customer, 0, &deliveries)]).await;
    let keys = |v: Vec<(art28_store::DeliveryRecord, NoticeRecord)>| {
        let mut k: Vec<String> = v.into_iter().map(|(d, _)| d.idempotency_key).collect();
        k.sort();
        k
    };
    let (now, lease) = (ts("2026-01-02T11:00:00Z"), ts("2026-01-02T11:02:00Z"));
    let (a, b) = tokio::join!(
        store.due_deliveries(now, &["email"], 4, lease),
        store.due_deliveries(now, &["email"], 4, lease),
    );
    let (a, b) = (keys(a.expect("a")), keys(b.expect("b")));
    assert_eq!(a.len() + b.len(), 6, "every due delivery leased: {a:?} {b:?}");
    assert!(a.iter().all(|k| !b.contains(k)), "none to both: {a:?} {b:?}");
    assert!(
        store
            .due_deliveries(ts("2026-01-02T11:01:59Z"), &["email"], 10, ts("2026-01-02T11:03:59Z"))
            .await
            .expect("due")
            .is_empty(),
        "all leased"
    );
    let leased = store.notices(Some(inc.id), None).await.expect("n").remove(0).deliveries;
    let first = leased.iter().find(|d| d.idempotency_key == "l-0").expect("l-0").id;
    store
        .record_delivery(first, &DeliveryOutcome::Sent(ts("2026-01-02T11:00:05Z")))
        .await
        .expect("sent");
    // The leases run out: what was not recorded is due again, for one caller.
    let again = keys(
        store
            .due_deliveries(lease, &["email"], 10, ts("2026-01-02T11:04:00Z"))
            .await
            .expect("due"),
    );
    assert_eq!(again, ["l-1", "l-2", "l-3", "l-4", "l-5"]);
    assert!(
        store
            .due_deliveries(lease, &["email"], 10, ts("2026-01-02T11:04:00Z"))
            .await
            .expect("due")
            .is_empty()
    );
}

pub async fn pending_first_notices_end_with_the_first_delivery(store: &dyn Store) {
    let customer = seed(store).await;
    let other = id("andere-klant");
    add_customer(store, &other).await;
    assert_eq!(store.pending_first_notices().await.expect("none"), vec![]);
    let inc = breach(
        store,
        &[(&customer, "2026-01-05T08:00:00Z"), (&other, "2026-01-04T08:00:00Z")],
    )
    .await;
    // Another incident, found to be no breach: not pending.
    let none = store.create_incident(&new_incident(None), &[]).await.expect("create");
    store
        .update_incident(
            none.id,
            1,
            &IncidentChange {
                customers: vec![affected(&customer, "2026-01-03T08:00:00Z")],
                ..moving(Status::Reported, Status::NotABreach)
            },
            &step(Status::Reported, Status::NotABreach),
            &[],
        )
        .await
        .expect("no breach");
    let pending = store.pending_first_notices().await.expect("pending");
    assert_eq!(
        pending
            .iter()
            .map(|p| (p.incident, p.customer.as_str(), p.due_at, p.aware_at))
            .collect::<Vec<_>>(),
        vec![
            (inc.id, "andere-klant", ts("2026-01-04T08:00:00Z"), inc.aware_at),
            (inc.id, customer.as_str(), ts("2026-01-05T08:00:00Z"), inc.aware_at),
        ],
        "earliest deadline first"
    );
    // Queued is not delivered; an update notice does not count; a failure does not count.
    let (inc, notices) = send(
        store,
        &inc,
        &[
            notice(
                inc.id,
                &other,
                0,
                &[("email", "a@x.example", "k-1"), ("email", "b@x.example", "k-2")],
            ),
            notice(inc.id, &customer, 1, &[("email", "c@x.example", "k-3")]),
        ],
    )
    .await;
    store
        .record_delivery(
            notices[1].deliveries[0].id,
            &DeliveryOutcome::Sent(ts("2026-01-02T11:30:00Z")),
        )
        .await
        .expect("update sent");
    store
        .record_delivery(
            notices[0].deliveries[0].id,
            &DeliveryOutcome::Failed {
                error: "x".into(),
                retry_at: ts("2026-01-02T12:00:00Z"),
            },
        )
        .await
        .expect("failed");
    assert_eq!(store.pending_first_notices().await.expect("pending").len(), 2);
    store
        .record_delivery(
            notices[0].deliveries[1].id,
            &DeliveryOutcome::Sent(ts("2026-01-02T11:45:00Z")),
        )
        .await
        .expect("sent");
    let pending = store.pending_first_notices().await.expect("pending");
    assert_eq!(
        pending.iter().map(|p| p.customer.as_str()).collect::<Vec<_>>(),
        vec![customer.as_str()],
        "one delivery of the first notice is enough"
    );
    let inc = store.incident(inc.id).await.expect("get").expect("there");
    let notified: Vec<_> = inc
        .customers
        .iter()
        .map(|c| (c.customer.as_str(), c.notified_at))
        .collect();
    assert_eq!(
        notified,
        vec![
            ("andere-klant", Some(ts("2026-01-02T11:45:00Z"))),
            (customer.as_str(), None)
        ],
        "notified when its first notice was first delivered"
    );
}

pub async fn the_first_acknowledgement_stays_and_only_the_customer_gives_it(store: &dyn Store) {
    let customer = seed(store).await;
    let other = id("andere-klant");
    add_customer(store, &other).await;
    let inc = breach(store, &[(&customer, "2026-01-04T08:00:00Z")]).await;
    let (_, notices) = send(
        store,
        &inc,
        &[notice(inc.id, &customer, 0, &[("email", "a@x.example", "k-1")])],
    )
    .await;
    let id = notices[0].id;
    let e = store
        .acknowledge_notice(id, &other, "x", ts("2026-01-02T12:00:00Z"), &next_entry(None, "test"))
        .await
        .expect_err("other customer");
    assert_eq!(e.code, ErrorCode::NoticeNotFound);
    assert_eq!(
        store.notices(Some(inc.id), None).await.expect("n"),
        notices,
        "unchanged"
    );
    let e = store
        .acknowledge_notice(
            9999,
            &customer,
            "x",
            ts("2026-01-02T12:00:00Z"),
            &next_entry(None, "test"),
        )
        .await
        .expect_err("no such notice");
    assert_eq!(e.code, ErrorCode::NoticeNotFound);
    let n = store
        .acknowledge_notice(
            id,
            &customer,
            "anke",
            ts("2026-01-02T12:00:00Z"),
            &next_entry(None, "test"),
        )
        .await
        .expect("ack");
    assert_eq!(
        (n.acknowledged_at, n.acknowledged_by.as_deref()),
        (Some(ts("2026-01-02T12:00:00Z")), Some("anke"))
    );
    let n2 = store
        .acknowledge_notice(
            id,
            &customer,
            "later",
            ts("2026-01-02T13:00:00Z"),
            &next_entry(None, "test"),
        )
        .await
        .expect("ack again");
    assert_eq!(n2, n, "the first acknowledgement stays");
    assert_eq!(store.notices(Some(inc.id), None).await.expect("n"), vec![n]);
}

pub async fn removing_a_customer_just_removes_it(store: &dyn Store) {
    let customer = seed(store).await;
    let other = id("andere-klant");
    add_customer(store, &other).await;
    let inc = breach(
        store,
        &[(&customer, "2026-01-04T08:00:00Z"), (&other, "2026-01-04T08:00:00Z")],
    )
    .await;
    let (inc, _) = send(
        store,
        &inc,
        &[notice(inc.id, &customer, 0, &[("email", "a@x.example", "k-1")])],
    )
    .await;
    // A customer added again gets its new scope.
    let mut again = affected(&other, "2026-01-04T08:00:00Z");
    again.scope = Some(scope(&other, 7));
    let inc = store
        .update_incident(
            inc.id,
            inc.version,
            &IncidentChange {
                customers: vec![again],
                ..IncidentChange::default()
            },
            &step(Status::Breach, Status::Breach),
            &[],
        )
        .await
        .expect("rescope");
    assert_eq!(inc.customers.len(), 2, "not added twice");
    assert_eq!(inc.customers[0].scope, Some(scope(&other, 7)));
    // Keeping a customer that has a notice is the service's rule
    // (`art28_core::incident::check_removal`): the store removes whom it is told to.
    let inc = store
        .update_incident(
            inc.id,
            inc.version,
            &IncidentChange {
                remove_customers: vec![customer.clone(), id("never-affected")],
                ..IncidentChange::default()
            },
            &step(Status::Breach, Status::Breach),
            &[],
        )
        .await
        .expect("remove");
    assert_eq!(
        inc.customers.iter().map(|c| c.customer.as_str()).collect::<Vec<_>>(),
        vec!["andere-klant"]
    );
    assert_eq!(
        store.notices(Some(inc.id), Some(&customer)).await.expect("n").len(),
        1,
        "its notice stays"
    );
    assert!(store.incidents(Some(&customer)).await.expect("list").is_empty());
    assert_eq!(
        store
            .pending_first_notices()
            .await
            .expect("pending")
            .iter()
            .map(|p| p.customer.as_str())
            .collect::<Vec<_>>(),
        vec!["andere-klant"]
    );
}

pub async fn webhooks_get_a_new_generation_each_change_and_a_tombstone(store: &dyn Store) {
    let customer = seed(store).await;
    let other = id("andere-klant");
    add_customer(store, &other).await;
    assert_eq!(store.webhook(&customer).await.expect("none"), None);
    let err = store
        .set_webhook(
            &customer,
            None,
            ts("2026-01-01T10:00:00Z"),
            "anke",
            &[event("webhook_removed")],
            &next_entry(None, "test"),
        )
        .await
        .expect_err("nothing to remove");
    assert_eq!(err.code, ErrorCode::WebhookNotFound);
    assert_eq!(
        event_kinds(store).await,
        Vec::<String>::new(),
        "no events for the refusal"
    );

    let c = &customer;
    let set = |url: Option<&'static str>, at: &'static str, kind: &'static str| async move {
        store
            .set_webhook(c, url, ts(at), "anke", &[event(kind)], &next_entry(None, "test"))
            .await
    };
    let w1 = set(Some("https://x.example/1"), "2026-01-01T10:00:00Z", "webhook_set")
        .await
        .expect("set")
        .expect("some");
    assert_eq!(
        (
            w1.customer.as_str(),
            w1.url.as_str(),
            w1.generation,
            w1.created_at,
            w1.created_by.as_str()
        ),
        (
            customer.as_str(),
            "https://x.example/1",
            1,
            ts("2026-01-01T10:00:00Z"),
            "anke"
        )
    );
    assert_eq!(store.webhook(&customer).await.expect("get"), Some(w1.clone()));
    let w2 = set(Some("https://x.example/2"), "2026-01-02T10:00:00Z", "webhook_set")
        .await
        .expect("set")
        .expect("some");
    assert_eq!((w2.url.as_str(), w2.generation), ("https://x.example/2", 2));
    let removed = set(None, "2026-01-03T10:00:00Z", "webhook_removed")
        .await
        .expect("remove");
    assert_eq!(removed, None);
    assert_eq!(
        store.webhook(&customer).await.expect("get"),
        None,
        "a tombstone is no webhook"
    );
    let err = set(None, "2026-01-03T11:00:00Z", "webhook_removed")
        .await
        .expect_err("removed already");
    assert_eq!(err.code, ErrorCode::WebhookNotFound);
    // After the tombstone the generation keeps growing: a new registration, a new secret.
    let w3 = set(Some("https://x.example/1"), "2026-01-04T10:00:00Z", "webhook_set")
        .await
        .expect("set")
        .expect("some");
    assert_eq!(w3.url, "https://x.example/1");
    assert!(w3.generation > w2.generation, "never a generation again: {w3:?}");
    assert_eq!(store.webhook(&other).await.expect("other"), None, "per customer");
    let w = store
        .set_webhook(
            &other,
            Some("https://y.example"),
            ts("2026-01-05T10:00:00Z"),
            "bert",
            &[],
            &next_entry(None, "test"),
        )
        .await
        .expect("other's")
        .expect("some");
    assert_eq!(w.generation, 1);
    assert_eq!(
        event_kinds(store).await,
        vec!["webhook_set", "webhook_set", "webhook_removed", "webhook_set"],
        "events with their changes only"
    );
}

/// The operations in a customer's access log, oldest first.
async fn operations_logged(store: &dyn Store, customer: &CustomerId) -> Vec<String> {
    let size = store.log_size().await.expect("size");
    store
        .tenant_log(customer, 0, size, 10_000)
        .await
        .expect("log")
        .iter()
        .map(|e| AccessEntry::from_bytes(&e.bytes).expect("entry").operation)
        .collect()
}

/// Every write of the register takes the access entries it is given into its own transaction;
/// a write that is refused keeps none of them.
pub async fn register_writes_carry_their_entries_and_a_refused_one_keeps_none(store: &dyn Store) {
    let customer = seed(store).await;
    let before = operations_logged(store, &customer).await.len();
    let report = entry(Some(&customer), "incident.report", 901);
    let inc = store
        .create_incident(&new_incident(Some(&customer)), std::slice::from_ref(&report))
        .await
        .expect("create");
    let manage = entry(Some(&customer), "incident.manage", 902);
    let inc = store
        .update_incident(
            inc.id,
            inc.version,
            &moving(Status::Reported, Status::Triaged),
            &step(Status::Reported, Status::Triaged),
            std::slice::from_ref(&manage),
        )
        .await
        .expect("triage");
    // A stale version: refused, and its entry is not kept.
    let stale = entry(Some(&customer), "incident.stale", 903);
    let err = store
        .update_incident(
            inc.id,
            inc.version - 1,
            &IncidentChange::default(),
            &step(Status::Triaged, Status::Triaged),
            std::slice::from_ref(&stale),
        )
        .await
        .expect_err("stale");
    assert_eq!(err.code, ErrorCode::IncidentVersionConflict);
    let hook = entry(Some(&customer), "webhook.set", 904);
    store
        .set_webhook(
            &customer,
            Some("https://hooks.example/x"),
            ts("2026-01-02T10:00:00Z"),
            "anke",
            &[],
            &hook,
        )
        .await
        .expect("hook");
    // No webhook to remove for another customer: refused, nothing kept.
    let other = id("andere-klant");
    add_customer(store, &other).await;
    let gone = entry(Some(&other), "webhook.set", 905);
    store
        .set_webhook(&other, None, ts("2026-01-02T10:00:00Z"), "x", &[], &gone)
        .await
        .expect_err("no webhook");
    assert!(operations_logged(store, &other).await.is_empty());
    let logged = operations_logged(store, &customer).await;
    assert_eq!(
        logged[before..],
        ["incident.report", "incident.manage", "webhook.set"].map(String::from),
        "each change with its entry, the refused one without"
    );
}
