//! SubprocessorStore: entries with their versions and contracts, changes announced to
//! customers with each customer's answer, announcements through the outbox, list requests and
//! feed key generations.

use super::*;
use art28_core::ErrorCode;
use art28_core::agreement::Authorisation;
use art28_core::date::Date;
use art28_core::lang::Text;
use art28_core::subprocessor::{ChangeKind, Contract, CustomerState, Entry};
use art28_store::{
    ChangeAnswer, ChangeEvent, ChangeRecord, DeliveryOutcome, DeliveryRecord, NewAnnouncement, NewChange,
    NewChangeCustomer, NewDelivery, NewListRequest,
};

fn text(s: &str) -> Text {
    Text {
        nl: format!("{s} (nl)"),
        en: format!("{s} (en)"),
    }
}

fn sp_entry(name: &str) -> Entry {
    Entry {
        name: name.into(),
        service: text("hosting"),
        purpose: text("running the service"),
        location: "NL".into(),
        region: Some("eu-west".into()),
        access_locations: vec!["DE".into()],
        categories: vec!["contact".into()],
        systems: vec!["database".into(), "backups".into()],
        safeguard: None,
        safeguard_reference: None,
    }
}

fn date(s: &str) -> Date {
    s.parse().expect("date")
}

fn contract(sha: &str) -> Contract {
    Contract {
        signed_on: date("2026-01-05"),
        sha256: sha.into(),
        file_name: format!("{sha}.pdf"),
        size: 3,
    }
}

async fn code_of<T: std::fmt::Debug>(r: art28_core::Result<T>) -> ErrorCode {
    r.expect_err("refused").code
}

fn told(customer: &CustomerId, state: CustomerState) -> NewChangeCustomer {
    NewChangeCustomer {
        customer: customer.clone(),
        authorisation: if state == CustomerState::AwaitingApproval {
            Authorisation::Specific
        } else {
            Authorisation::General
        },
        state,
        rule: (state == CustomerState::Refused).then(|| "location_not_allowed".to_string()),
        objection_until: (state == CustomerState::Announced).then(|| date("2026-02-01")),
    }
}

fn new_change(subprocessor: u64, customers: Vec<NewChangeCustomer>) -> NewChange {
    NewChange {
        kind: ChangeKind::Replace,
        subprocessor,
        version: 1,
        entry: sp_entry("Hoster B.V."),
        replaces: Some((99, "Old Hoster".into())),
        effective: date("2026-03-01"),
        note: text("cheaper and closer"),
        announced_at: ts("2026-01-10T09:00:00Z"),
        announced_by: "officer".into(),
        customers,
    }
}

fn announcement(customer: &CustomerId, keys: &[(&str, &str)]) -> NewAnnouncement {
    NewAnnouncement {
        customer: customer.clone(),
        language: Lang::Nl,
        subject: format!("Wijziging voor {customer}"),
        body: "Een nieuwe subverwerker".into(),
        deliveries: keys
            .iter()
            .map(|(channel, key)| NewDelivery {
                channel: (*channel).into(),
                recipient: format!("{key}@x.example"),
                idempotency_key: (*key).into(),
            })
            .collect(),
    }
}

fn answer(from: CustomerState, to: CustomerState, at: &str) -> ChangeAnswer {
    ChangeAnswer {
        from,
        event: ChangeEvent {
            at: ts(at),
            by: "customer".into(),
            from: Some(from),
            to,
            note: format!("{} to {}", from.as_str(), to.as_str()),
        },
        decided_at: None,
        termination_until: None,
    }
}

/// Three customers (`a`, `b`, `c`) and one sub-processor.
async fn setup(store: &dyn Store) -> (CustomerId, CustomerId, CustomerId, u64) {
    let (a, b, c) = (id("klant-a"), id("klant-b"), id("klant-c"));
    for t in [&a, &b, &c] {
        add_customer(store, t).await;
    }
    let sp = store
        .create_subprocessor(&sp_entry("Hoster B.V."), ts("2026-01-03T09:00:00Z"), "officer")
        .await
        .expect("create");
    (a, b, c, sp.id)
}

/// A change reaching `b` (announced, general) and `a` (awaiting approval), with one
/// announcement each and two access entries.
async fn announce(store: &dyn Store, a: &CustomerId, b: &CustomerId, sp: u64) -> ChangeRecord {
    store
        .announce_change(
            &new_change(
                sp,
                vec![
                    told(b, CustomerState::Announced),
                    told(a, CustomerState::AwaitingApproval),
                ],
            ),
            &[
                announcement(a, &[("email", "a-1"), ("webhook", "a-w")]),
                announcement(b, &[("email", "b-1")]),
            ],
            &[
                next_entry(Some(a), "subprocessor.change.announce"),
                next_entry(Some(b), "subprocessor.change.announce"),
            ],
        )
        .await
        .expect("announce")
}

pub async fn entries_are_registered_once_by_name_and_versioned(store: &dyn Store) {
    let at = ts("2026-01-03T09:00:00Z");
    let first = store
        .create_subprocessor(&sp_entry("Hoster B.V."), at, "officer")
        .await
        .expect("create");
    assert_eq!(first.version, 1);
    assert_eq!(first.entry, sp_entry("Hoster B.V."));
    assert_eq!(first.contract, None);
    assert_eq!(first.created_at, at);
    assert_eq!(first.history.len(), 1);
    assert_eq!(
        (
            first.history[0].at,
            first.history[0].by.as_str(),
            first.history[0].version
        ),
        (at, "officer", 1)
    );
    assert_eq!(first.history[0].note, "registered");
    assert_eq!(store.subprocessor(first.id).await.expect("read"), Some(first.clone()));
    assert_eq!(
        code_of(store.create_subprocessor(&sp_entry("HOSTER b.v."), at, "officer").await).await,
        ErrorCode::SubprocessorExists,
        "names are compared without case"
    );
    let second = store
        .create_subprocessor(&sp_entry("Mailer Ltd"), at, "officer")
        .await
        .expect("another");
    assert!(second.id > first.id);
    assert_eq!(
        store.subprocessors().await.expect("all"),
        vec![first.clone(), second.clone()],
        "by number, nothing of the refused one"
    );

    let later = ts("2026-01-04T09:00:00Z");
    let mut moved = sp_entry("hoster b.v.");
    moved.location = "DE".into();
    let v2 = store
        .update_subprocessor(first.id, 1, &moved, later, "officer 2", "moved to DE")
        .await
        .expect("update, its own name in another case");
    assert_eq!(v2.version, 2);
    assert_eq!(v2.entry, moved);
    assert_eq!(v2.created_at, at);
    assert_eq!(v2.history.len(), 2);
    assert_eq!(v2.history[0], first.history[0]);
    assert_eq!(
        (
            v2.history[1].at,
            v2.history[1].by.as_str(),
            v2.history[1].version,
            v2.history[1].note.as_str()
        ),
        (later, "officer 2", 2, "moved to DE")
    );
    assert_eq!(store.subprocessor(first.id).await.expect("read"), Some(v2.clone()));

    // A version that moved on, another's name, no such entry: nothing written.
    assert_eq!(
        code_of(
            store
                .update_subprocessor(first.id, 1, &sp_entry("X"), later, "o", "n")
                .await
        )
        .await,
        ErrorCode::SubprocessorVersionConflict
    );
    assert_eq!(
        code_of(
            store
                .update_subprocessor(first.id, 2, &sp_entry("MAILER LTD"), later, "o", "n")
                .await
        )
        .await,
        ErrorCode::SubprocessorExists
    );
    assert_eq!(
        code_of(store.update_subprocessor(999, 1, &sp_entry("Y"), later, "o", "n").await).await,
        ErrorCode::SubprocessorNotFound
    );
    assert_eq!(store.subprocessors().await.expect("all"), vec![v2.clone(), second]);
    assert_eq!(store.subprocessor(999).await.expect("none"), None);
    // The old name is free again.
    store
        .create_subprocessor(&sp_entry("Old Name"), at, "officer")
        .await
        .expect("free name");
    store
        .update_subprocessor(first.id, 2, &sp_entry("Renamed"), later, "o", "renamed")
        .await
        .expect("rename");
    store
        .create_subprocessor(&sp_entry("hoster B.V."), at, "officer")
        .await
        .expect("the name it left is free");
}

pub async fn a_contract_is_kept_with_its_document_and_replaced(store: &dyn Store) {
    let sp = store
        .create_subprocessor(&sp_entry("Hoster B.V."), ts("2026-01-03T09:00:00Z"), "officer")
        .await
        .expect("create");
    assert_eq!(store.contract_document(sp.id).await.expect("doc"), None, "none yet");
    let at = ts("2026-01-05T09:00:00Z");
    let kept = store
        .put_contract(sp.id, &contract("aaa"), b"one", at, "officer")
        .await
        .expect("contract");
    assert_eq!(kept.contract, Some(contract("aaa")));
    assert_eq!(kept.version, 1, "a contract is no new version of the entry");
    assert_eq!(kept.history.len(), 2);
    assert_eq!(
        (
            kept.history[1].at,
            kept.history[1].version,
            kept.history[1].note.as_str()
        ),
        (at, 1, "contract")
    );
    assert_eq!(
        store.contract_document(sp.id).await.expect("doc"),
        Some(b"one".to_vec())
    );
    assert_eq!(store.subprocessor(sp.id).await.expect("read"), Some(kept));

    let replaced = store
        .put_contract(
            sp.id,
            &contract("bbb"),
            &[0, 255, 7, 0],
            ts("2026-01-06T09:00:00Z"),
            "officer",
        )
        .await
        .expect("replace");
    assert_eq!(replaced.contract, Some(contract("bbb")));
    assert_eq!(replaced.history.len(), 3);
    assert_eq!(
        store.contract_document(sp.id).await.expect("doc"),
        Some(vec![0, 255, 7, 0]),
        "bytes exactly"
    );
    assert_eq!(
        code_of(store.put_contract(999, &contract("c"), b"x", at, "officer").await).await,
        ErrorCode::SubprocessorNotFound
    );
    assert_eq!(store.contract_document(999).await.expect("doc"), None);
}

pub async fn a_change_is_announced_with_its_customers_and_entries(store: &dyn Store) {
    let (a, b, c, sp) = setup(store).await;
    let size = store.log_size().await.expect("size");
    let change = announce(store, &a, &b, sp).await;
    assert_eq!(store.log_size().await.expect("size"), size + 2, "the two entries given");

    assert_eq!(change.kind, ChangeKind::Replace);
    assert_eq!(
        (change.subprocessor, change.version, change.effective),
        (sp, 1, date("2026-03-01"))
    );
    assert_eq!(change.entry, sp_entry("Hoster B.V."));
    assert_eq!(change.replaces, Some((99, "Old Hoster".to_string())));
    assert_eq!(change.note, text("cheaper and closer"));
    assert_eq!(
        (change.announced_at, change.announced_by.as_str()),
        (ts("2026-01-10T09:00:00Z"), "officer")
    );
    let ids: Vec<&CustomerId> = change.customers.iter().map(|c| &c.customer).collect();
    assert_eq!(ids, [&a, &b], "by customer id");
    let ca = &change.customers[0];
    assert_eq!(
        (ca.authorisation, ca.state, ca.rule.as_deref(), ca.objection_until),
        (Authorisation::Specific, CustomerState::AwaitingApproval, None, None)
    );
    assert_eq!((ca.decided_at, ca.termination_until), (None, None));
    let cb = &change.customers[1];
    assert_eq!(
        (cb.authorisation, cb.state, cb.objection_until),
        (
            Authorisation::General,
            CustomerState::Announced,
            Some(date("2026-02-01"))
        )
    );
    for cu in &change.customers {
        assert_eq!(
            cu.events,
            vec![ChangeEvent {
                at: ts("2026-01-10T09:00:00Z"),
                by: "officer".into(),
                from: None,
                to: cu.state,
                note: String::new(),
            }],
            "the announcement is the first line"
        );
    }
    assert_eq!(store.change(change.id, None).await.expect("read"), Some(change.clone()));
    assert_eq!(store.changes(None).await.expect("all"), vec![change.clone()]);

    // A customer's read holds its own row only; one the change does not reach sees none.
    let for_b = store.change(change.id, Some(&b)).await.expect("b").expect("reaches b");
    assert_eq!(for_b.customers, vec![change.customers[1].clone()]);
    assert_eq!(
        ChangeRecord {
            customers: change.customers[1..].to_vec(),
            ..change.clone()
        },
        for_b
    );
    assert_eq!(store.changes(Some(&b)).await.expect("b's"), vec![for_b]);
    assert_eq!(store.change(change.id, Some(&c)).await.expect("c"), None);
    assert!(store.changes(Some(&c)).await.expect("c's").is_empty());
    assert_eq!(store.change(999, None).await.expect("none"), None);

    // Announcements, of the change and per customer, each with its deliveries.
    let all = store.announcements(Some(change.id), None).await.expect("all");
    assert_eq!(all.len(), 2);
    assert_eq!((&all[0].customer, all[0].change_id), (&a, change.id));
    assert_eq!(all[0].language, Lang::Nl);
    assert_eq!(all[0].created_at, ts("2026-01-10T09:00:00Z"));
    assert_eq!(all[0].subject, "Wijziging voor klant-a");
    assert_eq!(all[0].body, "Een nieuwe subverwerker");
    let keys: Vec<(&str, &str, &str)> = all[0]
        .deliveries
        .iter()
        .map(|d| (d.channel.as_str(), d.recipient.as_str(), d.idempotency_key.as_str()))
        .collect();
    assert_eq!(
        keys,
        [("email", "a-1@x.example", "a-1"), ("webhook", "a-w@x.example", "a-w")]
    );
    for d in &all[0].deliveries {
        assert_eq!(
            (
                d.notice_id,
                d.sent_at,
                d.attempts,
                d.next_attempt_at,
                d.last_error.as_deref()
            ),
            (all[0].id, None, 0, ts("2026-01-10T09:00:00Z"), None)
        );
    }
    assert_eq!(
        store.announcements(None, Some(&b)).await.expect("b"),
        vec![all[1].clone()]
    );
    assert!(store.announcements(None, Some(&c)).await.expect("c").is_empty());
    assert!(store.announcements(Some(999), None).await.expect("none").is_empty());
    assert_eq!(store.announcements(None, None).await.expect("every"), all);

    // A second change comes after it, oldest first.
    let mut other = new_change(sp, vec![told(&c, CustomerState::Refused)]);
    other.kind = ChangeKind::Remove;
    other.replaces = None;
    let other = store
        .announce_change(&other, &[], &[next_entry(Some(&c), "subprocessor.change.announce")])
        .await
        .expect("second");
    assert_eq!(other.replaces, None);
    assert_eq!(other.customers[0].rule.as_deref(), Some("location_not_allowed"));
    assert_eq!(
        store.changes(None).await.expect("all"),
        vec![change.clone(), other.clone()]
    );
    assert_eq!(store.changes(Some(&c)).await.expect("c's"), vec![other]);
}

pub async fn a_change_that_fails_writes_nothing(store: &dyn Store) {
    let (a, b, _c, sp) = setup(store).await;
    announce(store, &a, &b, sp).await;
    let size = store.log_size().await.expect("size");
    let before = (
        store.changes(None).await.expect("changes"),
        store.announcements(None, None).await.expect("announcements"),
    );
    // A customer that is not one.
    let stranger = id("nobody-here");
    let refused = store
        .announce_change(
            &new_change(
                sp,
                vec![
                    told(&a, CustomerState::Announced),
                    told(&stranger, CustomerState::Announced),
                ],
            ),
            &[announcement(&a, &[("email", "x-1")])],
            &[next_entry(Some(&a), "subprocessor.change.announce")],
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
    // A delivery key queued already.
    let refused = store
        .announce_change(
            &new_change(sp, vec![told(&a, CustomerState::Announced)]),
            &[announcement(&a, &[("email", "a-1")])],
            &[next_entry(Some(&a), "subprocessor.change.announce")],
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(store.log_size().await.expect("size"), size, "no entry");
    assert_eq!(
        (
            store.changes(None).await.expect("changes"),
            store.announcements(None, None).await.expect("announcements"),
        ),
        before,
        "no change, customer row or announcement"
    );
}

pub async fn an_answer_applies_only_from_the_state_it_names(store: &dyn Store) {
    let (a, b, c, sp) = setup(store).await;
    let change = announce(store, &a, &b, sp).await;
    let size = store.log_size().await.expect("size");

    // From a state it is not at: refused, nothing written.
    let wrong = answer(
        CustomerState::Announced,
        CustomerState::Objected,
        "2026-01-11T09:00:00Z",
    );
    assert_eq!(
        code_of(
            store
                .answer_change(
                    change.id,
                    &a,
                    &wrong,
                    &[announcement(&a, &[("email", "a-obj")])],
                    &next_entry(Some(&a), "subprocessor.change.answer")
                )
                .await
        )
        .await,
        ErrorCode::SubprocessorStepNotAllowed
    );
    for (id_, t) in [(change.id, &c), (999, &a)] {
        assert_eq!(
            code_of(
                store
                    .answer_change(id_, t, &wrong, &[], &next_entry(Some(t), "subprocessor.change.answer"))
                    .await
            )
            .await,
            ErrorCode::SubprocessorChangeNotFound,
            "change {id_} does not reach {t}"
        );
    }
    assert_eq!(store.log_size().await.expect("size"), size, "no entry");
    assert_eq!(store.change(change.id, None).await.expect("read"), Some(change.clone()));
    assert_eq!(
        store.announcements(None, None).await.expect("a").len(),
        2,
        "none queued"
    );

    // From the state it is at: applied, with its line, announcements and entry.
    let mut approve = answer(
        CustomerState::AwaitingApproval,
        CustomerState::Approved,
        "2026-01-12T09:00:00Z",
    );
    approve.decided_at = Some(ts("2026-01-12T09:00:00Z"));
    let approved = store
        .answer_change(
            change.id,
            &a,
            &approve,
            &[announcement(&a, &[("email", "a-ok")])],
            &next_entry(Some(&a), "subprocessor.change.answer"),
        )
        .await
        .expect("approve");
    assert_eq!(store.log_size().await.expect("size"), size + 1);
    assert_eq!(approved.customers.len(), 1, "that customer's row only");
    let row = &approved.customers[0];
    assert_eq!((&row.customer, row.state), (&a, CustomerState::Approved));
    assert_eq!(row.decided_at, Some(ts("2026-01-12T09:00:00Z")));
    assert_eq!(row.termination_until, None);
    assert_eq!(row.events.len(), 2);
    assert_eq!(row.events[0], change.customers[0].events[0]);
    assert_eq!(row.events[1], approve.event);
    assert_eq!(
        store.change(change.id, Some(&a)).await.expect("a"),
        Some(approved.clone())
    );
    let all = store.change(change.id, None).await.expect("all").expect("some");
    assert_eq!(
        all.customers,
        vec![approved.customers[0].clone(), change.customers[1].clone()]
    );
    let told_a = store.announcements(Some(change.id), Some(&a)).await.expect("a's");
    assert_eq!(told_a.len(), 2);
    assert_eq!(
        told_a[1].created_at,
        ts("2026-01-12T09:00:00Z"),
        "composed with the answer"
    );
    assert_eq!(told_a[1].deliveries[0].idempotency_key, "a-ok");
    assert_eq!(told_a[1].deliveries[0].next_attempt_at, ts("2026-01-12T09:00:00Z"));

    // The same step again: the state moved on.
    assert_eq!(
        code_of(
            store
                .answer_change(
                    change.id,
                    &a,
                    &approve,
                    &[],
                    &next_entry(Some(&a), "subprocessor.change.answer")
                )
                .await
        )
        .await,
        ErrorCode::SubprocessorStepNotAllowed
    );

    // An objection, then a decision over it: what is None stays as it was.
    let mut object = answer(
        CustomerState::Announced,
        CustomerState::Objected,
        "2026-01-13T09:00:00Z",
    );
    object.termination_until = Some(date("2026-04-01"));
    let objected = store
        .answer_change(
            change.id,
            &b,
            &object,
            &[],
            &next_entry(Some(&b), "subprocessor.change.answer"),
        )
        .await
        .expect("object");
    assert_eq!(objected.customers[0].termination_until, Some(date("2026-04-01")));
    let mut overrule = answer(
        CustomerState::Objected,
        CustomerState::Overruled,
        "2026-01-14T09:00:00Z",
    );
    overrule.decided_at = Some(ts("2026-01-14T09:00:00Z"));
    let overruled = store
        .answer_change(
            change.id,
            &b,
            &overrule,
            &[],
            &next_entry(Some(&b), "subprocessor.change.answer"),
        )
        .await
        .expect("overrule");
    let row = &overruled.customers[0];
    assert_eq!(row.state, CustomerState::Overruled);
    assert_eq!(row.decided_at, Some(ts("2026-01-14T09:00:00Z")));
    assert_eq!(row.termination_until, Some(date("2026-04-01")), "kept");
    assert_eq!(
        row.events.iter().map(|e| e.to).collect::<Vec<_>>(),
        [
            CustomerState::Announced,
            CustomerState::Objected,
            CustomerState::Overruled
        ],
        "oldest first"
    );
    assert_eq!(store.log_size().await.expect("size"), size + 3);
}

pub async fn announcement_deliveries_are_leased_once_and_recorded(store: &dyn Store) {
    let (a, b, _c, sp) = setup(store).await;
    let change = announce(store, &a, &b, sp).await;
    let keys = |v: Vec<(DeliveryRecord, art28_store::AnnouncementRecord)>| {
        let mut k: Vec<String> = v
            .into_iter()
            .map(|(d, an)| {
                assert_eq!(d.notice_id, an.id, "with its announcement");
                assert!(an.deliveries.iter().any(|x| x.id == d.id));
                d.idempotency_key
            })
            .collect();
        k.sort();
        k
    };
    let early = store
        .due_announcement_deliveries(
            ts("2026-01-10T08:59:59Z"),
            &["email", "webhook"],
            10,
            ts("2026-01-10T09:10:00Z"),
        )
        .await
        .expect("early");
    assert!(early.is_empty(), "not due before the announcement");

    let (now, lease) = (ts("2026-01-10T09:00:00Z"), ts("2026-01-10T09:02:00Z"));
    let (x, y) = tokio::join!(
        store.due_announcement_deliveries(now, &["email"], 1, lease),
        store.due_announcement_deliveries(now, &["email"], 1, lease),
    );
    let (x, y) = (x.expect("x"), y.expect("y"));
    assert!(
        x.iter().chain(&y).all(|(d, _)| d.next_attempt_at == lease),
        "moved to the lease"
    );
    let (x, y) = (keys(x), keys(y));
    assert_eq!(x.len() + y.len(), 2, "{x:?} {y:?}");
    assert!(x.iter().all(|k| !y.contains(k)), "none to both: {x:?} {y:?}");
    assert!(
        store
            .due_announcement_deliveries(ts("2026-01-10T09:01:59Z"), &["email"], 10, ts("2026-01-10T09:05:00Z"))
            .await
            .expect("due")
            .is_empty(),
        "all leased"
    );
    assert_eq!(
        keys(
            store
                .due_announcement_deliveries(now, &["webhook"], 10, lease)
                .await
                .expect("webhook")
        ),
        ["a-w"],
        "per channel"
    );

    let id_of = |k: &str, all: &[art28_store::AnnouncementRecord]| {
        all.iter()
            .flat_map(|a| a.deliveries.iter())
            .find(|d| d.idempotency_key == k)
            .expect("delivery")
            .id
    };
    let all = store.announcements(Some(change.id), None).await.expect("all");
    store
        .record_announcement_delivery(id_of("a-1", &all), &DeliveryOutcome::Sent(ts("2026-01-10T09:00:05Z")))
        .await
        .expect("sent");
    store
        .record_announcement_delivery(
            id_of("b-1", &all),
            &DeliveryOutcome::Failed {
                error: "mailbox full".into(),
                retry_at: ts("2026-01-10T10:00:00Z"),
            },
        )
        .await
        .expect("failed");
    let all = store.announcements(Some(change.id), None).await.expect("all");
    let find = |k: &str| {
        all.iter()
            .flat_map(|a| a.deliveries.iter())
            .find(|d| d.idempotency_key == k)
            .expect("delivery")
            .clone()
    };
    let sent = find("a-1");
    assert_eq!((sent.sent_at, sent.attempts), (Some(ts("2026-01-10T09:00:05Z")), 1));
    let failed = find("b-1");
    assert_eq!(
        (
            failed.sent_at,
            failed.attempts,
            failed.last_error.as_deref(),
            failed.next_attempt_at
        ),
        (None, 1, Some("mailbox full"), ts("2026-01-10T10:00:00Z"))
    );
    // A sent delivery is never due again; the failed one is at its retry, for one caller.
    assert!(
        store
            .due_announcement_deliveries(ts("2026-01-10T09:59:59Z"), &["email"], 10, ts("2026-01-10T11:00:00Z"))
            .await
            .expect("due")
            .is_empty()
    );
    assert_eq!(
        keys(
            store
                .due_announcement_deliveries(ts("2026-01-10T10:00:00Z"), &["email"], 10, ts("2026-01-10T11:00:00Z"))
                .await
                .expect("due")
        ),
        ["b-1"]
    );
    assert!(
        store
            .due_announcement_deliveries(ts("2026-01-10T10:00:00Z"), &["email"], 10, ts("2026-01-10T11:00:00Z"))
            .await
            .expect("due")
            .is_empty(),
        "leased once"
    );
    // A second outcome of a sent one changes nothing.
    store
        .record_announcement_delivery(id_of("a-1", &all), &DeliveryOutcome::Sent(ts("2026-01-10T12:00:00Z")))
        .await
        .expect("again");
    let again = store.announcements(Some(change.id), Some(&a)).await.expect("a");
    assert_eq!(
        again[0]
            .deliveries
            .iter()
            .find(|d| d.idempotency_key == "a-1")
            .expect("a-1"),
        &sent
    );
}

pub async fn list_requests_are_answered_once_and_listed_per_customer(store: &dyn Store) {
    let (a, b, _c, _sp) = setup(store).await;
    let size = store.log_size().await.expect("size");
    let request = |t: &CustomerId, due: Option<&str>| NewListRequest {
        customer: t.clone(),
        requested_at: ts("2026-01-15T09:00:00Z"),
        requested_by: format!("dpo of {t}"),
        due_at: due.map(ts),
        note: "please".into(),
    };
    let ra = store
        .create_list_request(
            &request(&a, Some("2026-01-29T09:00:00Z")),
            &next_entry(Some(&a), "subprocessor.list.request"),
        )
        .await
        .expect("a");
    assert_eq!(&ra.customer, &a);
    assert_eq!(
        (ra.requested_at, ra.requested_by.as_str(), ra.due_at, ra.note.as_str()),
        (
            ts("2026-01-15T09:00:00Z"),
            "dpo of klant-a",
            Some(ts("2026-01-29T09:00:00Z")),
            "please"
        )
    );
    assert_eq!(
        (ra.answered_at, ra.answered_by.as_deref(), ra.answer_on),
        (None, None, None)
    );
    let rb = store
        .create_list_request(&request(&b, None), &next_entry(Some(&b), "subprocessor.list.request"))
        .await
        .expect("b");
    assert_eq!(rb.due_at, None);
    assert_eq!(store.log_size().await.expect("size"), size + 2);
    assert_eq!(
        store.list_requests(None).await.expect("all"),
        vec![ra.clone(), rb.clone()]
    );
    assert_eq!(store.list_requests(Some(&b)).await.expect("b"), vec![rb.clone()]);

    // Only the customer's own request, and once.
    let on = date("2026-01-16");
    let at = ts("2026-01-16T09:00:00Z");
    let size = store.log_size().await.expect("size");
    assert_eq!(
        code_of(
            store
                .answer_list_request(
                    ra.id,
                    &b,
                    on,
                    at,
                    "officer",
                    &next_entry(Some(&b), "subprocessor.list.answer")
                )
                .await
        )
        .await,
        ErrorCode::ListRequestNotFound
    );
    assert_eq!(
        code_of(
            store
                .answer_list_request(
                    999,
                    &a,
                    on,
                    at,
                    "officer",
                    &next_entry(Some(&a), "subprocessor.list.answer")
                )
                .await
        )
        .await,
        ErrorCode::ListRequestNotFound
    );
    assert_eq!(store.log_size().await.expect("size"), size);
    let answered = store
        .answer_list_request(
            ra.id,
            &a,
            on,
            at,
            "officer",
            &next_entry(Some(&a), "subprocessor.list.answer"),
        )
        .await
        .expect("answer");
    assert_eq!(
        (
            answered.answered_at,
            answered.answered_by.as_deref(),
            answered.answer_on
        ),
        (Some(at), Some("officer"), Some(on))
    );
    assert_eq!(answered.requested_by, ra.requested_by);
    assert_eq!(store.log_size().await.expect("size"), size + 1);
    assert_eq!(
        code_of(
            store
                .answer_list_request(
                    ra.id,
                    &a,
                    date("2026-01-17"),
                    ts("2026-01-17T09:00:00Z"),
                    "other",
                    &next_entry(Some(&a), "subprocessor.list.answer")
                )
                .await
        )
        .await,
        ErrorCode::SubprocessorStepNotAllowed
    );
    assert_eq!(
        store.log_size().await.expect("size"),
        size + 1,
        "the second answer wrote nothing"
    );
    assert_eq!(store.list_requests(Some(&a)).await.expect("a"), vec![answered]);
}

pub async fn feed_generations_start_at_zero_and_grow(store: &dyn Store) {
    let (a, b, _c, _sp) = setup(store).await;
    assert_eq!(store.feed_generation(&a).await.expect("a"), 0);
    let size = store.log_size().await.expect("size");
    let at = ts("2026-01-20T09:00:00Z");
    assert_eq!(
        store
            .bump_feed_generation(&a, at, &next_entry(Some(&a), "subprocessor.feed.key"))
            .await
            .expect("bump"),
        1
    );
    assert_eq!(
        store
            .bump_feed_generation(&a, at, &next_entry(Some(&a), "subprocessor.feed.key"))
            .await
            .expect("bump"),
        2
    );
    assert_eq!(store.log_size().await.expect("size"), size + 2);
    assert_eq!(store.feed_generation(&a).await.expect("a"), 2);
    assert_eq!(store.feed_generation(&b).await.expect("b"), 0, "per customer");
}
