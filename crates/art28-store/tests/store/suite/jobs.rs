//! Periodic jobs leased once per cluster, and roles a node leads.

use super::ts;
use art28_store::prelude::*;

/// A job is held by one holder at a time: another may take it only once the lease has run
/// out, only the holder finishes it, and a finished job is not due again before its time.
pub async fn a_job_runs_under_one_lease_at_a_time_and_waits_until_due(store: &dyn Store) {
    let t0 = ts("2026-06-01T10:00:00Z");
    let lease = ts("2026-06-01T10:01:00Z");
    assert!(
        store.claim_job("expire", "node-a", t0, lease).await.expect("claim"),
        "a job never run is due"
    );
    assert!(
        !store
            .claim_job(
                "expire",
                "node-b",
                ts("2026-06-01T10:00:30Z"),
                ts("2026-06-01T10:01:30Z")
            )
            .await
            .expect("claim"),
        "held by node-a until its lease runs out"
    );
    assert!(
        store.claim_job("purge", "node-b", t0, lease).await.expect("claim"),
        "another job is free"
    );
    // node-a dies; its lease runs out and node-b takes over.
    assert!(
        store
            .claim_job(
                "expire",
                "node-b",
                ts("2026-06-01T10:01:00Z"),
                ts("2026-06-01T10:02:00Z")
            )
            .await
            .expect("claim")
    );
    assert!(
        !store
            .finish_job("expire", "node-a", ts("2026-06-01T11:00:00Z"))
            .await
            .expect("finish"),
        "node-a no longer holds it"
    );
    assert!(
        store
            .finish_job("expire", "node-b", ts("2026-06-01T11:00:00Z"))
            .await
            .expect("finish")
    );
    assert!(
        !store
            .claim_job(
                "expire",
                "node-a",
                ts("2026-06-01T10:30:00Z"),
                ts("2026-06-01T10:31:00Z")
            )
            .await
            .expect("claim"),
        "not due before 11:00"
    );
    assert!(
        !store
            .finish_job("expire", "node-b", ts("2026-06-01T12:00:00Z"))
            .await
            .expect("finish"),
        "a finished job is held by no one"
    );
    assert!(
        store
            .claim_job(
                "expire",
                "node-a",
                ts("2026-06-01T11:00:00Z"),
                ts("2026-06-01T11:01:00Z")
            )
            .await
            .expect("claim"),
        "due again at 11:00"
    );
    // The holder may claim again (a restart of the same node before its lease ran out).
    assert!(
        store
            .claim_job(
                "expire",
                "node-a",
                ts("2026-06-01T11:00:10Z"),
                ts("2026-06-01T11:01:10Z")
            )
            .await
            .expect("claim")
    );
}

/// A store on its own leads every role, and keeps leading.
pub async fn a_lone_store_leads_every_role(store: &dyn Store) {
    for _ in 0..3 {
        assert!(store.lead("fold").await.expect("lead"));
        assert!(store.lead("outbox").await.expect("lead"));
    }
}

/// A pin keeps the first value unless replaced; each answer is the value pinned afterwards.
pub async fn a_pin_keeps_its_first_value_unless_replaced(store: &dyn Store) {
    assert_eq!(store.pin("log.key", "A", false).await.expect("pin"), "A");
    assert_eq!(
        store.pin("log.key", "B", false).await.expect("pin"),
        "A",
        "the first stays"
    );
    assert_eq!(
        store.pin("vault.master", "K1", false).await.expect("pin"),
        "K1",
        "another name"
    );
    assert_eq!(store.pin("log.key", "B", true).await.expect("pin"), "B", "replaced");
    assert_eq!(store.pin("log.key", "C", false).await.expect("pin"), "B");
}
