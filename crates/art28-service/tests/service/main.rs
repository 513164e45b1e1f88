//! Integration tests of art28-service: the use cases against a real SQLite store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod accounts;
mod incidents;
mod passwords;
mod staff_access;
mod vault;

use art28_core::ErrorCode;
use art28_core::access::{AccessEntry, Actor, Decision};
use art28_core::auth::{Grant, Principal, Role};
use art28_ledger::checkpoint::LogSigner;
use art28_service::access::RequestContext;
use art28_service::agreements::Agreements;
use art28_service::clock::{Clock, ManualClock};
use art28_service::demo::{EXAMPLES, load_demo};
use art28_service::ledger::Ledger;
use art28_store::prelude::*;
use art28_store::sqlite::SqliteStore;

const STANDARD: &str = include_str!("../../../../examples/agreements/saas-standard.toml");
const DEVIATION: &str = include_str!("../../../../examples/agreements/bakkerij-de-vries.toml");

fn ctx() -> RequestContext {
    RequestContext::of(Actor::operator())
}

/// A fresh, empty store in its own directory: the one place the service tests name a backend
/// (the directory must outlive the store).
fn open_store() -> (tempfile::TempDir, std::sync::Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("tmp");
    let store = SqliteStore::open(&dir.path().join("db.sqlite")).expect("open");
    (dir, std::sync::Arc::new(store))
}

/// The operator: the processor's administrator, who records agreements.
fn operator() -> Principal {
    Principal {
        account_id: 0,
        username: "operator".into(),
        grants: vec![Grant::staff(Role::ProcessorAdmin).expect("grant")],
        token_limit: None,
    }
}

/// A store, its clock, and the door to agreements over both.
struct Setup {
    _dir: tempfile::TempDir,
    store: std::sync::Arc<dyn Store>,
    clock: std::sync::Arc<ManualClock>,
    agreements: Agreements,
}

impl Setup {
    async fn record(
        &self,
        name: &str,
        text: &str,
    ) -> art28_core::Result<art28_store::Logged<art28_store::AgreementVersion>> {
        self.agreements.record(&ctx(), &operator(), name, text.as_bytes()).await
    }

    async fn in_force(
        &self,
        customer: &art28_core::ids::CustomerId,
    ) -> art28_core::Result<art28_store::AgreementVersion> {
        self.agreements
            .in_force(&ctx(), &operator(), customer, None)
            .await
            .map(|(v, _)| v)
    }
}

fn setup() -> Setup {
    let (dir, store) = open_store();
    let clock = std::sync::Arc::new(ManualClock::new("2026-03-01T12:00:00Z".parse().expect("ts")));
    Setup {
        agreements: Agreements::new(store.clone(), clock.clone()),
        _dir: dir,
        store,
        clock,
    }
}

#[tokio::test]
async fn a_deviation_needs_its_standard_recorded_first() {
    let w = setup();
    let (store, clock) = (w.store.as_ref(), w.clock.as_ref());
    let err = w.record("dev.toml", DEVIATION).await.expect_err("no base");
    assert_eq!(err.code, ErrorCode::AgreementBaseMissing);
    assert!(
        store.customers().await.expect("list").is_empty(),
        "nothing onboarded on refusal"
    );

    w.record("std.toml", STANDARD).await.expect("standard");
    let v = w.record("dev.toml", DEVIATION).await.expect("deviation");
    let v = v.value;
    assert_eq!(v.meta.recorded_at, clock.now());
    assert_eq!(v.meta.recorded_by, "operator");
    assert_eq!(v.source, DEVIATION, "the submitted text is kept as it was");
    let customer = v.meta.customer.clone().expect("customer agreement");
    let record = store.customer(&customer).await.expect("get").expect("onboarded");
    assert_eq!(record.created_at, clock.now());
    assert_eq!(
        w.in_force(&customer).await.expect("in force").meta.version,
        v.meta.version
    );
}

#[tokio::test]
async fn invalid_text_is_refused_with_one_detail_per_problem() {
    let w = setup();
    let store = w.store.as_ref();
    let bad = STANDARD
        .replacen("\"PT48H\"", "\"-PT48H\"", 1)
        .replacen("\"P4W\"", "\"four weeks\"", 1);
    let err = w.record("upload", &bad).await.expect_err("invalid");
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
    let w = setup();
    let clock = w.clock.as_ref();
    w.record("std.toml", STANDARD).await.expect("standard");
    let v = w.record("dev.toml", DEVIATION).await.expect("deviation");
    let customer = v.value.meta.customer.clone().expect("customer");
    let day_before = v.value.meta.effective_from.0.yesterday().expect("date");
    clock.set(day_before.to_zoned(jiff::tz::TimeZone::UTC).expect("zoned").timestamp());
    let err = w.in_force(&customer).await.expect_err("not yet");
    assert_eq!(err.code, ErrorCode::AgreementNotFound);
}

#[tokio::test]
async fn demo_loads_once_and_again_changes_nothing() {
    let w = setup();
    let (store, clock) = (w.store.as_ref(), w.clock.as_ref());
    let first = load_demo(store, clock).await.expect("demo");
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
    let second = load_demo(store, clock).await.expect("again");
    assert_eq!((second.recorded, second.present), (0, EXAMPLES.len()));
    assert_eq!(store.customers().await.expect("list"), customers);
}

/// Every entry of the log, decoded.
async fn all_entries(store: &dyn Store) -> Vec<AccessEntry> {
    let size = store.log_size().await.expect("size");
    let mut out = Vec::new();
    for c in store.customers().await.expect("customers") {
        out.extend(
            store
                .tenant_log(&c.id, 0, size, 10_000)
                .await
                .expect("log")
                .into_iter()
                .map(|e| AccessEntry::from_bytes(&e.bytes).expect("entry")),
        );
    }
    out
}

#[tokio::test]
async fn granted_and_refused_recordings_each_leave_exactly_one_entry() {
    let w = setup();
    let (store, clock) = (w.store.as_ref(), w.clock.as_ref());
    w.record("std.toml", STANDARD).await.expect("standard");
    assert_eq!(store.log_size().await.expect("size"), 1);
    let refused = w.record("std.toml", STANDARD).await.expect_err("again");
    assert_eq!(refused.code, ErrorCode::AgreementVersionConflict);
    assert_eq!(
        store.log_size().await.expect("size"),
        2,
        "the refusal has its own entry"
    );
    let v = w.record("dev.toml", DEVIATION).await.expect("deviation");
    assert_eq!(v.receipt.index, 2);
    let refused = w.record("dev.toml", DEVIATION).await.expect_err("again");
    assert_eq!(refused.code, ErrorCode::AgreementVersionConflict);
    let entries = all_entries(store).await;
    assert_eq!(entries.len(), 2, "two entries name the customer");
    assert_eq!(entries[0].decision, Decision::Granted);
    assert_eq!(entries[0].access_id, v.receipt.access_id);
    assert_eq!(entries[1].decision, Decision::Refused);
    assert_eq!(entries[1].rule.as_deref(), Some("agreement_version_conflict"));
    assert_eq!(entries[1].time, clock.now());
    assert!(
        entries
            .iter()
            .all(|e| e.operation == "agreement.record" && e.actor == Actor::operator())
    );
}

#[tokio::test]
async fn folding_signs_checkpoints_that_verify_and_survive_restarts() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("db.sqlite");
    let clock = ManualClock::new("2026-03-01T12:00:00Z".parse().expect("ts"));
    let signer = LogSigner::generate("art28.test/log").expect("key");
    let secret = *signer.secret_bytes();
    let verifier = signer.verifier();
    let first;
    {
        let store = SqliteStore::open(&path).expect("open");
        let ledger = Ledger::new(signer);
        let empty = ledger
            .fold(&store, &clock)
            .await
            .expect("fold")
            .expect("first checkpoint");
        assert_eq!(empty.size, 0);
        assert!(
            ledger.fold(&store, &clock).await.expect("fold").is_none(),
            "nothing new, no new checkpoint"
        );
        load_demo(&store, &clock).await.expect("demo");
        first = ledger.fold(&store, &clock).await.expect("fold").expect("checkpoint");
        assert_eq!(first.size, store.log_size().await.expect("size"));
        let cp = verifier.verify(&first.note).expect("signature verifies");
        assert_eq!((cp.size, cp.root), (first.size, first.root));
    }
    // After a restart, a new ledger with the same key continues the same tree.
    let store = SqliteStore::open(&path).expect("reopen");
    let ledger = Ledger::new(LogSigner::from_bytes("art28.test/log", &secret).expect("key"));
    let c = store.customers().await.expect("customers")[0].id.clone();
    for _ in 0..37 {
        art28_service::access::log_read(
            &store,
            &clock,
            &ctx(),
            art28_service::access::Access {
                tenant: Some(&c),
                operation: art28_core::operation::Operation::CustomerRead,
                resource: format!("customer/{c}"),
            },
        )
        .await
        .expect("log");
    }
    let second = ledger.fold(&store, &clock).await.expect("fold").expect("checkpoint");
    assert_eq!(second.size, first.size + 37);
    let proof = store.consistency_proof(first.size, second.size).await.expect("proof");
    art28_ledger::bundle::verify_consistency_notes(&first.note, &second.note, &proof, &verifier)
        .expect("the new checkpoint extends the old");
}

/// An agreement id stays with its customer: a version that hands it to another customer is
/// refused by the succession rule (`agreement_customer_mismatch`), with one refused entry, and
/// nothing is recorded for either customer.
#[tokio::test]
async fn an_agreement_id_stays_with_its_customer() {
    let w = setup();
    w.record("std.toml", STANDARD).await.expect("standard");
    let v = w.record("dev.toml", DEVIATION).await.expect("deviation");
    let owner = v.value.meta.customer.clone().expect("customer");
    let stolen = DEVIATION.replacen("version = 1", "version = 2", 1).replacen(
        "id = \"bakkerij-de-vries\"\nname",
        "id = \"andere-bakker\"\nname",
        1,
    );
    assert_ne!(stolen, DEVIATION, "the text names another customer");
    let before = w.store.log_size().await.expect("size");
    let err = w.record("stolen.toml", &stolen).await.expect_err("another customer");
    assert_eq!(err.code, ErrorCode::AgreementCustomerMismatch, "{}", err.message);
    assert_eq!(w.store.log_size().await.expect("size"), before + 1, "one refused entry");
    assert!(
        w.store
            .customer(&"andere-bakker".parse().expect("id"))
            .await
            .expect("get")
            .is_none()
    );
    assert_eq!(
        w.store.customer_agreement_history(&owner).await.expect("history").len(),
        1
    );
}

/// A caller without the right to a customer's agreements or log hears the same for a customer
/// that exists and one that does not: the doors judge before they look the customer up. Only
/// the existing customer's log records the attempt.
#[tokio::test]
async fn not_yours_and_absent_answer_alike() {
    let w = setup();
    load_demo(w.store.as_ref(), w.clock.as_ref()).await.expect("demo");
    let signer = LogSigner::generate("art28.test/log").expect("key");
    let log = art28_service::access_log::AccessLog::new(
        w.store.clone(),
        w.clock.clone(),
        std::sync::Arc::new(Ledger::new(signer)),
    );
    let stranger = Principal {
        account_id: 9,
        username: "henk".into(),
        grants: vec![
            Grant::customer(
                Role::CustomerAdmin,
                "hanzeveld-installatietechniek".parse().expect("id"),
            )
            .expect("grant"),
        ],
        token_limit: None,
    };
    let (real, absent): (art28_core::ids::CustomerId, art28_core::ids::CustomerId) = (
        "bakkerij-de-vries".parse().expect("id"),
        "bakkerij-de-nooit".parse().expect("id"),
    );
    let before = w.store.log_size().await.expect("size");
    let answers = |e: art28_core::Error, id: &str| (e.code, e.message.replace(id, "X"));
    let a = w
        .agreements
        .customer(&ctx(), &stranger, &real)
        .await
        .expect_err("not yours");
    let b = w
        .agreements
        .customer(&ctx(), &stranger, &absent)
        .await
        .expect_err("absent");
    assert_eq!(answers(a, real.as_str()), answers(b, absent.as_str()));
    let a = w
        .agreements
        .history(&ctx(), &stranger, &real)
        .await
        .expect_err("not yours");
    let b = w
        .agreements
        .history(&ctx(), &stranger, &absent)
        .await
        .expect_err("absent");
    assert_eq!(answers(a, real.as_str()), answers(b, absent.as_str()));
    let a = log.page(&ctx(), &stranger, &real, 0, 10).await.expect_err("not yours");
    let b = log.page(&ctx(), &stranger, &absent, 0, 10).await.expect_err("absent");
    assert_eq!(answers(a, real.as_str()), answers(b, absent.as_str()));
    assert_eq!(
        w.store.log_size().await.expect("size"),
        before + 3,
        "three refusals in the existing customer's log, none for the absent one"
    );
}
