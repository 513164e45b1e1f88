//! Staff access grants with an injected clock: no standing access, time-bound grants, the
//! customer's approval where its agreement asks for it; one entry in the customer's access log
//! per call; another customer's grant answers as one that does not exist.

use art28_core::ErrorCode;
use art28_core::access::{AccessEntry, Actor, ActorKind, Decision};
use art28_core::auth::{AccessReason, Principal, Role};
use art28_core::ids::CustomerId;
use art28_core::operation::Operation;
use art28_service::access::RequestContext;
use art28_service::accounts::{AccountRequest, Accounts};
use art28_service::clock::{Clock, ManualClock};
use art28_service::passwords::{Argon2Params, PasswordHasher};
use art28_service::staff_access::StaffAccess;
use art28_store::AccessGrantStatus;
use art28_store::prelude::*;
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use std::sync::Arc;

const PASSWORD: &str = "Wadlopen-naar-Schiermonnikoog-2026";
const BAKKERIJ: &str = "bakkerij-de-vries";
/// Its agreement asks for the customer's approval and allows at most 3 days.
const BELGIAN: &str = "scheldepoort-documentbeheer";

struct World {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    accounts: Accounts,
    grants: StaffAccess,
    admin: Principal,
}

fn id(s: &str) -> CustomerId {
    s.parse().expect("id")
}

fn ctx(username: &str) -> RequestContext {
    RequestContext::of(Actor {
        kind: ActorKind::User,
        id: username.into(),
    })
}

async fn world() -> World {
    let (dir, store) = crate::open_store();
    let clock = Arc::new(ManualClock::new("2026-11-22T12:00:00Z".parse().expect("ts")));
    art28_service::demo::load_demo(store.as_ref(), clock.as_ref())
        .await
        .expect("demo");
    let hasher = PasswordHasher::new(Argon2Params::OWASP_MINIMUM).expect("hasher");
    let accounts = Accounts::new(store.clone(), clock.clone(), hasher, Default::default());
    let a = accounts
        .bootstrap_admin("beheer", "Beheerder", &SecretString::from(PASSWORD.to_string()))
        .await
        .expect("bootstrap");
    let admin = accounts.principal(&a).await.expect("principal");
    World {
        _dir: dir,
        grants: StaffAccess::new(store.clone(), clock.clone()),
        store,
        clock,
        accounts,
        admin,
    }
}

async fn person(w: &World, name: &str, role: Role, customer: Option<&str>) -> Principal {
    let request = AccountRequest {
        username: name.into(),
        display_name: name.into(),
        password: SecretString::from(format!("{PASSWORD}-{name}")),
        role,
        customer: customer.map(id),
    };
    let (a, _) = w
        .accounts
        .create_account(&ctx("beheer"), &w.admin, request)
        .await
        .expect("create");
    w.accounts.principal(&a).await.expect("principal")
}

fn in_hours(w: &World, h: i64) -> Timestamp {
    w.clock.now().saturating_add(SignedDuration::from_hours(h)).expect("ts")
}

async fn entries(store: &dyn Store, tenant: &str) -> Vec<AccessEntry> {
    let size = store.log_size().await.expect("size");
    store
        .tenant_log(&id(tenant), 0, size, 100_000)
        .await
        .expect("log")
        .iter()
        .map(|e| AccessEntry::from_bytes(&e.bytes).expect("entry"))
        .collect()
}

/// Run a call and check it left exactly one entry in the log, in `$tenant`'s, naming the
/// operation, with this decision and rule.
macro_rules! one_entry {
    ($w:expr, $tenant:expr, $op:expr, $decision:expr, $rule:expr, $call:expr) => {{
        let before = $w.store.log_size().await.expect("size");
        let own_before = entries($w.store.as_ref(), $tenant).await.len();
        let out = $call.await;
        assert_eq!(
            $w.store.log_size().await.expect("size") - before,
            1,
            "{}",
            stringify!($call)
        );
        let own = entries($w.store.as_ref(), $tenant).await;
        assert_eq!(own.len() - own_before, 1, "in {}'s log: {}", $tenant, stringify!($call));
        let e = own.last().expect("entry");
        assert_eq!(
            (e.operation.as_str(), e.decision, e.rule.as_deref()),
            ($op.as_str(), $decision, $rule),
            "{}",
            stringify!($call)
        );
        out
    }};
}

#[tokio::test]
async fn staff_reach_customer_data_only_under_a_live_grant() {
    let w = world().await;
    let support = person(&w, "sanne.support", Role::SupportEngineer, None).await;
    let bakkerij = id(BAKKERIJ);
    let belgian = id(BELGIAN);
    let belgian_admin = person(&w, "els.beheer", Role::CustomerAdmin, Some(BELGIAN)).await;
    let belgian_user = person(&w, "jan.gebruiker", Role::CustomerUser, Some(BELGIAN)).await;
    let (s, c) = (&ctx("sanne.support"), &ctx("els.beheer"));

    // No standing access, for staff and for the processor administrator alike.
    assert_eq!(
        w.grants.live_grant(&support, &bakkerij).await.expect_err("none").code,
        ErrorCode::NoAccessGrant
    );
    let ask = |who: &Principal, tenant: &CustomerId, reason: AccessReason, ticket: &'static str, ends: Timestamp| {
        let (w, who, tenant) = (&w, who.clone(), tenant.clone());
        async move { w.grants.request(s, &who, &tenant, reason, ticket, ends).await }
    };
    let ticket = AccessReason::SupportTicket;
    assert_eq!(
        ask(&w.admin, &bakkerij, ticket, "T-1", in_hours(&w, 2))
            .await
            .expect_err("admin")
            .code,
        ErrorCode::PermissionDenied
    );
    // Bad requests: no ticket, longer than the agreement allows (7 days by default), in the past.
    for (t, ends) in [(" ", 2), ("T-1", 24 * 8), ("T-1", -1)] {
        assert_eq!(
            ask(&support, &bakkerij, ticket, t, in_hours(&w, ends))
                .await
                .expect_err("bad")
                .code,
            ErrorCode::BadRequest,
            "{t} {ends}"
        );
    }

    // Without a lockbox in the agreement the grant works at once, until its end.
    let g = ask(
        &support,
        &bakkerij,
        AccessReason::InvestigateFault,
        "INC-4711",
        in_hours(&w, 4),
    )
    .await
    .expect("grant");
    assert_eq!(
        (g.status, g.decided_by.as_deref()),
        (AccessGrantStatus::Approved, Some("agreement"))
    );
    assert_eq!(w.grants.live_grant(&support, &bakkerij).await.expect("live").id, g.id);
    assert!(
        w.grants.live_grant(&support, &belgian).await.is_err(),
        "a grant is for one customer"
    );
    w.clock.advance(SignedDuration::from_hours(4));
    assert_eq!(
        w.grants.live_grant(&support, &bakkerij).await.expect_err("ended").code,
        ErrorCode::NoAccessGrant
    );

    // The Belgian agreement asks for approval (and allows at most 3 days).
    assert!(
        ask(
            &support,
            &belgian,
            AccessReason::Migration,
            "MIG-9",
            in_hours(&w, 24 * 4)
        )
        .await
        .is_err()
    );
    let g = ask(&support, &belgian, AccessReason::Migration, "MIG-9", in_hours(&w, 24))
        .await
        .expect("request");
    assert_eq!(g.status, AccessGrantStatus::Requested);
    assert!(
        w.grants.live_grant(&support, &belgian).await.is_err(),
        "not before the customer approves"
    );
    assert_eq!(
        w.grants
            .decide(&ctx("jan.gebruiker"), &belgian_user, &belgian, g.id, true)
            .await
            .expect_err("user")
            .code,
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        w.grants
            .decide(s, &support, &belgian, g.id, true)
            .await
            .expect_err("self-approval")
            .code,
        ErrorCode::PermissionDenied
    );
    let approved = w
        .grants
        .decide(c, &belgian_admin, &belgian, g.id, true)
        .await
        .expect("approve");
    assert_eq!(approved.decided_by.as_deref(), Some("els.beheer"));
    assert!(w.grants.live_grant(&support, &belgian).await.is_ok());
    assert_eq!(
        w.grants
            .decide(c, &belgian_admin, &belgian, g.id, false)
            .await
            .expect_err("decided")
            .code,
        ErrorCode::AccessGrantNotFound
    );
    // The customer can end it early.
    w.grants
        .revoke(c, &belgian_admin, &belgian, g.id)
        .await
        .expect("revoke");
    assert!(w.grants.live_grant(&support, &belgian).await.is_err());

    // The customer sees every grant for it, and only its own.
    let seen = w.grants.list(c, &belgian_admin, &belgian).await.expect("grants");
    assert_eq!(seen, w.store.access_grants(Some(&belgian), None).await.expect("stored"));
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].reason.as_str(), seen[0].ticket.as_str(), seen[0].status),
        ("migration", "MIG-9", AccessGrantStatus::Revoked)
    );
    assert_eq!(
        w.grants
            .list(c, &belgian_admin, &bakkerij)
            .await
            .expect_err("another customer's")
            .code,
        ErrorCode::TenantMismatch
    );
}

#[tokio::test]
async fn every_call_on_staff_access_grants_leaves_one_entry_in_the_customers_log() {
    let w = world().await;
    let support = person(&w, "sanne.support", Role::SupportEngineer, None).await;
    let other = person(&w, "otto.support", Role::SupportEngineer, None).await;
    let boss = person(&w, "els.beheer", Role::CustomerAdmin, Some(BELGIAN)).await;
    let t = id(BELGIAN);
    let (s, c) = (&ctx("sanne.support"), &ctx("els.beheer"));
    let (granted, refused) = (Decision::Granted, Decision::Refused);
    let reason = AccessReason::Migration;

    let g = one_entry!(
        w,
        BELGIAN,
        Operation::AccessGrantRequest,
        granted,
        None,
        w.grants.request(s, &support, &t, reason, "MIG-1", in_hours(&w, 24))
    )
    .expect("request");
    one_entry!(
        w,
        BELGIAN,
        Operation::AccessGrantRequest,
        refused,
        Some("bad_request"),
        w.grants.request(s, &support, &t, reason, "MIG-1", in_hours(&w, 24 * 4))
    )
    .expect_err("longer than the agreement allows");
    one_entry!(
        w,
        BELGIAN,
        Operation::AccessGrantRequest,
        refused,
        Some("permission_denied"),
        w.grants.request(c, &boss, &t, reason, "MIG-1", in_hours(&w, 24))
    )
    .expect_err("customers do not ask");
    let seen = one_entry!(
        w,
        BELGIAN,
        Operation::AccessGrantList,
        granted,
        None,
        w.grants.list(c, &boss, &t)
    )
    .expect("list");
    assert_eq!(seen.iter().map(|x| x.id).collect::<Vec<_>>(), vec![g.id]);
    one_entry!(
        w,
        BELGIAN,
        Operation::AccessGrantDecide,
        refused,
        Some("permission_denied"),
        w.grants.decide(s, &support, &t, g.id, true)
    )
    .expect_err("no self-approval");
    one_entry!(
        w,
        BELGIAN,
        Operation::AccessGrantDecide,
        granted,
        None,
        w.grants.decide(c, &boss, &t, g.id, true)
    )
    .expect("approve");
    one_entry!(
        w,
        BELGIAN,
        Operation::AccessGrantDecide,
        refused,
        Some("access_grant_not_found"),
        w.grants.decide(c, &boss, &t, g.id, false)
    )
    .expect_err("decided already");
    // Someone else of the staff may not end it; the holder may.
    let e = one_entry!(
        w,
        BELGIAN,
        Operation::AccessGrantRevoke,
        refused,
        Some("permission_denied"),
        w.grants.revoke(&ctx("otto.support"), &other, &t, g.id)
    )
    .expect_err("not the holder");
    let none = w
        .grants
        .revoke(&ctx("otto.support"), &other, &t, 999_999)
        .await
        .expect_err("no such grant");
    assert_eq!(
        (e.code, e.message),
        (none.code, none.message),
        "the same answer whether the grant exists or not"
    );
    let ended = one_entry!(
        w,
        BELGIAN,
        Operation::AccessGrantRevoke,
        granted,
        None,
        w.grants.revoke(s, &support, &t, g.id)
    )
    .expect("the holder ends it");
    assert_eq!(ended.status, AccessGrantStatus::Revoked);
    let last = entries(w.store.as_ref(), BELGIAN).await.pop().expect("entry");
    assert_eq!(
        (last.actor.id.as_str(), last.resource),
        ("sanne.support", format!("access-grant/{}", g.id))
    );
}

#[tokio::test]
async fn another_customers_access_grant_answers_as_one_that_does_not_exist() {
    let w = world().await;
    let support = person(&w, "sanne.support", Role::SupportEngineer, None).await;
    let anke = person(&w, "anke", Role::CustomerAdmin, Some(BAKKERIJ)).await;
    let (t, b) = (id(BAKKERIJ), id(BELGIAN));
    let theirs = w
        .grants
        .request(
            &ctx("sanne.support"),
            &support,
            &b,
            AccessReason::Migration,
            "MIG-2",
            in_hours(&w, 24),
        )
        .await
        .expect("request");
    let unknown = 999_999;
    let a = &ctx("anke");
    let theirs_before = entries(w.store.as_ref(), BELGIAN).await.len();
    let own_before = entries(w.store.as_ref(), BAKKERIJ).await.len();

    // Named under its own customer, the other customer's grant is not there.
    let mut answers = Vec::new();
    for grant in [theirs.id, unknown] {
        let mut row = Vec::new();
        for r in [
            w.grants.decide(a, &anke, &t, grant, true).await,
            w.grants.decide(a, &anke, &t, grant, false).await,
            w.grants.revoke(a, &anke, &t, grant).await,
        ] {
            let e = r.expect_err("refused");
            assert_eq!(e.code, ErrorCode::AccessGrantNotFound);
            assert!(!e.message.contains(BELGIAN), "{}", e.message);
            row.push(e.message.replace(&grant.to_string(), "N"));
        }
        answers.push(row);
    }
    assert_eq!(answers[0], answers[1]);
    // The refusals are in the caller's own log; the other customer's log has none of them.
    let own = entries(w.store.as_ref(), BAKKERIJ).await;
    assert_eq!(own.len() - own_before, 6);
    assert!(
        own[own_before..]
            .iter()
            .all(|e| e.rule.as_deref() == Some("access_grant_not_found"))
    );
    assert_eq!(entries(w.store.as_ref(), BELGIAN).await.len(), theirs_before);
    let still = w.store.access_grants(Some(&b), None).await.expect("grants");
    assert_eq!(still[0].status, AccessGrantStatus::Requested);
}
