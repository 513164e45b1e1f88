//! Integration tests of art28-service: the use cases against a real SQLite store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

use art28_core::ErrorCode;
use art28_service::agreements::{in_force_today, record_agreement};
use art28_service::clock::{Clock, ManualClock};
use art28_service::demo::{EXAMPLES, load_demo};
use art28_store::Store;
use art28_store::sqlite::SqliteStore;

const STANDARD: &str = include_str!("../../../../examples/agreements/saas-standard.toml");
const DEVIATION: &str = include_str!("../../../../examples/agreements/bakkerij-de-vries.toml");

fn setup() -> (tempfile::TempDir, SqliteStore, ManualClock) {
    let dir = tempfile::tempdir().expect("tmp");
    let store = SqliteStore::open(&dir.path().join("db.sqlite")).expect("open");
    (
        dir,
        store,
        ManualClock::new("2026-03-01T12:00:00Z".parse().expect("ts")),
    )
}

#[tokio::test]
async fn a_deviation_needs_its_standard_recorded_first() {
    let (_d, store, clock) = setup();
    let err = record_agreement(&store, &clock, "tester", "dev.toml", DEVIATION.as_bytes())
        .await
        .expect_err("no base");
    assert_eq!(err.code, ErrorCode::AgreementBaseMissing);
    assert!(
        store.customers().await.expect("list").is_empty(),
        "nothing onboarded on refusal"
    );

    record_agreement(&store, &clock, "tester", "std.toml", STANDARD.as_bytes())
        .await
        .expect("standard");
    let v = record_agreement(&store, &clock, "tester", "dev.toml", DEVIATION.as_bytes())
        .await
        .expect("deviation");
    assert_eq!(v.meta.recorded_at, clock.now());
    assert_eq!(v.meta.recorded_by, "tester");
    assert_eq!(v.source, DEVIATION, "the submitted text is kept as it was");
    let customer = v.meta.customer.clone().expect("customer agreement");
    let record = store
        .customer(&customer)
        .await
        .expect("get")
        .expect("onboarded");
    assert_eq!(record.created_at, clock.now());
    assert_eq!(
        in_force_today(&store, &clock, &customer)
            .await
            .expect("in force")
            .meta
            .version,
        v.meta.version
    );
}

#[tokio::test]
async fn invalid_text_is_refused_with_one_detail_per_problem() {
    let (_d, store, clock) = setup();
    let bad =
        STANDARD
            .replacen("\"PT48H\"", "\"-PT48H\"", 1)
            .replacen("\"P4W\"", "\"four weeks\"", 1);
    let err = record_agreement(&store, &clock, "tester", "upload", bad.as_bytes())
        .await
        .expect_err("invalid");
    assert_eq!(err.code, ErrorCode::AgreementInvalid);
    assert!(!err.details.is_empty());
    assert!(
        err.details.iter().all(|d| d.starts_with("upload:")),
        "{:?}",
        err.details
    );
    assert!(store.standard_agreements().await.expect("list").is_empty());
}

#[tokio::test]
async fn nothing_in_force_before_the_effective_date() {
    let (_d, store, clock) = setup();
    record_agreement(&store, &clock, "tester", "std.toml", STANDARD.as_bytes())
        .await
        .expect("standard");
    let v = record_agreement(&store, &clock, "tester", "dev.toml", DEVIATION.as_bytes())
        .await
        .expect("deviation");
    let customer = v.meta.customer.clone().expect("customer");
    let day_before = v.meta.effective_from.0.yesterday().expect("date");
    clock.set(
        day_before
            .to_zoned(jiff::tz::TimeZone::UTC)
            .expect("zoned")
            .timestamp(),
    );
    let err = in_force_today(&store, &clock, &customer)
        .await
        .expect_err("not yet");
    assert_eq!(err.code, ErrorCode::AgreementNotFound);
}

#[tokio::test]
async fn demo_loads_once_and_again_changes_nothing() {
    let (_d, store, clock) = setup();
    let first = load_demo(&store, &clock).await.expect("demo");
    assert_eq!(first.recorded, EXAMPLES.len());
    assert_eq!(first.present, 0);
    let customers = store.customers().await.expect("list");
    assert_eq!(customers.len(), 3);
    assert!(
        store
            .processor()
            .await
            .expect("processor")
            .is_some_and(|p| p.name.contains("Noordlicht"))
    );
    clock.advance(jiff::SignedDuration::from_hours(1));
    let second = load_demo(&store, &clock).await.expect("again");
    assert_eq!((second.recorded, second.present), (0, EXAMPLES.len()));
    assert_eq!(store.customers().await.expect("list"), customers);
}
