//! Incident deadlines with an injected clock: the security officer hears of a first notice
//! that is due soon and of one that is overdue, once each, and of nothing once it is delivered.

use art28_core::ErrorCode;
use art28_core::auth::{Grant, Principal, Role};
use art28_core::incident::{BreachAction, DeadlineState, Details, IncidentKind, Step};
use art28_service::clock::{Clock, ManualClock};
use art28_service::incidents::{self, Report};
use art28_store::DeliveryOutcome;
use art28_store::prelude::*;
use art28_store::sqlite::SqliteStore;
use jiff::SignedDuration;
use std::collections::HashSet;

fn officer() -> Principal {
    Principal {
        account_id: 7,
        username: "sanne.security".into(),
        grants: vec![Grant::staff(Role::SecurityOfficer).expect("grant")],
        token_limit: None,
    }
}

#[tokio::test]
async fn due_soon_and_overdue_first_notices_are_raised_once_each_and_stop_when_delivered() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = SqliteStore::open(&dir.path().join("db.sqlite")).expect("open");
    let clock = ManualClock::new("2026-11-22T10:00:00Z".parse().expect("ts"));
    art28_service::demo::load_demo(&store, &clock).await.expect("demo");
    let who = officer();
    let details = Details {
        summary: "Laptop with an unencrypted export stolen".into(),
        actions: vec![BreachAction::Theft],
        cause: "Stolen from a car".into(),
        failed_measure: "Disk encryption was off".into(),
        ..Details::default()
    };
    let report = Report {
        kind: IncidentKind::SecurityIncident,
        source: None,
        aware_at: None,
        reporter: None,
        reported_to: None,
        details,
    };
    let inc = incidents::report(&store, &clock, &who, None, report)
        .await
        .expect("report");
    let mut inc = incidents::step(&store, &clock, &who, inc.id, inc.version, Step::Triage, None)
        .await
        .expect("triage");
    inc = incidents::step(&store, &clock, &who, inc.id, inc.version, Step::Breach, None)
        .await
        .expect("breach");
    let hanze = "hanzeveld-installatietechniek".parse().expect("id");
    inc = incidents::set_customers(&store, &clock, &who, inc.id, inc.version, vec![(hanze, None)], vec![])
        .await
        .expect("customers");
    let mut raised = HashSet::new();
    let events = |store: &SqliteStore| {
        let store = store.clone();
        async move {
            store
                .security_events(0, 1000)
                .await
                .expect("events")
                .into_iter()
                .filter(|e| e.kind.starts_with("breach_notice_"))
                .map(|e| e.kind)
                .collect::<Vec<_>>()
        }
    };

    // 48 h term: nothing to raise at first, due soon 37 h in, overdue after 48 h.
    assert_eq!(
        incidents::raise_alerts(&store, &clock, &mut raised)
            .await
            .expect("raise"),
        0
    );
    clock.advance(SignedDuration::from_hours(37));
    let alerts = incidents::alerts(&store, &clock).await.expect("alerts");
    assert_eq!(
        alerts.iter().map(|a| a.state).collect::<Vec<_>>(),
        vec![DeadlineState::DueSoon]
    );
    assert_eq!(alerts[0].controller_due_at, "2026-11-25T10:00:00Z".parse().expect("ts"));
    assert_eq!(
        incidents::raise_alerts(&store, &clock, &mut raised)
            .await
            .expect("raise"),
        1
    );
    assert_eq!(
        incidents::raise_alerts(&store, &clock, &mut raised)
            .await
            .expect("raise"),
        0,
        "once"
    );
    clock.advance(SignedDuration::from_hours(12));
    assert_eq!(
        incidents::raise_alerts(&store, &clock, &mut raised)
            .await
            .expect("raise"),
        1
    );
    assert_eq!(
        events(&store).await,
        vec!["breach_notice_due_soon", "breach_notice_overdue"]
    );

    // A send naming a stale version is refused and queues nothing.
    let stale = incidents::send(&store, &clock, &who, inc.id, inc.version - 1, None)
        .await
        .expect_err("stale version");
    assert_eq!(stale.code, ErrorCode::IncidentVersionConflict);
    assert!(store.notices(Some(inc.id), None).await.expect("notices").is_empty());
    assert_eq!(incidents::alerts(&store, &clock).await.expect("alerts").len(), 1);

    // Queued is not enough; delivered is.
    let (_, notices) = incidents::send(&store, &clock, &who, inc.id, inc.version, None)
        .await
        .expect("send");
    assert_eq!(incidents::alerts(&store, &clock).await.expect("alerts").len(), 1);
    for d in notices.iter().flat_map(|n| &n.deliveries) {
        store
            .record_delivery(d.id, &DeliveryOutcome::Sent(clock.now()))
            .await
            .expect("sent");
    }
    assert!(incidents::alerts(&store, &clock).await.expect("alerts").is_empty());
    let deadlines = incidents::deadlines(&store, &clock, &who, None)
        .await
        .expect("deadlines");
    assert_eq!(deadlines[0].state, DeadlineState::MetLate);

    // Closed incidents are not changed any more.
    let inc = store.incident(inc.id).await.expect("read").expect("there");
    let inc = incidents::step(&store, &clock, &who, inc.id, inc.version, Step::Close, Some("done"))
        .await
        .expect("close");
    let e = incidents::update_details(&store, &clock, &who, inc.id, inc.version, Details::default())
        .await
        .expect_err("closed");
    assert_eq!(e.code, ErrorCode::IncidentInvalid, "an empty summary is refused first");
    let mut d = inc.details.clone();
    d.consequences = "none known".into();
    let e = incidents::update_details(&store, &clock, &who, inc.id, inc.version, d)
        .await
        .expect_err("closed");
    assert_eq!(e.code, ErrorCode::IncidentTransitionNotAllowed);
}
