//! The conformance suite: what every `Store` implementation must do.

use art28_core::ErrorCode;
use art28_core::access::{AccessEntry, Actor, Decision};
use art28_core::agreement::{ProcessorAgreement, parse_one};
use art28_core::ids::CustomerId;
use art28_core::lang::Lang;
use art28_store::prelude::*;
use art28_store::{LoggedEntry, NewAgreementVersion, NewCustomer, ProcessorProfile, StoredCheckpoint};
use jiff::Timestamp;

const ERP: &str = include_str!("../../../../examples/agreements/erp-integrator-klant.toml");
const STANDARD: &str = include_str!("../../../../examples/agreements/saas-standard.toml");

fn erp() -> ProcessorAgreement {
    parse_one("erp.toml", ERP.as_bytes()).expect("example valid")
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// An access entry as the service would make it.
pub fn entry(tenant: Option<&CustomerId>, operation: &str, n: u64) -> AccessEntry {
    AccessEntry {
        access_id: format!("acc_test_{operation}_{n}_{}", tenant.map(|t| t.as_str()).unwrap_or("-")),
        time: ts("2026-01-01T09:00:00Z"),
        actor: Actor::operator(),
        on_behalf_of: None,
        tenant: tenant.cloned(),
        operation: operation.into(),
        resource: format!("test/{n}"),
        purpose: None,
        reference: None,
        decision: Decision::Granted,
        rule: None,
        request_id: None,
        client: None,
        nonce: format!("{n:032x}"),
    }
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn next_entry(tenant: Option<&CustomerId>, operation: &str) -> AccessEntry {
    entry(
        tenant,
        operation,
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    )
}

fn new_version(a: ProcessorAgreement, at: &str) -> NewAgreementVersion {
    NewAgreementVersion {
        onboard: None,
        source: format!("# source of {} v{}\n", a.id, a.version),
        agreement: a,
        follows: None,
        recorded_by: "tester".into(),
        recorded_at: ts(at),
    }
}

/// A version recorded after `follows`.
fn next_version(a: ProcessorAgreement, follows: u32, at: &str) -> NewAgreementVersion {
    NewAgreementVersion {
        follows: Some(follows),
        ..new_version(a, at)
    }
}

/// Put one customer with one agreement version in the store.
pub async fn seed(store: &dyn Store) -> CustomerId {
    let a = erp();
    let customer = a.customer.as_ref().expect("customer").id.clone();
    store
        .create_customer(
            &NewCustomer {
                id: customer.clone(),
                name: "ERP klant".into(),
                language: Lang::Nl,
                created_at: ts("2026-01-01T09:00:00Z"),
                created_by: "tester".into(),
            },
            &next_entry(None, "customer.create"),
        )
        .await
        .expect("create");
    store
        .put_agreement_version(
            &new_version(a, "2026-01-01T09:00:00Z"),
            &next_entry(None, "agreement.record"),
        )
        .await
        .expect("put");
    customer
}

pub async fn run(store: &dyn Store) {
    // Processor profile: absent, then set, then replaced.
    assert_eq!(store.processor().await.expect("processor"), None);
    let p = ProcessorProfile {
        name: "Noordlicht Systemen B.V.".into(),
        registration: "KvK 1".into(),
        country: "NL".into(),
    };
    store.set_processor(&p).await.expect("set");
    let p2 = ProcessorProfile {
        name: "Renamed".into(),
        ..p
    };
    store.set_processor(&p2).await.expect("replace");
    assert_eq!(store.processor().await.expect("processor"), Some(p2));

    // Customers: ids never reused.
    let customer = seed(store).await;
    let again = store
        .create_customer(
            &NewCustomer {
                id: customer.clone(),
                name: "Someone else".into(),
                language: Lang::En,
                created_at: ts("2026-02-01T00:00:00Z"),
                created_by: "tester".into(),
            },
            &next_entry(None, "customer.create"),
        )
        .await
        .expect_err("duplicate id");
    assert_eq!(again.code, ErrorCode::CustomerExists);
    let record = store.customer(&customer).await.expect("get").expect("exists");
    assert_eq!(record.name, "ERP klant");
    assert_eq!(record.created_at, ts("2026-01-01T09:00:00Z"));
    assert_eq!(
        store.customer(&"nobody-here".parse().expect("id")).await.expect("get"),
        None
    );

    // Contacts come from the agreement.
    let a1 = erp();
    let contacts = store.contacts(&customer).await.expect("contacts");
    assert_eq!(contacts.len(), a1.customer.as_ref().expect("customer").contacts.len());
    assert!(
        contacts
            .iter()
            .any(|c| { c.roles.contains(&art28_core::agreement::ContactRole::BreachNotice) })
    );

    // Versions: must grow; the one in force depends on the date.
    let same = store
        .put_agreement_version(
            &new_version(erp(), "2026-03-01T00:00:00Z"),
            &next_entry(None, "agreement.record"),
        )
        .await
        .expect_err("same version");
    assert_eq!(same.code, ErrorCode::AgreementVersionConflict);
    let mut a2 = erp();
    a2.version = a1.version + 1;
    a2.effective_from = "2026-07-01".parse().expect("date");
    a2.customer.as_mut().expect("customer").contacts.truncate(1);
    store
        .put_agreement_version(
            &next_version(a2.clone(), a1.version, "2026-06-01T00:00:00Z"),
            &next_entry(None, "agreement.record"),
        )
        .await
        .expect("v2");
    assert_eq!(
        store.contacts(&customer).await.expect("contacts").len(),
        1,
        "contacts replaced with the new version"
    );

    let before = store
        .agreement_in_force(&customer, "2026-06-30".parse().expect("date"))
        .await
        .expect("q")
        .expect("some");
    assert_eq!(before.meta.version, a1.version);
    let after = store
        .agreement_in_force(&customer, "2026-07-01".parse().expect("date"))
        .await
        .expect("q")
        .expect("some");
    assert_eq!(after.meta.version, a2.version);
    assert_eq!(after.agreement, a2, "the agreement reads back exactly");
    let early = store
        .agreement_in_force(&customer, "2000-01-01".parse().expect("date"))
        .await
        .expect("q");
    assert!(early.is_none(), "nothing in force before the first version");

    let history = store.customer_agreement_history(&customer).await.expect("history");
    assert_eq!(
        history.iter().map(|m| m.version).collect::<Vec<_>>(),
        vec![a1.version, a2.version]
    );
    assert_eq!(history[1].recorded_by, "tester");
    assert_eq!(history[1].sha256.len(), 64);
    let versions = store.agreement_versions(&a1.id).await.expect("versions");
    assert_eq!(versions.len(), 2);
    let v = store
        .agreement_version(&a1.id, a1.version)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(v.source, format!("# source of {} v{}\n", a1.id, a1.version));

    // A version checked against a history that has moved on is refused (the ownership rule
    // itself is core's, `check_succession`).
    let mut stolen = erp();
    stolen.version = 99;
    let other: CustomerId = "andere-klant".parse().expect("id");
    store
        .create_customer(
            &NewCustomer {
                id: other.clone(),
                name: "Andere klant".into(),
                language: Lang::Nl,
                created_at: ts("2026-01-02T00:00:00Z"),
                created_by: "tester".into(),
            },
            &next_entry(None, "customer.create"),
        )
        .await
        .expect("other");
    stolen.customer.as_mut().expect("customer").id = other.clone();
    let err = store
        .put_agreement_version(
            &new_version(stolen, "2026-08-01T00:00:00Z"),
            &next_entry(None, "agreement.record"),
        )
        .await
        .expect_err("stale history");
    assert_eq!(err.code, ErrorCode::AgreementVersionConflict);
    assert!(
        store
            .customer_agreement_history(&other)
            .await
            .expect("history")
            .is_empty()
    );

    // A customer agreement for an unknown customer is refused.
    let mut orphan = erp();
    orphan.id = "orphan".parse().expect("id");
    orphan.customer.as_mut().expect("customer").id = "unknown-customer".parse().expect("id");
    let err = store
        .put_agreement_version(
            &new_version(orphan, "2026-08-01T00:00:00Z"),
            &next_entry(None, "agreement.record"),
        )
        .await
        .expect_err("unknown");
    assert_eq!(err.code, ErrorCode::CustomerNotFound);

    // Standard agreements are listed at their latest version.
    let std1 = parse_one("std.toml", STANDARD.as_bytes()).expect("standard valid");
    let mut std2 = std1.clone();
    std2.version += 1;
    store
        .put_agreement_version(
            &new_version(std1, "2026-01-01T00:00:00Z"),
            &next_entry(None, "agreement.record"),
        )
        .await
        .expect("std1");
    store
        .put_agreement_version(
            &next_version(std2.clone(), std2.version - 1, "2026-02-01T00:00:00Z"),
            &next_entry(None, "agreement.record"),
        )
        .await
        .expect("std2");
    let standards = store.standard_agreements().await.expect("standards");
    assert_eq!(standards.len(), 1);
    assert_eq!(standards[0].version, std2.version);
    assert_eq!(standards[0].customer, None);

    let all = store.customers().await.expect("all");
    assert_eq!(
        all.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec!["andere-klant", customer.as_str()]
    );
}

/// The access log: atomic with the change it records, per-tenant reads, tree nodes and proofs.
pub async fn run_log(store: &dyn Store) {
    use art28_ledger::merkle::{Frontier, MemoryTree, root, verify_consistency, verify_inclusion};

    assert_eq!(store.log_size().await.expect("size"), 0);
    let customer = seed(store).await;
    assert_eq!(
        store.log_size().await.expect("size"),
        2,
        "one entry per write: customer, agreement"
    );

    // A refused change leaves no entry of its own: the store rolls the entry back with it.
    let err = store
        .put_agreement_version(
            &new_version(erp(), "2026-03-01T00:00:00Z"),
            &next_entry(Some(&customer), "agreement.record"),
        )
        .await
        .expect_err("same version");
    assert_eq!(err.code, ErrorCode::AgreementVersionConflict);
    assert_eq!(store.log_size().await.expect("size"), 2);

    // Reads and refusals are logged on their own.
    let other: CustomerId = "someone-else".parse().expect("id");
    // The first 300 one at a time, 600 more in one batch: enough for a customer's entries to
    // span more than one run of the per-customer index (256 each).
    let entries: Vec<AccessEntry> = (0..900u64)
        .map(|i| next_entry(Some(if i % 3 == 0 { &other } else { &customer }), "customer.read"))
        .collect();
    let mut receipts = Vec::new();
    for e in &entries[..300] {
        receipts.push(store.log_access(e).await.expect("log"));
    }
    receipts.extend(store.log_accesses(&entries[300..]).await.expect("log batch"));
    assert_eq!(receipts.first().map(|r| r.index), Some(2));
    assert!(
        receipts.windows(2).all(|w| w[1].index == w[0].index + 1),
        "indices are dense and ordered"
    );
    let size = store.log_size().await.expect("size");
    assert_eq!(size, 902);

    // A tenant sees only its own entries.
    let mine = store.tenant_log(&customer, 0, size, 1000).await.expect("tenant log");
    assert_eq!(mine.len(), 600);
    assert!(
        mine.iter()
            .all(|e| AccessEntry::from_bytes(&e.bytes).expect("entry").tenant.as_ref() == Some(&customer))
    );
    let page = store.tenant_log(&other, 0, 50, 5).await.expect("page");
    assert_eq!(page.len(), 5);
    assert!(page.iter().all(|e| e.index < 50));

    // Fold in two steps, as the ledger does, and check proofs against an in-memory tree.
    let leaves = store.leaf_hashes(0, size).await.expect("leaves");
    let mut memory = MemoryTree::new();
    for l in &leaves {
        memory.push(*l);
    }
    let mut frontier = Frontier::new();
    let half = 450;
    let mut nodes = Vec::new();
    for l in &leaves[..half as usize] {
        nodes.extend(frontier.append(*l));
    }
    let cp = |size: u64, root: [u8; 32]| StoredCheckpoint {
        size,
        root,
        note: format!("note {size}\n"),
        signed_at: ts("2026-01-01T10:00:00Z"),
    };
    store
        .save_fold(&nodes, &cp(half, frontier.root()))
        .await
        .expect("fold 1");
    // Saving the same fold again changes nothing (the checkpoint covers those entries).
    store
        .save_fold(&nodes, &cp(half, frontier.root()))
        .await
        .expect("fold 1 again");
    let restored = store.restore_frontier(half).await.expect("restore");
    assert_eq!(restored.root(), frontier.root());

    // The tenant view is the same whether an entry is below the last checkpoint (indexed by
    // the fold) or in the unfolded tail, also for a page that crosses the boundary.
    let indices = |v: &[LoggedEntry]| v.iter().map(|e| e.index).collect::<Vec<_>>();
    let mine_half = store.tenant_log(&customer, 0, size, 1000).await.expect("tenant log");
    assert_eq!(indices(&mine_half), indices(&mine));
    let mut paged = Vec::new();
    let mut from = 0;
    loop {
        let page = store.tenant_log(&customer, from, size, 7).await.expect("page");
        let Some(last) = page.last() else { break };
        from = last.index + 1;
        paged.extend(page);
    }
    assert_eq!(
        indices(&paged),
        indices(&mine),
        "pages of 7 across the checkpoint at {half}"
    );
    let around = store.tenant_log(&other, 140, 160, 100).await.expect("around");
    assert_eq!(
        indices(&around),
        (140..160).filter(|i| (i - 2) % 3 == 0).collect::<Vec<u64>>(),
        "entries on both sides of the checkpoint, and only the other customer's"
    );
    let mut nodes = Vec::new();
    for l in &leaves[half as usize..] {
        nodes.extend(frontier.append(*l));
    }
    store
        .save_fold(&nodes, &cp(size, frontier.root()))
        .await
        .expect("fold 2");
    let expected_root = root(size, &memory).expect("root");
    assert_eq!(frontier.root(), expected_root);
    let mine_all = store.tenant_log(&customer, 0, size, 1000).await.expect("tenant log");
    assert_eq!(indices(&mine_all), indices(&mine), "everything folded");
    assert_eq!(
        mine_all.iter().map(|e| &e.bytes).collect::<Vec<_>>(),
        mine.iter().map(|e| &e.bytes).collect::<Vec<_>>()
    );
    assert_eq!(store.latest_checkpoint().await.expect("cp").map(|c| c.size), Some(size));
    assert_eq!(
        store.checkpoint_at(half).await.expect("cp").map(|c| c.root),
        Some(root(half, &memory).expect("root"))
    );
    assert_eq!(
        store.restore_frontier(size).await.expect("restore").root(),
        expected_root
    );

    for index in [0, 1, 2, 15, 16, 17, 100, 255, 256, 299, 301] {
        let proof = store.inclusion_proof(index, size).await.expect("proof");
        verify_inclusion(&leaves[index as usize], index, size, &proof, &expected_root).expect("proof verifies");
    }
    for old in [1, 2, 16, 100, half] {
        let proof = store.consistency_proof(old, size).await.expect("consistency");
        verify_consistency(old, size, &root(old, &memory).expect("root"), &expected_root, &proof).expect("consistent");
    }
    // A batch lands in order, all or none.
    let batch: Vec<AccessEntry> = (0..5).map(|_| next_entry(Some(&customer), "record.read")).collect();
    let receipts = store.log_accesses(&batch).await.expect("batch");
    assert_eq!(
        receipts.iter().map(|r| r.index).collect::<Vec<_>>(),
        (size..size + 5).collect::<Vec<_>>()
    );
    assert_eq!(receipts[4].access_id, batch[4].access_id);
    assert_eq!(store.log_size().await.expect("size"), size + 5);

    let bad = store.inclusion_proof(size, size).await.expect_err("index out of range");
    assert_eq!(bad.code, ErrorCode::BadRequest);
}

fn event(kind: &str) -> art28_store::NewSecurityEvent {
    art28_store::NewSecurityEvent {
        time: ts("2026-05-01T08:00:00Z"),
        account_id: None,
        username: None,
        kind: kind.into(),
        detail: format!("test {kind}"),
        client: Some("192.0.2.1".into()),
    }
}

/// Accounts, the permission register, security events, tokens and sessions.
pub async fn run_accounts(store: &dyn Store) {
    use art28_store::{AccountChange, AccountKind, NewAccount, NewGrant, NewToken, SessionRecord};
    let customer = seed(store).await;
    let new = |username: &str, kind: AccountKind, tenant: Option<CustomerId>| NewAccount {
        username: username.into(),
        display_name: username.to_uppercase(),
        kind,
        tenant,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        must_change_password: false,
        created_at: ts("2026-05-01T08:00:00Z"),
        created_by: "bootstrap".into(),
    };
    let admin = store
        .create_account(&new("Admin", AccountKind::Staff, None), &[event("account_created")])
        .await
        .expect("admin");
    let anke = store
        .create_account(&new("anke", AccountKind::Customer, Some(customer.clone())), &[])
        .await
        .expect("anke");
    assert!(anke.id > admin.id);
    assert_eq!(anke.tenant.as_ref(), Some(&customer));

    // User names are unique case-insensitively and for ever.
    let dup = store
        .create_account(&new("ADMIN", AccountKind::Staff, None), &[])
        .await
        .expect_err("taken");
    assert_eq!(dup.code, ErrorCode::AccountExists);
    store
        .update_account(
            anke.id,
            AccountChange::Disabled {
                disabled: true,
                reason: "left the company".into(),
            },
            &[],
        )
        .await
        .expect("disable");
    let again = store
        .create_account(&new("anke", AccountKind::Customer, Some(customer.clone())), &[])
        .await
        .expect_err("never reused");
    assert_eq!(again.code, ErrorCode::AccountExists);
    assert!(store.account(anke.id).await.expect("get").expect("kept").disabled);
    // A customer account must name its customer.
    assert!(
        store
            .create_account(&new("orphan", AccountKind::Customer, None), &[])
            .await
            .is_err()
    );
    let other = store
        .create_account(&new("other", AccountKind::Staff, None), &[])
        .await
        .expect("other");
    assert!(
        other.id > anke.id,
        "ids keep growing; a failed insert does not free one"
    );

    // The register keeps who granted and who revoked.
    let g = store
        .add_grant(
            &NewGrant {
                account_id: admin.id,
                role: "processor_admin".into(),
                tenant: None,
                granted_by: "bootstrap".into(),
                granted_at: ts("2026-05-01T08:00:00Z"),
            },
            &[event("grant_added")],
        )
        .await
        .expect("grant");
    let g2 = store
        .add_grant(
            &NewGrant {
                account_id: anke.id,
                role: "customer_admin".into(),
                tenant: Some(customer.clone()),
                granted_by: "Admin".into(),
                granted_at: ts("2026-05-02T08:00:00Z"),
            },
            &[],
        )
        .await
        .expect("grant");
    let revoked = store
        .revoke_grant(g2.id, "Admin", ts("2026-05-03T08:00:00Z"), &[event("grant_revoked")])
        .await
        .expect("revoke");
    assert_eq!(
        (revoked.revoked_by.as_deref(), revoked.revoked_at),
        (Some("Admin"), Some(ts("2026-05-03T08:00:00Z")))
    );
    assert_eq!(
        store
            .revoke_grant(g2.id, "Admin", ts("2026-05-04T08:00:00Z"), &[])
            .await
            .expect_err("twice")
            .code,
        ErrorCode::GrantNotFound
    );
    assert_eq!(store.grants(Some(anke.id), None, false).await.expect("active"), vec![]);
    assert_eq!(
        store.grants(None, Some(&customer), true).await.expect("register").len(),
        1
    );
    assert_eq!(store.grants(None, None, false).await.expect("active"), vec![g]);
    let unknown = NewGrant {
        account_id: 9999,
        role: "processor_admin".into(),
        tenant: None,
        granted_by: "x".into(),
        granted_at: ts("2026-05-01T08:00:00Z"),
    };
    assert_eq!(
        store.add_grant(&unknown, &[]).await.expect_err("no account").code,
        ErrorCode::AccountNotFound
    );

    // Logins: failures count up per user name and can lock; success resets and notes the use.
    let lock = ts("2026-05-01T09:15:00Z");
    let a = store
        .record_login_failure("Admin", ts("2026-05-01T09:00:00Z"), None, &[event("login_failed")])
        .await
        .expect("fail");
    assert_eq!(a.failures, 1);
    let a = store
        .record_login_failure(
            "admin",
            ts("2026-05-01T09:00:01Z"),
            Some(lock),
            &[event("account_locked")],
        )
        .await
        .expect("fail");
    assert_eq!(
        (a.failures, a.locked_until),
        (2, Some(lock)),
        "user names count case-insensitively"
    );
    let unknown = store
        .record_login_failure("no-such-user", ts("2026-05-01T09:00:02Z"), None, &[])
        .await
        .expect("fail");
    assert_eq!(unknown.failures, 1, "unknown names are counted the same way");
    let a = store
        .record_login_success(admin.id, "Admin", ts("2026-05-01T10:00:00Z"), &[])
        .await
        .expect("ok");
    let attempts = store.login_attempts("admin").await.expect("attempts");
    assert_eq!(
        (attempts.failures, attempts.locked_until, a.last_used_at),
        (0, None, Some(ts("2026-05-01T10:00:00Z")))
    );
    assert_eq!(
        store
            .update_account(9999, AccountChange::MustChangePassword, &[])
            .await
            .expect_err("none")
            .code,
        ErrorCode::AccountNotFound
    );

    // Security events arrive in order, with the new account's id filled in at creation.
    let events = store.security_events(0, 100).await.expect("events");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "account_created",
            "grant_added",
            "grant_revoked",
            "login_failed",
            "account_locked"
        ]
    );
    assert_eq!(events[0].account_id, Some(admin.id));
    assert_eq!(store.security_events(events[2].id, 100).await.expect("after").len(), 2);

    // Unused accounts: `other` was never used, `admin` logged in on 1 May at 10:00.
    let unused = store
        .accounts_unused_since(ts("2026-05-01T09:59:00Z"))
        .await
        .expect("unused");
    assert_eq!(
        unused.iter().map(|a| a.username.as_str()).collect::<Vec<_>>(),
        vec!["other"]
    );

    // Tokens: found by digest only, revocable once.
    let t = NewToken {
        id: "tok_1".into(),
        digest: [7; 32],
        account_id: anke.id,
        tenant: customer.clone(),
        operations: vec!["agreements_read".into()],
        purposes: vec!["service_provision".into()],
        expires_at: ts("2026-08-01T00:00:00Z"),
        created_at: ts("2026-05-01T00:00:00Z"),
        created_by: "anke".into(),
    };
    store.create_token(&t, &[]).await.expect("token");
    let found = store.token_by_digest([7; 32]).await.expect("get").expect("found");
    assert_eq!(
        (found.operations.clone(), found.revoked_at),
        (vec!["agreements_read".to_string()], None)
    );
    assert_eq!(store.token_by_digest([8; 32]).await.expect("get"), None);
    store
        .touch_token("tok_1", ts("2026-05-05T00:00:00Z"))
        .await
        .expect("touch");
    store
        .revoke_token("tok_1", "anke", ts("2026-05-06T00:00:00Z"), &[])
        .await
        .expect("revoke");
    assert_eq!(
        store
            .revoke_token("tok_1", "anke", ts("2026-05-06T00:00:00Z"), &[])
            .await
            .expect_err("twice")
            .code,
        ErrorCode::TokenNotFound
    );
    let tokens = store.tokens(&customer).await.expect("tokens");
    assert_eq!(
        (tokens[0].last_used_at, tokens[0].revoked_at),
        (Some(ts("2026-05-05T00:00:00Z")), Some(ts("2026-05-06T00:00:00Z")))
    );

    // Sessions.
    let s = SessionRecord {
        digest: [1; 32],
        account_id: admin.id,
        created_at: ts("2026-05-01T10:00:00Z"),
        expires_at: ts("2026-05-01T18:00:00Z"),
    };
    store.create_session(&s).await.expect("session");
    assert_eq!(store.session([1; 32]).await.expect("get"), Some(s));
    store
        .delete_sessions(None, Some(admin.id))
        .await
        .expect("logout everywhere");
    assert_eq!(store.session([1; 32]).await.expect("get"), None);
}

/// The incident register, notices and the outbox.
pub async fn run_incidents(store: &dyn Store) {
    use art28_core::incident::{CustomerScope, Details, IncidentKind, NoticeContent, Source, Status};
    use art28_store::{
        AffectedCustomer, DeliveryOutcome, IncidentChange, IncidentEvent, NewDelivery, NewIncident, NewNotice,
    };
    let customer = seed(store).await;
    // The operations in a customer's access log, to see which writes carried their entries.
    async fn logged(store: &dyn Store, customer: CustomerId) -> Vec<String> {
        let size = store.log_size().await.expect("size");
        store
            .tenant_log(&customer, 0, size, 1000)
            .await
            .expect("log")
            .iter()
            .map(|e| AccessEntry::from_bytes(&e.bytes).expect("entry").operation)
            .collect()
    }
    let details = Details {
        summary: "lost laptop".into(),
        ..Details::default()
    };
    let inc = store
        .create_incident(
            &NewIncident {
                source: Source::SubProcessor,
                kind: IncidentKind::SecurityIncident,
                reported_by: "hoster (operator)".into(),
                reporter_tenant: None,
                reported_to: "security officer".into(),
                aware_at: ts("2026-01-02T08:00:00Z"),
                created_at: ts("2026-01-02T09:00:00Z"),
                details: details.clone(),
            },
            &[],
        )
        .await
        .expect("create");
    assert_eq!((inc.status, inc.version, inc.events.len()), (Status::Reported, 1, 1));
    assert_eq!(inc.source, Source::SubProcessor);
    let event = |from, to| IncidentEvent {
        at: ts("2026-01-02T10:00:00Z"),
        by: "officer".into(),
        from: Some(from),
        to,
        note: "n".into(),
    };
    // A change names the version it read and the status it expects.
    let inc = store
        .update_incident(
            inc.id,
            1,
            &IncidentChange {
                status: Some((Status::Reported, Status::Triaged)),
                ..IncidentChange::default()
            },
            &event(Status::Reported, Status::Triaged),
            &[],
        )
        .await
        .expect("triage");
    assert_eq!((inc.status, inc.version), (Status::Triaged, 2));
    let stale = store
        .update_incident(
            inc.id,
            1,
            &IncidentChange::default(),
            &event(Status::Triaged, Status::Triaged),
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
                status: Some((Status::Reported, Status::Triaged)),
                ..IncidentChange::default()
            },
            &event(Status::Reported, Status::Triaged),
            &[],
        )
        .await
        .expect_err("wrong from");
    assert_eq!(wrong.code, ErrorCode::IncidentTransitionNotAllowed);
    // The failed change left nothing behind: still version 2, two events.
    let again = store.incident(inc.id).await.expect("read").expect("there");
    assert_eq!((again.version, again.events.len()), (2, 2));
    let affected = AffectedCustomer {
        customer: customer.clone(),
        due_at: ts("2026-01-04T08:00:00Z"),
        scope: None,
        added_at: ts("2026-01-02T10:00:00Z"),
        added_by: "officer".into(),
        notified_at: None,
    };
    let inc = store
        .update_incident(
            inc.id,
            2,
            &IncidentChange {
                customers: vec![affected],
                status: Some((Status::Triaged, Status::Breach)),
                ..IncidentChange::default()
            },
            &event(Status::Triaged, Status::Breach),
            &[entry(Some(&customer), "incident.manage", 1)],
        )
        .await
        .expect("breach");
    assert_eq!(
        logged(store, customer.clone()).await.last().map(String::as_str),
        Some("incident.manage")
    );
    assert_eq!(inc.customers.len(), 1);
    let pending = store.pending_first_notices().await.expect("pending");
    assert_eq!(
        pending.iter().map(|p| (p.incident, &p.customer)).collect::<Vec<_>>(),
        vec![(inc.id, &customer)]
    );
    assert_eq!(store.incidents(Some(&customer)).await.expect("list").len(), 1);
    let other: CustomerId = "someone-else".parse().expect("id");
    assert!(store.incidents(Some(&other)).await.expect("list").is_empty());
    // Notices and their deliveries go in together with the status change.
    let content = NoticeContent {
        incident: inc.id,
        step: 0,
        customer: customer.clone(),
        customer_name: "ERP klant".into(),
        addressees: vec!["ict <ict@x.example>".into()],
        processor: "P".into(),
        language: Lang::Nl,
        notice_at: ts("2026-01-02T11:00:00Z"),
        aware_at: inc.aware_at,
        due_at: ts("2026-01-04T08:00:00Z"),
        controller_due_at: ts("2026-01-05T08:00:00Z"),
        details,
        scope: CustomerScope {
            customer: customer.clone(),
            entries: 0,
            records: 0,
            data_subjects: 0,
            categories: vec![],
            subject_groups: vec![],
        },
        update: None,
    };
    let notice = NewNotice {
        customer: customer.clone(),
        step: 0,
        language: Lang::Nl,
        subject: "s".into(),
        body: "b".into(),
        content,
        deliveries: ["ict@x.example", "dpo@x.example"]
            .iter()
            .enumerate()
            .map(|(i, to)| NewDelivery {
                channel: "email".into(),
                recipient: (*to).into(),
                idempotency_key: format!("key-{i}"),
            })
            .collect(),
    };
    let (inc, notices) = store
        .add_notices(
            inc.id,
            inc.version,
            std::slice::from_ref(&notice),
            (ts("2026-01-02T11:00:00Z"), "officer"),
            &IncidentChange {
                status: Some((Status::Breach, Status::Notified)),
                ..IncidentChange::default()
            },
            &event(Status::Breach, Status::Notified),
            &[entry(Some(&customer), "notice.send", 1)],
        )
        .await
        .expect("notices");
    assert_eq!(inc.status, Status::Notified);
    assert_eq!(notices[0].deliveries.len(), 2);
    // The same notice again is refused, and the refusal changes nothing.
    let dup = store
        .add_notices(
            inc.id,
            inc.version,
            std::slice::from_ref(&notice),
            (ts("2026-01-02T11:00:00Z"), "officer"),
            &IncidentChange::default(),
            &event(Status::Notified, Status::Notified),
            &[entry(Some(&customer), "notice.send", 2)],
        )
        .await
        .expect_err("duplicate");
    assert_eq!(dup.code, ErrorCode::IncidentVersionConflict);
    let before = logged(store, customer.clone()).await;
    assert_eq!(
        before.iter().filter(|o| *o == "notice.send").count(),
        1,
        "a refused write keeps none of its entries"
    );
    assert_eq!(store.notices(Some(inc.id), None).await.expect("n").len(), 1);
    // The outbox: due at the notice time, not before.
    assert!(
        store
            .due_deliveries(ts("2026-01-02T10:59:59Z"), &["email", "webhook"], 10)
            .await
            .expect("due")
            .is_empty()
    );
    let due = store
        .due_deliveries(ts("2026-01-02T11:00:00Z"), &["email", "webhook"], 10)
        .await
        .expect("due");
    assert_eq!(due.len(), 2);
    let (first, second) = (&due[0].0, &due[1].0);
    assert_ne!(first.idempotency_key, second.idempotency_key);
    store
        .record_delivery(
            first.id,
            &DeliveryOutcome::Failed {
                error: "relay down".into(),
                retry_at: ts("2026-01-02T11:05:00Z"),
            },
        )
        .await
        .expect("fail");
    store
        .record_delivery(second.id, &DeliveryOutcome::Sent(ts("2026-01-02T11:00:01Z")))
        .await
        .expect("sent");
    let due = store
        .due_deliveries(ts("2026-01-02T11:01:00Z"), &["email", "webhook"], 10)
        .await
        .expect("due");
    assert!(due.is_empty(), "sent is done, failed waits for its retry");
    let due = store
        .due_deliveries(ts("2026-01-02T11:05:00Z"), &["email", "webhook"], 10)
        .await
        .expect("due");
    assert_eq!((due.len(), due[0].0.attempts), (1, 1));
    // The first delivery of the first notice marks the customer as notified.
    let inc = store.incident(inc.id).await.expect("read").expect("there");
    assert_eq!(inc.customers[0].notified_at, Some(ts("2026-01-02T11:00:01Z")));
    assert!(store.pending_first_notices().await.expect("pending").is_empty());
    // Acknowledgement: only by the notice's customer, and the first one stays.
    let id = notices[0].id;
    let e = store
        .acknowledge_notice(
            id,
            &other,
            "x",
            ts("2026-01-02T12:00:00Z"),
            &entry(Some(&other), "notice.acknowledge", 1),
        )
        .await
        .expect_err("other customer");
    assert_eq!(e.code, ErrorCode::NoticeNotFound);
    assert!(
        logged(store, other.clone()).await.is_empty(),
        "nothing written for the refusal"
    );
    let n = store
        .acknowledge_notice(
            id,
            &customer,
            "anke",
            ts("2026-01-02T12:00:00Z"),
            &entry(Some(&customer), "notice.acknowledge", 2),
        )
        .await
        .expect("ack");
    let n2 = store
        .acknowledge_notice(
            id,
            &customer,
            "later",
            ts("2026-01-02T13:00:00Z"),
            &entry(Some(&customer), "notice.acknowledge", 3),
        )
        .await
        .expect("ack again");
    assert_eq!(n2.acknowledged_by.as_deref(), Some("anke"));
    assert_eq!(n.acknowledged_at, n2.acknowledged_at);
    let after = logged(store, customer.clone()).await;
    assert_eq!(
        after[before.len()..],
        ["notice.acknowledge", "notice.acknowledge"],
        "each acknowledgement has its entry"
    );
    // A webhook set and removed, each with its entry; removing none is refused and writes none.
    let hook = store
        .set_webhook(
            &customer,
            Some("https://hooks.example/art28"),
            ts("2026-01-02T12:00:00Z"),
            "anke",
            &[],
            &entry(Some(&customer), "webhook.set", 1),
        )
        .await
        .expect("set")
        .expect("kept");
    assert_eq!(hook.generation, 1);
    store
        .set_webhook(
            &customer,
            None,
            ts("2026-01-02T12:01:00Z"),
            "anke",
            &[],
            &entry(Some(&customer), "webhook.set", 2),
        )
        .await
        .expect("remove");
    let none = store
        .set_webhook(
            &customer,
            None,
            ts("2026-01-02T12:02:00Z"),
            "anke",
            &[],
            &entry(Some(&customer), "webhook.set", 3),
        )
        .await
        .expect_err("none left");
    assert_eq!(none.code, ErrorCode::WebhookNotFound);
    let hooks = logged(store, customer.clone()).await;
    assert_eq!(
        hooks.iter().filter(|o| *o == "webhook.set").count(),
        2,
        "the refused removal wrote no entry"
    );
    // The store takes a customer off when told to: keeping one that has a notice is the
    // service's rule (`art28_core::incident::check_removal`).
    let e = store
        .update_incident(
            inc.id,
            inc.version,
            &IncidentChange {
                remove_customers: vec![customer.clone()],
                ..IncidentChange::default()
            },
            &event(Status::Notified, Status::Notified),
            &[],
        )
        .await
        .expect("remove");
    assert!(e.customers.is_empty());
}
