//! Staff access grants with an injected clock: no standing access, time-bound grants, the
//! customer's approval where its agreement asks for it.

use art28_core::ErrorCode;
use art28_core::auth::{AccessReason, Role};
use art28_service::accounts::{self, AccountRequest};
use art28_service::clock::{Clock, ManualClock};
use art28_service::passwords::{Argon2Params, PasswordHasher};
use art28_service::staff_access::{decide, live_grant, request_access, revoke};
use art28_store::AccessGrantStatus;
use art28_store::prelude::*;
use art28_store::sqlite::SqliteStore;
use jiff::SignedDuration;
use secrecy::SecretString;

const PASSWORD: &str = "Wadlopen-naar-Schiermonnikoog-2026";

async fn person(
    store: &SqliteStore,
    clock: &ManualClock,
    hasher: &PasswordHasher,
    admin: &art28_core::auth::Principal,
    name: &str,
    role: Role,
    customer: Option<&str>,
) -> art28_core::auth::Principal {
    let request = AccountRequest {
        username: name.into(),
        display_name: name.into(),
        password: SecretString::from(format!("{PASSWORD}-{name}")),
        role,
        customer: customer.map(|c| c.parse().expect("id")),
    };
    let (a, _) = accounts::create_account(store, clock, hasher, admin, request)
        .await
        .expect("create");
    accounts::principal(store, &a).await.expect("principal")
}

#[tokio::test]
async fn staff_reach_customer_data_only_under_a_live_grant() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = SqliteStore::open(&dir.path().join("db.sqlite")).expect("open");
    let clock = ManualClock::new("2026-11-22T12:00:00Z".parse().expect("ts"));
    art28_service::demo::load_demo(&store, &clock).await.expect("demo");
    let hasher = PasswordHasher::new(Argon2Params::OWASP_MINIMUM).expect("hasher");
    let a = accounts::bootstrap_admin(
        &store,
        &clock,
        &hasher,
        "beheer",
        "Beheerder",
        &SecretString::from(PASSWORD.to_string()),
    )
    .await
    .expect("bootstrap");
    let admin = accounts::principal(&store, &a).await.expect("principal");
    let support = person(
        &store,
        &clock,
        &hasher,
        &admin,
        "sanne.support",
        Role::SupportEngineer,
        None,
    )
    .await;
    let bakkerij: art28_core::ids::CustomerId = "bakkerij-de-vries".parse().expect("id");
    let belgian: art28_core::ids::CustomerId = "scheldepoort-documentbeheer".parse().expect("id");
    let belgian_admin = person(
        &store,
        &clock,
        &hasher,
        &admin,
        "els.beheer",
        Role::CustomerAdmin,
        Some(belgian.as_str()),
    )
    .await;
    let belgian_user = person(
        &store,
        &clock,
        &hasher,
        &admin,
        "jan.gebruiker",
        Role::CustomerUser,
        Some(belgian.as_str()),
    )
    .await;

    // No standing access, for staff and for the processor administrator alike.
    assert_eq!(
        live_grant(&store, &clock, &support, &bakkerij)
            .await
            .expect_err("none")
            .code,
        ErrorCode::NoAccessGrant
    );
    let in_hours = |h: i64| clock.now().saturating_add(SignedDuration::from_hours(h)).expect("ts");
    assert_eq!(
        request_access(
            &store,
            &clock,
            &admin,
            &bakkerij,
            AccessReason::SupportTicket,
            "T-1",
            in_hours(2)
        )
        .await
        .expect_err("admin")
        .code,
        ErrorCode::PermissionDenied
    );
    // Bad requests: no ticket, longer than the agreement allows (7 days by default), in the past.
    assert_eq!(
        request_access(
            &store,
            &clock,
            &support,
            &bakkerij,
            AccessReason::SupportTicket,
            " ",
            in_hours(2)
        )
        .await
        .expect_err("ticket")
        .code,
        ErrorCode::BadRequest
    );
    assert_eq!(
        request_access(
            &store,
            &clock,
            &support,
            &bakkerij,
            AccessReason::SupportTicket,
            "T-1",
            in_hours(24 * 8)
        )
        .await
        .expect_err("long")
        .code,
        ErrorCode::BadRequest
    );
    assert_eq!(
        request_access(
            &store,
            &clock,
            &support,
            &bakkerij,
            AccessReason::SupportTicket,
            "T-1",
            in_hours(-1)
        )
        .await
        .expect_err("past")
        .code,
        ErrorCode::BadRequest
    );

    // Without a lockbox in the agreement the grant works at once, until its end.
    let g = request_access(
        &store,
        &clock,
        &support,
        &bakkerij,
        AccessReason::InvestigateFault,
        "INC-4711",
        in_hours(4),
    )
    .await
    .expect("grant");
    assert_eq!(
        (g.status, g.decided_by.as_deref()),
        (AccessGrantStatus::Approved, Some("agreement"))
    );
    assert_eq!(
        live_grant(&store, &clock, &support, &bakkerij).await.expect("live").id,
        g.id
    );
    assert!(
        live_grant(&store, &clock, &support, &belgian).await.is_err(),
        "a grant is for one customer"
    );
    clock.advance(SignedDuration::from_hours(4));
    assert_eq!(
        live_grant(&store, &clock, &support, &bakkerij)
            .await
            .expect_err("ended")
            .code,
        ErrorCode::NoAccessGrant
    );

    // The Belgian agreement asks for approval (and allows at most 3 days).
    assert!(
        request_access(
            &store,
            &clock,
            &support,
            &belgian,
            AccessReason::Migration,
            "MIG-9",
            in_hours(24 * 4)
        )
        .await
        .is_err()
    );
    let g = request_access(
        &store,
        &clock,
        &support,
        &belgian,
        AccessReason::Migration,
        "MIG-9",
        in_hours(24),
    )
    .await
    .expect("request");
    assert_eq!(g.status, AccessGrantStatus::Requested);
    assert!(
        live_grant(&store, &clock, &support, &belgian).await.is_err(),
        "not before the customer approves"
    );
    assert_eq!(
        decide(&store, &clock, &belgian_user, &belgian, g.id, true)
            .await
            .expect_err("user")
            .code,
        ErrorCode::PermissionDenied
    );
    assert_eq!(
        decide(&store, &clock, &support, &belgian, g.id, true)
            .await
            .expect_err("self-approval")
            .code,
        ErrorCode::PermissionDenied
    );
    let approved = decide(&store, &clock, &belgian_admin, &belgian, g.id, true)
        .await
        .expect("approve");
    assert_eq!(approved.decided_by.as_deref(), Some("els.beheer"));
    assert!(live_grant(&store, &clock, &support, &belgian).await.is_ok());
    assert_eq!(
        decide(&store, &clock, &belgian_admin, &belgian, g.id, false)
            .await
            .expect_err("decided")
            .code,
        ErrorCode::AccessGrantNotFound
    );
    // The customer can end it early.
    revoke(&store, &clock, &belgian_admin, &belgian, g.id)
        .await
        .expect("revoke");
    assert!(live_grant(&store, &clock, &support, &belgian).await.is_err());

    // The customer sees every grant for it, and only its own.
    let seen = store.access_grants(Some(&belgian), None).await.expect("grants");
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].reason.as_str(), seen[0].ticket.as_str(), seen[0].status),
        ("migration", "MIG-9", AccessGrantStatus::Revoked)
    );
}

#[tokio::test]
async fn the_staff_door_logs_refusals_and_names_the_grant_it_used() {
    use art28_core::access::{AccessEntry, Decision};
    use art28_service::access::RequestContext;
    use art28_service::staff_access::staff_data_access;
    let dir = tempfile::tempdir().expect("tmp");
    let store = SqliteStore::open(&dir.path().join("db.sqlite")).expect("open");
    let clock = ManualClock::new("2026-11-22T12:00:00Z".parse().expect("ts"));
    art28_service::demo::load_demo(&store, &clock).await.expect("demo");
    let hasher = PasswordHasher::new(Argon2Params::OWASP_MINIMUM).expect("hasher");
    let a = accounts::bootstrap_admin(
        &store,
        &clock,
        &hasher,
        "beheer",
        "Beheerder",
        &SecretString::from(PASSWORD.to_string()),
    )
    .await
    .expect("bootstrap");
    let admin = accounts::principal(&store, &a).await.expect("principal");
    let support = person(
        &store,
        &clock,
        &hasher,
        &admin,
        "sanne.support",
        Role::SupportEngineer,
        None,
    )
    .await;
    let tenant: art28_core::ids::CustomerId = "bakkerij-de-vries".parse().expect("id");
    let ctx = RequestContext::of(art28_core::access::Actor {
        kind: art28_core::access::ActorKind::User,
        id: "sanne.support".into(),
    });

    let err = staff_data_access(
        &store,
        &clock,
        &ctx,
        &support,
        &tenant,
        "record.read",
        "record/employees/1".into(),
    )
    .await
    .expect_err("no grant");
    assert_eq!(err.code, ErrorCode::NoAccessGrant);
    let ends = clock.now().saturating_add(SignedDuration::from_hours(2)).expect("ts");
    let g = request_access(
        &store,
        &clock,
        &support,
        &tenant,
        AccessReason::InvestigateFault,
        "INC-1",
        ends,
    )
    .await
    .expect("grant");
    let (used, receipt) = staff_data_access(
        &store,
        &clock,
        &ctx,
        &support,
        &tenant,
        "record.read",
        "record/employees/1".into(),
    )
    .await
    .expect("granted");
    assert_eq!(used.id, g.id);

    let size = store.log_size().await.expect("size");
    let entries: Vec<AccessEntry> = store
        .tenant_log(&tenant, 0, size, 1000)
        .await
        .expect("log")
        .iter()
        .map(|e| AccessEntry::from_bytes(&e.bytes).expect("entry"))
        .collect();
    let staff: Vec<&AccessEntry> = entries.iter().filter(|e| e.operation == "record.read").collect();
    assert_eq!(staff.len(), 2);
    assert_eq!(
        (staff[0].decision, staff[0].rule.as_deref()),
        (Decision::Refused, Some("no_access_grant"))
    );
    assert_eq!(staff[1].decision, Decision::Granted);
    assert_eq!(staff[1].access_id, receipt.access_id);
    assert!(
        staff[1]
            .reference
            .as_deref()
            .is_some_and(|r| r.contains(&format!("access-grant/{}", g.id)) && r.contains("INC-1"))
    );
    assert_eq!(staff[1].purpose.as_deref(), Some("investigate_fault"));
}
