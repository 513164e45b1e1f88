//! The vault through its library API, against a real SQLite store: tenant isolation, the
//! agreement's categories and purposes, one access entry per operation, ciphertext bound to
//! its record, crypto-shredding that survives a restore, legal holds, pseudonymised export and
//! master key rotation.

use art28_core::ErrorCode;
use art28_core::access::{AccessEntry, Actor, Decision};
use art28_core::auth::{AccessReason, Grant, Principal, Role};
use art28_core::ids::CustomerId;
use art28_core::vault::{CollectionDef, FieldDef, IdentifierKind, Values};
use art28_crypto::{Key, Keyring, MasterKey};
use art28_service::access::RequestContext;
use art28_service::clock::{Clock, ManualClock};
use art28_service::vault::{ErasureJournal, Lookup, Vault};
use art28_store::prelude::*;
use art28_store::sqlite::SqliteStore;
use std::sync::Arc;

const BAKKERIJ: &str = "bakkerij-de-vries";
const HANZEVELD: &str = "hanzeveld-installatietechniek";
const SCHELDE: &str = "scheldepoort-documentbeheer";

struct World {
    dir: tempfile::TempDir,
    /// The store, as the services see it.
    store: Arc<dyn Store>,
    /// The same store as SQLite, for what only SQLite does (backups).
    sqlite: Arc<SqliteStore>,
    clock: Arc<ManualClock>,
    keyring: Keyring,
    vault: Vault,
}

fn keyring() -> Keyring {
    Keyring::new(MasterKey::new(Key::generate()), Vec::new())
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("tmp");
    let sqlite = Arc::new(SqliteStore::open(&dir.path().join("db.sqlite")).expect("open"));
    let store: Arc<dyn Store> = sqlite.clone();
    let clock = Arc::new(ManualClock::new("2026-11-22T12:00:00Z".parse().expect("ts")));
    art28_service::demo::load_demo(store.as_ref(), clock.as_ref())
        .await
        .expect("demo");
    let keyring = keyring();
    let vault = Vault::new(
        store.clone(),
        clock.clone(),
        keyring.clone(),
        ErasureJournal::new(dir.path().join("erasures.journal")),
    );
    World {
        dir,
        store,
        sqlite,
        clock,
        keyring,
        vault,
    }
}

fn id(s: &str) -> CustomerId {
    s.parse().expect("id")
}

fn customer(role: Role, tenant: &str) -> Principal {
    Principal {
        account_id: 100,
        username: format!("{}-{tenant}", role.as_str()),
        grants: vec![Grant::customer(role, id(tenant)).expect("grant")],
        token_limit: None,
    }
}

fn ctx(purpose: &str) -> RequestContext {
    let mut c = RequestContext::of(Actor {
        kind: art28_core::access::ActorKind::User,
        id: "tester".into(),
    });
    c.purpose = Some(purpose.into());
    c
}

fn field(name: &str, category: &str, identifier: Option<IdentifierKind>) -> FieldDef {
    FieldDef {
        name: name.into(),
        category: category.into(),
        identifier,
        required: false,
    }
}

fn employees() -> CollectionDef {
    CollectionDef {
        name: "employees".into(),
        fields: vec![
            FieldDef {
                required: true,
                ..field("name", "identification", None)
            },
            field("email", "contact", Some(IdentifierKind::Email)),
            field("iban", "financial_identifier", None),
            field("salary", "salary", None),
            field("bsn", "national_id", Some(IdentifierKind::Id)),
        ],
    }
}

fn values(pairs: &[(&str, &str)]) -> Values {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn anna() -> Values {
    values(&[
        ("name", "Anna de Vries"),
        ("email", "anna@bakkerij-devries.example"),
        ("iban", "NL91ABNA0417164300"),
        ("salary", "3120.50"),
        ("bsn", "111222333"),
    ])
}

/// The last `n` entries of the log.
async fn last_entries(store: &dyn Store, n: u64) -> Vec<AccessEntry> {
    let size = store.log_size().await.expect("size");
    let mut out = Vec::new();
    for t in [BAKKERIJ, HANZEVELD, SCHELDE] {
        for e in store.tenant_log(&id(t), size - n, size, 1000).await.expect("log") {
            out.push((e.index, AccessEntry::from_bytes(&e.bytes).expect("entry")));
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, e)| e).collect()
}

/// Run an operation and check it left exactly one access entry, with this decision and rule.
macro_rules! one_entry {
    ($w:expr, $decision:expr, $rule:expr, $op:expr) => {{
        let before = $w.store.log_size().await.expect("size");
        let out = $op.await;
        let after = $w.store.log_size().await.expect("size");
        assert_eq!(after - before, 1, "exactly one access entry for {}", stringify!($op));
        let e = last_entries($w.store.as_ref(), 1).await.pop().expect("entry");
        assert_eq!(e.decision, $decision, "{e:?}");
        assert_eq!(e.rule.as_deref(), $rule, "{e:?}");
        out
    }};
}

async fn setup_employees(w: &World) -> String {
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    w.vault
        .define_collection(&ctx("payroll"), &admin, &id(BAKKERIJ), &employees())
        .await
        .expect("define");
    let (rec, _) = w
        .vault
        .create(&ctx("payroll"), &admin, &id(BAKKERIJ), "employees", "emp-1042", &anna())
        .await
        .expect("create");
    rec
}

#[tokio::test]
async fn records_round_trip_and_every_operation_leaves_one_entry() {
    let w = world().await;
    let t = id(BAKKERIJ);
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    one_entry!(
        w,
        Decision::Granted,
        None,
        w.vault.define_collection(&ctx("payroll"), &admin, &t, &employees())
    )
    .expect("define");
    let (rec, receipt) = one_entry!(
        w,
        Decision::Granted,
        None,
        w.vault
            .create(&ctx("payroll"), &admin, &t, "employees", "emp-1042", &anna())
    )
    .expect("create");
    assert!(rec.starts_with("rec_"));
    let e = last_entries(w.store.as_ref(), 1).await.pop().expect("entry");
    assert_eq!(e.access_id, receipt.access_id);
    assert_eq!(e.operation, "vault.record.create");
    assert_eq!(e.purpose.as_deref(), Some("payroll"));
    assert!(
        !String::from_utf8_lossy(&e.to_bytes()).contains("Anna"),
        "no plaintext in the log"
    );

    let (r, _) = one_entry!(
        w,
        Decision::Granted,
        None,
        w.vault.read(&ctx("payroll"), &admin, &t, "employees", &rec)
    )
    .expect("read");
    assert_eq!(r.values, anna());
    assert_eq!(r.subject, "emp-1042");
    assert_eq!(r.version, 1);

    // By subject and by an identifying value, normalised.
    let (by_subject, _) = w
        .vault
        .query(&ctx("payroll"), &admin, &t, &Lookup::Subject(" emp-1042".into()))
        .await
        .expect("query");
    assert_eq!(by_subject.len(), 1);
    let (by_email, _) = one_entry!(
        w,
        Decision::Granted,
        None,
        w.vault.query(
            &ctx("payroll"),
            &admin,
            &t,
            &Lookup::Identifier(IdentifierKind::Email, "ANNA@Bakkerij-DeVries.example ".into())
        )
    )
    .expect("query");
    assert_eq!(by_email[0].id, rec);

    // Update: a stale version is refused (and logged); the right one changes the blind index.
    let change = values(&[("email", "a.devries@bakkerij-devries.example")]);
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("record_version_conflict"),
        w.vault
            .update(&ctx("payroll"), &admin, &t, "employees", &rec, 7, &change)
    )
    .expect_err("stale");
    assert_eq!(err.code, ErrorCode::RecordVersionConflict);
    let (v, _) = w
        .vault
        .update(&ctx("payroll"), &admin, &t, "employees", &rec, 1, &change)
        .await
        .expect("update");
    assert_eq!(v, 2);
    let old = Lookup::Identifier(IdentifierKind::Email, "anna@bakkerij-devries.example".into());
    let new = Lookup::Identifier(IdentifierKind::Email, "a.devries@bakkerij-devries.example".into());
    assert!(
        w.vault
            .query(&ctx("payroll"), &admin, &t, &old)
            .await
            .expect("q")
            .0
            .is_empty()
    );
    let (found, _) = w.vault.query(&ctx("payroll"), &admin, &t, &new).await.expect("q");
    assert_eq!(found[0].values["name"], "Anna de Vries", "other fields stay");

    // Bad input is refused with a code, and logged like any refusal.
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("record_invalid"),
        w.vault.create(
            &ctx("payroll"),
            &admin,
            &t,
            "employees",
            "emp-1",
            &values(&[("shoe_size", "42"), ("name", "X")])
        )
    )
    .expect_err("unknown field");
    assert_eq!(err.code, ErrorCode::RecordInvalid);
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("record_not_found"),
        w.vault.read(&ctx("payroll"), &admin, &t, "employees", "rec_nope")
    )
    .expect_err("missing");
    assert_eq!(err.code, ErrorCode::RecordNotFound);

    let (page, _) = w
        .vault
        .list(&ctx("payroll"), &admin, &t, "employees", "", 10)
        .await
        .expect("list");
    assert_eq!(page.len(), 1);
    one_entry!(
        w,
        Decision::Granted,
        None,
        w.vault.delete(&ctx("payroll"), &admin, &t, "employees", &rec)
    )
    .expect("delete");
    assert!(
        w.vault
            .query(&ctx("payroll"), &admin, &t, &new)
            .await
            .expect("q")
            .0
            .is_empty()
    );
}

#[tokio::test]
async fn no_path_returns_another_customers_data() {
    let w = world().await;
    let rec = setup_employees(&w).await;
    let other = customer(Role::CustomerAdmin, HANZEVELD);
    let bakkerij = id(BAKKERIJ);
    // Another customer's admin, naming the first customer: refused by tenant, logged in the
    // first customer's log.
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("tenant_mismatch"),
        w.vault.read(&ctx("payroll"), &other, &bakkerij, "employees", &rec)
    )
    .expect_err("other tenant");
    assert_eq!(err.code, ErrorCode::TenantMismatch);
    let err = w
        .vault
        .query(&ctx("payroll"), &other, &bakkerij, &Lookup::Subject("emp-1042".into()))
        .await
        .expect_err("other tenant");
    assert_eq!(err.code, ErrorCode::TenantMismatch);
    let err = w
        .vault
        .export(&ctx("payroll"), &other, &bakkerij, false, false)
        .await
        .expect_err("other tenant");
    assert_eq!(err.code, ErrorCode::TenantMismatch);
    // Naming its own customer with the first customer's record id finds nothing.
    let own = id(HANZEVELD);
    let mut own_def = employees();
    own_def.fields = vec![
        FieldDef {
            required: true,
            ..field("name", "identification", None)
        },
        field("email", "email_address", Some(IdentifierKind::Email)),
    ];
    w.vault
        .define_collection(&ctx("customer_support"), &other, &own, &own_def)
        .await
        .expect("define");
    let err = w
        .vault
        .read(&ctx("customer_support"), &other, &own, "employees", &rec)
        .await
        .expect_err("not its record");
    assert_eq!(err.code, ErrorCode::RecordNotFound);
    let (found, _) = w
        .vault
        .query(
            &ctx("customer_support"),
            &other,
            &own,
            &Lookup::Identifier(IdentifierKind::Email, "anna@bakkerij-devries.example".into()),
        )
        .await
        .expect("query");
    assert!(found.is_empty(), "blind indexes are per customer");
    let (export, _) = w
        .vault
        .export(&ctx("customer_support"), &other, &own, false, false)
        .await
        .expect("export");
    assert!(export.records.is_empty());

    // A user may read but not define collections; an auditor reads no data at all.
    let auditor = customer(Role::CustomerAuditor, BAKKERIJ);
    let err = w
        .vault
        .read(&ctx("payroll"), &auditor, &bakkerij, "employees", &rec)
        .await
        .expect_err("auditor");
    assert_eq!(err.code, ErrorCode::PermissionDenied);
    let user = customer(Role::CustomerUser, BAKKERIJ);
    w.vault
        .read(&ctx("payroll"), &user, &bakkerij, "employees", &rec)
        .await
        .expect("user reads");
    let err = w
        .vault
        .define_collection(&ctx("payroll"), &user, &bakkerij, &employees())
        .await
        .expect_err("user defines");
    assert_eq!(err.code, ErrorCode::PermissionDenied);
}

#[tokio::test]
async fn categories_and_purposes_outside_the_agreement_are_refused() {
    let w = world().await;
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    let mut def = employees();
    def.fields.push(field("diagnosis", "health", None));
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("special_category_not_allowed"),
        w.vault.define_collection(&ctx("payroll"), &admin, &t, &def)
    )
    .expect_err("health");
    assert_eq!(err.code, ErrorCode::SpecialCategoryNotAllowed);
    let mut def = employees();
    def.fields
        .push(field("phone", "phone_number", Some(IdentifierKind::Phone)));
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("category_not_in_agreement"),
        w.vault.define_collection(&ctx("payroll"), &admin, &t, &def)
    )
    .expect_err("phone");
    assert_eq!(err.code, ErrorCode::CategoryNotInAgreement);
    assert!(err.message.contains("phone_number"), "{}", err.message);
    let mut def = employees();
    def.fields.push(field("x", "not_a_category", None));
    let err = w
        .vault
        .define_collection(&ctx("payroll"), &admin, &t, &def)
        .await
        .expect_err("unknown");
    assert_eq!(err.code, ErrorCode::CollectionInvalid);

    // The Belgian customer's agreement allows health data.
    let schelde = id(SCHELDE);
    let sadmin = customer(Role::CustomerAdmin, SCHELDE);
    let def = CollectionDef {
        name: "files".into(),
        fields: vec![field("name", "identification", None), field("note", "health", None)],
    };
    w.vault
        .define_collection(&ctx("document_management"), &sadmin, &schelde, &def)
        .await
        .expect("health allowed here");

    // Purposes.
    let rec = setup_employees(&w).await;
    let mut no_purpose = ctx("x");
    no_purpose.purpose = None;
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("purpose_required"),
        w.vault.read(&no_purpose, &admin, &t, "employees", &rec)
    )
    .expect_err("no purpose");
    assert_eq!(err.code, ErrorCode::PurposeRequired);
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("purpose_not_in_agreement"),
        w.vault.read(&ctx("marketing"), &admin, &t, "employees", &rec)
    )
    .expect_err("marketing");
    assert_eq!(err.code, ErrorCode::PurposeNotInAgreement);
}

#[tokio::test]
async fn ciphertext_moved_between_records_or_customers_does_not_open() {
    let w = world().await;
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    let first = setup_employees(&w).await;
    let mut other = anna();
    other.insert("salary".into(), "9999.00".into());
    let (second, _) = w
        .vault
        .create(&ctx("payroll"), &admin, &t, "employees", "emp-1042", &other)
        .await
        .expect("same subject, second record");
    let db = rusqlite::Connection::open(w.dir.path().join("db.sqlite")).expect("raw");
    // Same subject (same key), another record: the associated data no longer matches.
    db.execute(
        "UPDATE vault_records SET sealed = (SELECT sealed FROM vault_records WHERE id = ?1) WHERE id = ?2",
        [&first, &second],
    )
    .expect("move");
    let err = w
        .vault
        .read(&ctx("payroll"), &admin, &t, "employees", &second)
        .await
        .expect_err("moved ciphertext");
    assert_eq!(err.code, ErrorCode::KeyUnavailable);

    // The whole record, subject key included, moved to another customer: its key cannot
    // unwrap the subject key.
    let h = id(HANZEVELD);
    let hadmin = customer(Role::CustomerAdmin, HANZEVELD);
    w.vault
        .define_collection(&ctx("customer_support"), &hadmin, &h, &employees_for_hanzeveld())
        .await
        .expect("define");
    db.execute(
        "INSERT INTO vault_records (tenant, id, collection, subject, version, sealed, blind, created_at, updated_at)
         SELECT ?1, 'rec_stolen', collection, subject, version, sealed, blind, created_at, updated_at
         FROM vault_records WHERE id = ?2",
        [HANZEVELD, first.as_str()],
    )
    .expect("copy");
    let err = w
        .vault
        .read(&ctx("customer_support"), &hadmin, &h, "employees", "rec_stolen")
        .await
        .expect_err("other customer's key");
    assert_eq!(err.code, ErrorCode::KeyUnavailable);
    // Nothing sealed is stored in the clear.
    let raw: Vec<u8> = db
        .query_row("SELECT sealed FROM vault_records WHERE id = ?1", [&first], |r| r.get(0))
        .expect("row");
    assert!(!raw.windows(4).any(|w| w == b"Anna"));
}

fn employees_for_hanzeveld() -> CollectionDef {
    CollectionDef {
        name: "employees".into(),
        fields: vec![field("name", "identification", None)],
    }
}

#[tokio::test]
async fn staff_reach_data_only_under_a_live_grant() {
    let w = world().await;
    let rec = setup_employees(&w).await;
    let t = id(BAKKERIJ);
    let support = Principal {
        account_id: 0,
        username: "support".into(),
        grants: vec![Grant::staff(Role::SupportEngineer).expect("grant")],
        token_limit: None,
    };
    // Staff access grants are for a person's account: make one.
    let hasher = art28_service::passwords::PasswordHasher::new(art28_service::passwords::Argon2Params::OWASP_MINIMUM)
        .expect("hasher");
    let accounts = art28_service::accounts::Accounts::new(w.store.clone(), w.clock.clone(), hasher, Default::default());
    let a = accounts
        .bootstrap_admin(
            "beheer",
            "Beheer",
            &secrecy::SecretString::from("Wadlopen-naar-Schiermonnikoog-2026".to_string()),
        )
        .await
        .expect("admin");
    let admin = accounts.principal(&a).await.expect("p");
    let (acc, _) = accounts
        .create_account(
            &ctx("setup"),
            &admin,
            art28_service::accounts::AccountRequest {
                username: "support".into(),
                display_name: "Support".into(),
                password: secrecy::SecretString::from("Wadlopen-naar-Schiermonnikoog-2026-s".to_string()),
                role: Role::SupportEngineer,
                customer: None,
            },
        )
        .await
        .expect("support");
    let support = Principal {
        account_id: acc.id,
        ..support
    };
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("no_access_grant"),
        w.vault.read(&ctx("customer_support"), &support, &t, "employees", &rec)
    )
    .expect_err("no grant");
    assert_eq!(err.code, ErrorCode::NoAccessGrant);
    // The processor's administrator has no standing access either.
    let err = w
        .vault
        .read(&ctx("customer_support"), &admin, &t, "employees", &rec)
        .await
        .expect_err("admin");
    assert_eq!(err.code, ErrorCode::PermissionDenied);

    let ends = w.clock.now() + jiff::SignedDuration::from_hours(4);
    art28_service::staff_access::StaffAccess::new(w.store.clone(), w.clock.clone())
        .request(&ctx("x"), &support, &t, AccessReason::SupportTicket, "TICKET-77", ends)
        .await
        .expect("grant");
    let (r, _) = one_entry!(
        w,
        Decision::Granted,
        None,
        w.vault.read(&ctx("customer_support"), &support, &t, "employees", &rec)
    )
    .expect("under grant");
    assert_eq!(r.subject, "emp-1042");
    let e = last_entries(w.store.as_ref(), 1).await.pop().expect("entry");
    assert!(e.reference.as_deref().is_some_and(|r| r.contains("TICKET-77")), "{e:?}");
    // After the grant ends: refused again.
    w.clock.advance(jiff::SignedDuration::from_hours(5));
    let err = w
        .vault
        .read(&ctx("customer_support"), &support, &t, "employees", &rec)
        .await
        .expect_err("ended");
    assert_eq!(err.code, ErrorCode::NoAccessGrant);
    // Staff cannot erase an active customer's data.
    let err = w.vault.erase_tenant(&ctx("x"), &admin, &t).await.expect_err("active");
    assert_eq!(err.code, ErrorCode::ErasureBeforeEnd);
}

#[tokio::test]
async fn erased_subjects_and_customers_stay_erased_after_restoring_an_older_backup() {
    let w = world().await;
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    let kept = setup_employees(&w).await;
    let mut bram = anna();
    bram.insert("name".into(), "Bram Jansen".into());
    bram.insert("email".into(), "bram@bakkerij-devries.example".into());
    let (gone, _) = w
        .vault
        .create(&ctx("payroll"), &admin, &t, "employees", "emp-2001", &bram)
        .await
        .expect("create");
    let h = id(HANZEVELD);
    let hadmin = customer(Role::CustomerAdmin, HANZEVELD);
    w.vault
        .define_collection(&ctx("customer_support"), &hadmin, &h, &employees_for_hanzeveld())
        .await
        .expect("define");
    let (hrec, _) = w
        .vault
        .create(
            &ctx("customer_support"),
            &hadmin,
            &h,
            "employees",
            "h-1",
            &values(&[("name", "Henk")]),
        )
        .await
        .expect("create");

    // The backup is made before the erasures.
    let backup = w.dir.path().join("backup.sqlite");
    w.sqlite.backup_to(&backup).await.expect("backup");

    let (n, _) = w
        .vault
        .erase_subject(&ctx("payroll"), &admin, &t, "emp-2001")
        .await
        .expect("erase subject");
    assert_eq!(n, 1);
    let err = w
        .vault
        .read(&ctx("payroll"), &admin, &t, "employees", &gone)
        .await
        .expect_err("gone");
    assert_eq!(err.code, ErrorCode::RecordNotFound);
    one_entry!(w, Decision::Granted, None, w.vault.erase_tenant(&ctx("x"), &hadmin, &h)).expect("erase tenant");
    let err = w
        .vault
        .read(&ctx("customer_support"), &hadmin, &h, "employees", &hrec)
        .await
        .expect_err("erased");
    assert_eq!(err.code, ErrorCode::TenantErased);

    // Restore the older backup in place of the database.
    let World {
        dir, store, keyring, ..
    } = w;
    drop(store);
    let db = dir.path().join("db.sqlite");
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
    std::fs::copy(&backup, &db).expect("restore");
    let store = Arc::new(SqliteStore::open(&db).expect("reopen"));
    // The restored database does hold the erased keys again...
    assert!(
        store.tenant_keys().await.expect("keys").iter().any(|(c, _)| c == &h),
        "the backup predates the erasure"
    );
    let clock = Arc::new(ManualClock::new("2026-11-23T12:00:00Z".parse().expect("ts")));
    let vault = Vault::new(
        store.clone(),
        clock.clone(),
        keyring,
        ErasureJournal::new(dir.path().join("erasures.journal")),
    );
    // ...until the journal is replayed, as every start does.
    assert_eq!(vault.replay_journal().await.expect("replay"), 2);
    assert_eq!(vault.replay_journal().await.expect("again"), 0, "idempotent");
    let err = vault
        .read(&ctx("payroll"), &admin, &t, "employees", &gone)
        .await
        .expect_err("still gone");
    assert_eq!(err.code, ErrorCode::RecordNotFound);
    let (found, _) = vault
        .query(&ctx("payroll"), &admin, &t, &Lookup::Subject("emp-2001".into()))
        .await
        .expect("query");
    assert!(found.is_empty());
    let err = vault
        .read(&ctx("customer_support"), &hadmin, &h, "employees", &hrec)
        .await
        .expect_err("still erased");
    assert_eq!(err.code, ErrorCode::TenantErased);
    assert!(store.tenant_keys().await.expect("keys").iter().all(|(c, _)| c != &h));
    // What was not erased came back with the backup.
    let (r, _) = vault
        .read(&ctx("payroll"), &admin, &t, "employees", &kept)
        .await
        .expect("kept");
    assert_eq!(r.values["name"], "Anna de Vries");

    // The background purge removes the erased customer's rows.
    let mut total = 0;
    loop {
        let p = vault.purge_step(1).await.expect("purge");
        total += p.removed;
        if p.done {
            break;
        }
    }
    assert!(total >= 2, "record and subject rows purged, {total}");
}

#[tokio::test]
async fn a_legal_hold_blocks_erasure_and_says_so() {
    let w = world().await;
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    setup_employees(&w).await;
    let hold = w
        .vault
        .place_legal_hold(
            &ctx("x"),
            &admin,
            &t,
            Some("emp-1042"),
            "fiscal retention, art. 52 AWR (7 years)",
        )
        .await
        .expect("hold");
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("legal_hold"),
        w.vault.erase_subject(&ctx("x"), &admin, &t, "emp-1042")
    )
    .expect_err("held");
    assert_eq!(err.code, ErrorCode::LegalHold);
    assert!(err.message.contains("AWR"), "{}", err.message);
    let err = w.vault.erase_tenant(&ctx("x"), &admin, &t).await.expect_err("held");
    assert_eq!(err.code, ErrorCode::LegalHold);
    w.vault
        .lift_legal_hold(&ctx("x"), &admin, &t, hold.id)
        .await
        .expect("lift");
    w.vault
        .erase_subject(&ctx("x"), &admin, &t, "emp-1042")
        .await
        .expect("erase");
}

#[tokio::test]
async fn a_pseudonymised_copy_hides_identifiers_and_special_categories() {
    let w = world().await;
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    let rec = setup_employees(&w).await;
    let (copy, _) = one_entry!(
        w,
        Decision::Granted,
        None,
        w.vault.export(&ctx("maintenance"), &admin, &t, true, false)
    )
    .expect("export");
    assert!(copy.mapping_key.is_none(), "the key is destroyed unless asked for");
    let r = &copy.records[0];
    assert!(r.subject.starts_with("ps_") && r.id.starts_with("ps_") && r.id != rec);
    for f in ["name", "email", "iban", "bsn"] {
        assert!(r.values[f].starts_with("ps_"), "{f}: {}", r.values[f]);
    }
    assert_eq!(r.values["salary"], "3120.50", "not an identifier");
    let text = serde_json::to_string(&copy).expect("json");
    for secret in ["Anna", "anna@", "NL91ABNA", "111222333", "emp-1042"] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    let (again, _) = w
        .vault
        .export(&ctx("maintenance"), &admin, &t, true, true)
        .await
        .expect("export");
    assert!(again.mapping_key.is_some());
    assert_ne!(again.records[0].subject, r.subject, "a fresh key per copy");

    // Special categories become dummies.
    let s = id(SCHELDE);
    let sadmin = customer(Role::CustomerAdmin, SCHELDE);
    let def = CollectionDef {
        name: "files".into(),
        fields: vec![field("name", "identification", None), field("note", "health", None)],
    };
    w.vault
        .define_collection(&ctx("document_management"), &sadmin, &s, &def)
        .await
        .expect("define");
    w.vault
        .create(
            &ctx("document_management"),
            &sadmin,
            &s,
            "files",
            "p-9",
            &values(&[("name", "Piet"), ("note", "burn-out, 6 weeks")]),
        )
        .await
        .expect("create");
    let (copy, _) = w
        .vault
        .export(&ctx("document_management"), &sadmin, &s, true, false)
        .await
        .expect("export");
    assert_eq!(copy.records[0].values["note"], "dummy:health");
    let (whole, _) = w
        .vault
        .export(&ctx("document_management"), &sadmin, &s, false, false)
        .await
        .expect("export");
    assert_eq!(whole.records[0].values["note"], "burn-out, 6 weeks");
}

#[tokio::test]
async fn the_master_key_rotates_while_data_stays_readable() {
    let w = world().await;
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    let rec = setup_employees(&w).await;
    let old = w.keyring.active().id.clone();
    let saved = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = saved.clone();
    let save = move |k: &Keyring| {
        sink.lock().expect("lock").push(k.to_text().to_string());
        Ok(())
    };
    let rotation = w.vault.rotate_master_key(&save).await.expect("rotate");
    assert_ne!(rotation.active, old);
    assert_eq!(rotation.rewrapped, 1);
    assert_eq!(rotation.removed, vec![old.clone()]);
    let saved = saved.lock().expect("lock").clone();
    assert_eq!(
        saved.len(),
        2,
        "saved with both keys first, then with the new one alone"
    );
    let last = Keyring::parse(&saved[1]).expect("parse");
    assert_eq!(last.ids(), vec![rotation.active.clone()]);
    for (_, row) in w.store.tenant_keys().await.expect("keys") {
        assert_eq!(row.master_key_id, rotation.active);
    }
    let (r, _) = w
        .vault
        .read(&ctx("payroll"), &admin, &t, "employees", &rec)
        .await
        .expect("read after rotation");
    assert_eq!(r.values, anna());
    // A vault started with the old keyring alone can no longer open the customer's key.
    let stale = Vault::new(
        w.store.clone(),
        w.clock.clone(),
        w.keyring.clone(),
        ErasureJournal::new(w.dir.path().join("j2")),
    );
    let err = stale
        .read(&ctx("payroll"), &admin, &t, "employees", &rec)
        .await
        .expect_err("old key");
    assert_eq!(err.code, ErrorCode::KeyUnavailable);
}

#[tokio::test]
async fn concurrent_creates_of_one_new_subject_share_its_key() {
    let w = Arc::new(world().await);
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    w.vault
        .define_collection(&ctx("payroll"), &admin, &t, &employees())
        .await
        .expect("define");
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (w, admin, t) = (w.clone(), admin.clone(), t.clone());
        tasks.push(tokio::spawn(async move {
            let mut v = anna();
            v.insert("salary".into(), format!("{i}"));
            w.vault
                .create(&ctx("payroll"), &admin, &t, "employees", "emp-new", &v)
                .await
        }));
    }
    for task in tasks {
        task.await.expect("join").expect("create");
    }
    let (found, _) = w
        .vault
        .query(&ctx("payroll"), &admin, &t, &Lookup::Subject("emp-new".into()))
        .await
        .expect("query");
    assert_eq!(found.len(), 8, "all under one subject");
    // Import: one entry for many records, repeats of a new subject included; more subjects
    // than a point read takes, so the store reads the context on its blocking pool.
    let records: Vec<(String, Values)> = (0..50).map(|i| (format!("imp-{}", i % 25), anna())).collect();
    let (ids, _) = one_entry!(
        w,
        Decision::Granted,
        None,
        w.vault.import(&ctx("payroll"), &admin, &t, "employees", &records)
    )
    .expect("import");
    assert_eq!(ids.len(), 50);
    let (found, _) = w
        .vault
        .query(&ctx("payroll"), &admin, &t, &Lookup::Subject("imp-3".into()))
        .await
        .expect("query");
    assert_eq!(found.len(), 2);
}

/// Listing a customer's collections and legal holds is judged like every vault call: one entry
/// each, granted for the customer's own accounts, refused (with the rule) for another
/// customer's, which learns nothing of them.
#[tokio::test]
async fn listing_collections_and_holds_leaves_one_entry_and_is_refused_for_another_customer() {
    let w = world().await;
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    setup_employees(&w).await;
    w.vault
        .place_legal_hold(&ctx("x"), &admin, &t, None, "a court order keeps everything")
        .await
        .expect("hold");

    let (collections, receipt) =
        one_entry!(w, Decision::Granted, None, w.vault.collections(&ctx("x"), &admin, &t)).expect("collections");
    assert_eq!(
        collections.iter().map(|c| c.def.name.as_str()).collect::<Vec<_>>(),
        vec!["employees"]
    );
    let entry = last_entries(w.store.as_ref(), 1).await.pop().expect("entry");
    assert_eq!(entry.access_id, receipt.access_id);
    assert_eq!(entry.operation, "vault.collection.list");
    assert_eq!(entry.tenant.as_ref(), Some(&t));

    let (holds, _) = one_entry!(w, Decision::Granted, None, w.vault.legal_holds(&ctx("x"), &admin, &t)).expect("holds");
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].reason, "a court order keeps everything");
    let entry = last_entries(w.store.as_ref(), 1).await.pop().expect("entry");
    assert_eq!(entry.operation, "vault.legal_hold.list");

    let stranger = customer(Role::CustomerAdmin, HANZEVELD);
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("tenant_mismatch"),
        w.vault.collections(&ctx("x"), &stranger, &t)
    )
    .expect_err("another customer's collections");
    assert_eq!(err.code, ErrorCode::TenantMismatch);
    assert!(!err.message.contains("employees"), "{}", err.message);
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("tenant_mismatch"),
        w.vault.legal_holds(&ctx("x"), &stranger, &t)
    )
    .expect_err("another customer's holds");
    assert_eq!(err.code, ErrorCode::TenantMismatch);
    assert!(!err.message.contains("court"), "{}", err.message);
}

/// An import whose new data subject keeps colliding with one added meanwhile is retried; when
/// the tries run out the call fails with `record_version_conflict` and leaves exactly one
/// entry, the refusal (the store wrote nothing of the failed tries). A trigger in the database
/// stands in for the other writer: before every insert of a subject it adds the same subject.
#[tokio::test]
async fn an_import_that_keeps_conflicting_leaves_exactly_one_refused_entry() {
    let w = world().await;
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    setup_employees(&w).await;
    rusqlite::Connection::open(w.dir.path().join("db.sqlite"))
        .expect("raw")
        .execute_batch(
            "CREATE TRIGGER another_writer BEFORE INSERT ON vault_subjects
             WHEN NOT EXISTS (SELECT 1 FROM vault_subjects WHERE tenant = NEW.tenant AND ref_index = NEW.ref_index)
             BEGIN
                 INSERT INTO vault_subjects (tenant, ref_index, wrapped_key) VALUES (NEW.tenant, NEW.ref_index, x'00');
             END;",
        )
        .expect("trigger");
    let records = vec![("emp-2001".to_string(), anna()), ("emp-2002".to_string(), anna())];
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("record_version_conflict"),
        w.vault.import(&ctx("payroll"), &admin, &t, "employees", &records)
    )
    .expect_err("conflicts every time");
    assert_eq!(err.code, ErrorCode::RecordVersionConflict);
    let (found, _) = w
        .vault
        .query(&ctx("payroll"), &admin, &t, &Lookup::Subject("emp-2001".into()))
        .await
        .expect("query");
    assert!(found.is_empty(), "nothing of the import stayed");

    // With the other writer gone, the same import goes through with one granted entry.
    rusqlite::Connection::open(w.dir.path().join("db.sqlite"))
        .expect("raw")
        .execute_batch("DROP TRIGGER another_writer;")
        .expect("drop");
    let (ids, _) = one_entry!(
        w,
        Decision::Granted,
        None,
        w.vault.import(&ctx("payroll"), &admin, &t, "employees", &records)
    )
    .expect("import");
    assert_eq!(ids.len(), 2);
}

// ----- phone numbers: E.164 in the customer's region -----

fn contacts() -> CollectionDef {
    CollectionDef {
        name: "contacts".into(),
        fields: vec![
            field("name", "identification", None),
            field("email", "contact", Some(IdentifierKind::Email)),
            field("phone", "contact", Some(IdentifierKind::Phone)),
        ],
    }
}

fn by_phone(v: &str) -> Lookup {
    Lookup::Identifier(IdentifierKind::Phone, v.into())
}

/// The ids of the records a lookup finds.
async fn found(w: &World, who: &Principal, tenant: &str, purpose: &str, lookup: &Lookup) -> Vec<String> {
    let (records, _) = w
        .vault
        .query(&ctx(purpose), who, &id(tenant), lookup)
        .await
        .expect("query");
    records.into_iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn a_phone_number_is_found_in_any_of_its_forms_in_the_customers_region() {
    let w = world().await;
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    w.vault
        .define_collection(&ctx("payroll"), &admin, &t, &contacts())
        .await
        .expect("define");
    let (rec, _) = w
        .vault
        .create(
            &ctx("payroll"),
            &admin,
            &t,
            "contacts",
            "emp-7",
            &values(&[("name", "Joost"), ("phone", "06 12345678")]),
        )
        .await
        .expect("create");
    for v in ["+31 6 12345678", "0031612345678", "06-1234 5678", "+31612345678"] {
        assert_eq!(
            found(&w, &admin, BAKKERIJ, "payroll", &by_phone(v)).await,
            [rec.as_str()],
            "{v}"
        );
    }
    // Another number, or another country's, finds nothing.
    assert!(
        found(&w, &admin, BAKKERIJ, "payroll", &by_phone("06 12345679"))
            .await
            .is_empty()
    );
    assert!(
        found(&w, &admin, BAKKERIJ, "payroll", &by_phone("+32 470 12 34 56"))
            .await
            .is_empty()
    );

    // The Belgian customer's national numbers are read as Belgian.
    let s = id(SCHELDE);
    let sadmin = customer(Role::CustomerAdmin, SCHELDE);
    w.vault
        .define_collection(&ctx("document_management"), &sadmin, &s, &contacts())
        .await
        .expect("define");
    let (brec, _) = w
        .vault
        .create(
            &ctx("document_management"),
            &sadmin,
            &s,
            "contacts",
            "client-12",
            &values(&[("name", "Lotte"), ("phone", "0470 12 34 56")]),
        )
        .await
        .expect("create");
    for v in ["+32 470 12 34 56", "0032470123456", "0470123456"] {
        assert_eq!(
            found(&w, &sadmin, SCHELDE, "document_management", &by_phone(v)).await,
            [brec.as_str()],
            "{v}"
        );
    }
}

#[tokio::test]
async fn an_unreadable_phone_number_is_refused_on_write_and_lookup_with_one_entry_each() {
    let w = world().await;
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    w.vault
        .define_collection(&ctx("payroll"), &admin, &t, &contacts())
        .await
        .expect("define");
    let stored_before = w.store.vault_list(&t, None, "", 100, None).await.expect("list").0.len();
    for bad in ["not a number", "12"] {
        let err = one_entry!(
            w,
            Decision::Refused,
            Some("phone_invalid"),
            w.vault.create(
                &ctx("payroll"),
                &admin,
                &t,
                "contacts",
                "emp-8",
                &values(&[("name", "Kees"), ("phone", bad)])
            )
        )
        .expect_err(bad);
        assert_eq!(err.code, ErrorCode::PhoneInvalid);
        assert!(err.message.contains("field `phone`"), "{}", err.message);
        let err = one_entry!(
            w,
            Decision::Refused,
            Some("phone_invalid"),
            w.vault.query(&ctx("payroll"), &admin, &t, &by_phone(bad))
        )
        .expect_err(bad);
        assert_eq!(err.code, ErrorCode::PhoneInvalid);
    }
    // An import is refused whole, naming the record.
    let ok = values(&[("name", "Kees"), ("phone", "+31 6 12345678")]);
    let bad = values(&[("name", "Mien"), ("phone", "12")]);
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("phone_invalid"),
        w.vault.import(
            &ctx("payroll"),
            &admin,
            &t,
            "contacts",
            &[("emp-8".into(), ok.clone()), ("emp-9".into(), bad.clone())]
        )
    )
    .expect_err("import");
    assert!(err.message.starts_with("record 2 of the import"), "{}", err.message);
    let stored = w.store.vault_list(&t, None, "", 100, None).await.expect("list").0.len();
    assert_eq!(stored, stored_before, "nothing written");

    // An update that gives a bad phone number is refused; the record keeps its value.
    let (rec, _) = w
        .vault
        .create(&ctx("payroll"), &admin, &t, "contacts", "emp-8", &ok)
        .await
        .expect("create");
    let err = one_entry!(
        w,
        Decision::Refused,
        Some("phone_invalid"),
        w.vault.update(
            &ctx("payroll"),
            &admin,
            &t,
            "contacts",
            &rec,
            1,
            &values(&[("phone", "12")])
        )
    )
    .expect_err("update");
    assert_eq!(err.code, ErrorCode::PhoneInvalid);
    assert_eq!(
        found(&w, &admin, BAKKERIJ, "payroll", &by_phone("06 12345678")).await,
        [rec]
    );
}

/// The customer's blind-index key, made as the vault makes it, to write what an older art28
/// wrote.
async fn blind_key(w: &World, tenant: &str) -> Key {
    let (_, row) = w
        .store
        .tenant_keys()
        .await
        .expect("keys")
        .into_iter()
        .find(|(t, _)| t.as_str() == tenant)
        .expect("tenant key");
    let master = w.keyring.get(&row.master_key_id).expect("master key");
    let context = art28_crypto::ad(&[b"art28/tenant-key/v1", tenant.as_bytes()]);
    let data = art28_crypto::unwrap(master.key(), &row.wrapped, &context).expect("unwrap");
    data.derive(b"art28/blind-index/v1")
}

/// Put a record back as an older art28 left it: these blind indexes, at blind version 1.
fn as_written_before(db: &rusqlite::Connection, tenant: &str, record: &str, blind: &[[u8; 32]]) {
    db.execute(
        "DELETE FROM vault_blind WHERE tenant = ?1 AND record = ?2",
        [tenant, record],
    )
    .expect("drop indexes");
    for d in blind {
        db.execute(
            "INSERT INTO vault_blind (tenant, digest, record) VALUES (?1, ?2, ?3)",
            rusqlite::params![tenant, d.as_slice(), record],
        )
        .expect("old index");
    }
    let concat: Vec<u8> = blind.iter().flatten().copied().collect();
    db.execute(
        "UPDATE vault_records SET blind = ?1, blind_version = 1 WHERE tenant = ?2 AND id = ?3",
        rusqlite::params![concat, tenant, record],
    )
    .expect("old row");
}

#[tokio::test]
async fn records_indexed_the_old_way_are_reindexed_at_start_once() {
    let w = world().await;
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    w.vault
        .define_collection(&ctx("payroll"), &admin, &t, &contacts())
        .await
        .expect("define");
    let email = "joost@bakkerij-devries.example";
    let (rec, _) = w
        .vault
        .create(
            &ctx("payroll"),
            &admin,
            &t,
            "contacts",
            "emp-7",
            &values(&[("name", "Joost"), ("email", email), ("phone", "06 12345678")]),
        )
        .await
        .expect("create");
    // As written before: the phone number's bare digits, as the old normaliser kept them.
    let key = blind_key(&w, BAKKERIJ).await;
    let old_phone = art28_crypto::blind_index(&key, "phone", "0612345678");
    let email_index = art28_crypto::blind_index(&key, "email", &art28_crypto::normalize_email(email));
    let db = rusqlite::Connection::open(w.dir.path().join("db.sqlite")).expect("raw");
    as_written_before(&db, BAKKERIJ, &rec, &[old_phone, email_index]);
    assert!(
        found(&w, &admin, BAKKERIJ, "payroll", &by_phone("+31 6 12345678"))
            .await
            .is_empty()
    );

    let before = w.store.log_size().await.expect("size");
    assert_eq!(w.vault.reindex_blind().await.expect("reindex"), 1);
    assert_eq!(
        w.store.log_size().await.expect("size") - before,
        1,
        "one entry for the customer"
    );
    let e = last_entries(w.store.as_ref(), 1).await.pop().expect("entry");
    assert_eq!(
        (e.actor.clone(), e.operation.as_str()),
        (Actor::job("migration"), "vault.reindex")
    );
    assert_eq!((e.tenant.as_ref(), e.decision), (Some(&t), Decision::Granted));

    for v in ["+31 6 12345678", "0031612345678", "06 12345678"] {
        assert_eq!(
            found(&w, &admin, BAKKERIJ, "payroll", &by_phone(v)).await,
            [rec.as_str()],
            "{v}"
        );
    }
    let by_email = Lookup::Identifier(IdentifierKind::Email, email.into());
    assert_eq!(found(&w, &admin, BAKKERIJ, "payroll", &by_email).await, [rec.as_str()]);
    let old_left: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM vault_blind WHERE digest = ?1",
            [old_phone.as_slice()],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(old_left, 0, "the old index is gone");
    let (version, sealed_same): (i64, bool) = db
        .query_row(
            "SELECT version, blind_version = 3 FROM vault_records WHERE id = ?1",
            [&rec],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    assert_eq!((version, sealed_same), (1, true), "the record's version stays");

    // Done once: a second start re-indexes nothing and logs nothing.
    let before = w.store.log_size().await.expect("size");
    assert_eq!(w.vault.reindex_blind().await.expect("again"), 0);
    assert_eq!(w.store.log_size().await.expect("size"), before);
}

#[tokio::test]
async fn an_old_phone_number_that_cannot_be_read_loses_only_its_own_index() {
    let w = world().await;
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    // Written before phone numbers were checked: the collection's phone field is not an
    // identifier yet, so `12` is stored; then it is made one, as the old definition had it.
    let mut def = contacts();
    def.fields[2].identifier = None;
    w.vault
        .define_collection(&ctx("payroll"), &admin, &t, &def)
        .await
        .expect("define");
    let email = "mien@bakkerij-devries.example";
    let (rec, _) = w
        .vault
        .create(
            &ctx("payroll"),
            &admin,
            &t,
            "contacts",
            "emp-9",
            &values(&[("name", "Mien"), ("email", email), ("phone", "12")]),
        )
        .await
        .expect("create");
    let db = rusqlite::Connection::open(w.dir.path().join("db.sqlite")).expect("raw");
    let json = serde_json::to_string(&contacts()).expect("json");
    db.execute(
        "UPDATE vault_collections SET definition = ?1 WHERE tenant = ?2 AND name = 'contacts'",
        [json.as_str(), BAKKERIJ],
    )
    .expect("identifier");
    let key = blind_key(&w, BAKKERIJ).await;
    let old_phone = art28_crypto::blind_index(&key, "phone", "12");
    let email_index = art28_crypto::blind_index(&key, "email", &art28_crypto::normalize_email(email));
    as_written_before(&db, BAKKERIJ, &rec, &[old_phone, email_index]);

    assert_eq!(w.vault.reindex_blind().await.expect("reindex"), 1);
    let by_email = Lookup::Identifier(IdentifierKind::Email, email.into());
    assert_eq!(found(&w, &admin, BAKKERIJ, "payroll", &by_email).await, [rec.as_str()]);
    let digests: i64 = db
        .query_row("SELECT COUNT(*) FROM vault_blind WHERE record = ?1", [&rec], |r| {
            r.get(0)
        })
        .expect("count");
    assert_eq!(digests, 1, "only the e-mail address is indexed");
    // Changing another field is not held up by the old value; correcting it makes the record
    // findable by phone again.
    let (v, _) = w
        .vault
        .update(
            &ctx("payroll"),
            &admin,
            &t,
            "contacts",
            &rec,
            1,
            &values(&[("name", "Mien J.")]),
        )
        .await
        .expect("update other field");
    w.vault
        .update(
            &ctx("payroll"),
            &admin,
            &t,
            "contacts",
            &rec,
            v,
            &values(&[("phone", "06 87654321")]),
        )
        .await
        .expect("correct the phone");
    assert_eq!(
        found(&w, &admin, BAKKERIJ, "payroll", &by_phone("+31 6 87654321")).await,
        [rec]
    );
}

#[tokio::test]
async fn the_reindex_leaves_a_record_changed_since_it_was_read() {
    let w = world().await;
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    w.vault
        .define_collection(&ctx("payroll"), &admin, &t, &contacts())
        .await
        .expect("define");
    let (rec, _) = w
        .vault
        .create(
            &ctx("payroll"),
            &admin,
            &t,
            "contacts",
            "emp-7",
            &values(&[("name", "Joost"), ("phone", "06 12345678")]),
        )
        .await
        .expect("create");
    let key = blind_key(&w, BAKKERIJ).await;
    let db = rusqlite::Connection::open(w.dir.path().join("db.sqlite")).expect("raw");
    as_written_before(
        &db,
        BAKKERIJ,
        &rec,
        &[art28_crypto::blind_index(&key, "phone", "0612345678")],
    );
    let stale = w.store.vault_stale_blind(None, 10).await.expect("stale");
    assert_eq!(
        stale
            .iter()
            .map(|(t, r)| (t.as_str(), r.id.as_str()))
            .collect::<Vec<_>>(),
        [(BAKKERIJ, rec.as_str())]
    );
    assert!(
        w.store
            .vault_stale_blind(Some((&t, rec.as_str())), 10)
            .await
            .expect("after")
            .is_empty(),
        "the cursor moves past it"
    );

    // Changed between the re-index's read and its write: the change's own indexes stay.
    w.vault
        .update(
            &ctx("payroll"),
            &admin,
            &t,
            "contacts",
            &rec,
            1,
            &values(&[("phone", "06 87654321")]),
        )
        .await
        .expect("update");
    let entry = art28_service::access::entry(
        &RequestContext::of(Actor::job("migration")),
        w.clock.as_ref(),
        &art28_service::access::Access {
            tenant: Some(&t),
            operation: art28_core::operation::Operation::VaultReindex,
            resource: "vault/*?reindex:1".into(),
        },
        None,
    );
    let change = art28_store::BlindChange {
        id: rec.clone(),
        version: stale[0].1.version,
        blind: vec![[9; 32]],
    };
    let before = w.store.log_size().await.expect("size");
    assert_eq!(
        w.store
            .vault_reindex_blind(&t, vec![change], &entry)
            .await
            .expect("cas"),
        0
    );
    assert_eq!(
        w.store.log_size().await.expect("size") - before,
        1,
        "the job's entry is logged"
    );
    assert_eq!(
        found(&w, &admin, BAKKERIJ, "payroll", &by_phone("+31 6 87654321")).await,
        [rec]
    );
    assert!(w.store.vault_stale_blind(None, 10).await.expect("stale").is_empty());
}

/// The erasure journal holds only erasures that happened: an unknown subject is refused before
/// anything is journalled, and an erasure the store then refuses is cancelled in the journal,
/// so a replay after a restore never erases what was not erased (a trigger makes the store
/// fail the deletion here).
#[tokio::test]
async fn the_journal_keeps_only_erasures_that_happened() {
    let w = world().await;
    let admin = customer(Role::CustomerAdmin, BAKKERIJ);
    let t = id(BAKKERIJ);
    setup_employees(&w).await;
    let journal = ErasureJournal::new(w.dir.path().join("erasures.journal"));

    let err = w
        .vault
        .erase_subject(&ctx("x"), &admin, &t, "nobody-here")
        .await
        .expect_err("unknown subject");
    assert_eq!(err.code, ErrorCode::RecordNotFound);
    assert!(journal.read().expect("read").is_empty(), "nothing journalled");

    rusqlite::Connection::open(w.dir.path().join("db.sqlite"))
        .expect("raw")
        .execute_batch(
            "CREATE TRIGGER keep_subjects BEFORE DELETE ON vault_subjects
             BEGIN SELECT RAISE(ABORT, 'kept'); END;",
        )
        .expect("trigger");
    w.vault
        .erase_subject(&ctx("x"), &admin, &t, "emp-1042")
        .await
        .expect_err("the store refused");
    let text = std::fs::read_to_string(w.dir.path().join("erasures.journal")).expect("journal");
    assert_eq!(text.lines().count(), 2, "the erasure and its cancellation: {text}");
    assert!(journal.read().expect("read").is_empty(), "a replay performs nothing");
    assert_eq!(w.vault.replay_journal().await.expect("replay"), 0);

    rusqlite::Connection::open(w.dir.path().join("db.sqlite"))
        .expect("raw")
        .execute_batch("DROP TRIGGER keep_subjects;")
        .expect("drop");
    w.vault
        .erase_subject(&ctx("x"), &admin, &t, "emp-1042")
        .await
        .expect("erased");
    assert_eq!(journal.read().expect("read").len(), 1, "the erasure that happened");
}
