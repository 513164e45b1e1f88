//! StaffAccessStore: time-bound access grants for the processor's staff.

use super::*;
use art28_core::ErrorCode;
use art28_store::{AccessGrantRecord, AccessGrantStatus, AccountKind, NewAccessGrant, NewAccount};

async fn staff(store: &dyn Store, username: &str) -> u64 {
    store
        .create_account(
            &NewAccount {
                username: username.into(),
                display_name: username.into(),
                kind: AccountKind::Staff,
                tenant: None,
                password_hash: None,
                must_change_password: false,
                created_at: ts("2026-05-01T08:00:00Z"),
                created_by: "bootstrap".into(),
            },
            &[],
            None,
        )
        .await
        .expect("staff")
        .id
}

fn request(account_id: u64, username: &str, tenant: &CustomerId, status: AccessGrantStatus) -> NewAccessGrant {
    NewAccessGrant {
        account_id,
        username: username.into(),
        tenant: tenant.clone(),
        reason: "support".into(),
        ticket: "T-1".into(),
        requested_at: ts("2026-05-01T09:00:00Z"),
        ends_at: ts("2026-05-01T17:00:00Z"),
        status,
        decided_by: match status {
            AccessGrantStatus::Approved => Some("agreement".into()),
            _ => None,
        },
    }
}

pub async fn access_grants_are_created_approved_at_once_or_requested(store: &dyn Store) {
    let customer = seed(store).await;
    let sam = staff(store, "sam").await;
    let approved = store
        .create_access_grant(
            &request(sam, "sam", &customer, AccessGrantStatus::Approved),
            &[event("access_granted")],
            None,
        )
        .await
        .expect("approved");
    assert_eq!(
        approved,
        AccessGrantRecord {
            id: approved.id,
            account_id: sam,
            username: "sam".into(),
            tenant: customer.clone(),
            reason: "support".into(),
            ticket: "T-1".into(),
            requested_at: ts("2026-05-01T09:00:00Z"),
            ends_at: ts("2026-05-01T17:00:00Z"),
            status: AccessGrantStatus::Approved,
            decided_by: Some("agreement".into()),
            decided_at: Some(ts("2026-05-01T09:00:00Z")),
        },
        "approved at once: decided when asked for"
    );
    let requested = store
        .create_access_grant(&request(sam, "sam", &customer, AccessGrantStatus::Requested), &[], None)
        .await
        .expect("requested");
    assert!(requested.id > approved.id);
    assert_eq!(
        (requested.status, requested.decided_by.clone(), requested.decided_at),
        (AccessGrantStatus::Requested, None, None)
    );
    assert_eq!(event_kinds(store).await, vec!["access_granted"]);
    // For an account or a customer that does not exist: refused, nothing kept.
    assert!(
        store
            .create_access_grant(
                &request(9999, "ghost", &customer, AccessGrantStatus::Requested),
                &[event("access_requested")],
                None
            )
            .await
            .is_err()
    );
    assert!(
        store
            .create_access_grant(
                &request(sam, "sam", &id("nobody-here"), AccessGrantStatus::Requested),
                &[event("access_requested")],
                None
            )
            .await
            .is_err()
    );
    assert_eq!(event_kinds(store).await, vec!["access_granted"]);
    assert_eq!(
        store.access_grants(None, None).await.expect("all"),
        vec![approved, requested]
    );
}

pub async fn a_decision_applies_only_from_the_state_it_names(store: &dyn Store) {
    let customer = seed(store).await;
    let sam = staff(store, "sam").await;
    let g = store
        .create_access_grant(&request(sam, "sam", &customer, AccessGrantStatus::Requested), &[], None)
        .await
        .expect("requested");
    let at = ts("2026-05-01T10:00:00Z");
    // Not approved yet, so it cannot be revoked.
    let wrong = store
        .decide_access_grant(
            g.id,
            AccessGrantStatus::Approved,
            AccessGrantStatus::Revoked,
            "anke",
            at,
            &[event("access_revoked")],
            None,
        )
        .await
        .expect_err("wrong from");
    assert_eq!(wrong.code, ErrorCode::AccessGrantNotFound);
    assert_eq!(event_kinds(store).await, Vec::<String>::new(), "nothing of the refusal");
    assert_eq!(store.access_grants(None, None).await.expect("list"), vec![g.clone()]);

    let approved = store
        .decide_access_grant(
            g.id,
            AccessGrantStatus::Requested,
            AccessGrantStatus::Approved,
            "anke",
            at,
            &[event("access_approved")],
            None,
        )
        .await
        .expect("approve");
    assert_eq!(
        (approved.status, approved.decided_by.as_deref(), approved.decided_at),
        (AccessGrantStatus::Approved, Some("anke"), Some(at))
    );
    // Deciding twice from the same state: the second finds it moved on.
    let twice = store
        .decide_access_grant(
            g.id,
            AccessGrantStatus::Requested,
            AccessGrantStatus::Rejected,
            "bert",
            at,
            &[],
            None,
        )
        .await
        .expect_err("already decided");
    assert_eq!(twice.code, ErrorCode::AccessGrantNotFound);
    let later = ts("2026-05-01T12:00:00Z");
    let revoked = store
        .decide_access_grant(
            g.id,
            AccessGrantStatus::Approved,
            AccessGrantStatus::Revoked,
            "sam",
            later,
            &[event("access_revoked")],
            None,
        )
        .await
        .expect("revoke");
    assert_eq!(
        (revoked.status, revoked.decided_by.as_deref(), revoked.decided_at),
        (AccessGrantStatus::Revoked, Some("sam"), Some(later))
    );
    assert_eq!(store.access_grants(None, None).await.expect("list"), vec![revoked]);
    assert_eq!(event_kinds(store).await, vec!["access_approved", "access_revoked"]);

    let other = store
        .create_access_grant(&request(sam, "sam", &customer, AccessGrantStatus::Requested), &[], None)
        .await
        .expect("requested");
    let rejected = store
        .decide_access_grant(
            other.id,
            AccessGrantStatus::Requested,
            AccessGrantStatus::Rejected,
            "anke",
            at,
            &[],
            None,
        )
        .await
        .expect("reject");
    assert_eq!(rejected.status, AccessGrantStatus::Rejected);
    assert_eq!(
        store
            .decide_access_grant(
                9999,
                AccessGrantStatus::Requested,
                AccessGrantStatus::Approved,
                "x",
                at,
                &[],
                None
            )
            .await
            .expect_err("none")
            .code,
        ErrorCode::AccessGrantNotFound
    );
}

pub async fn access_grants_are_listed_by_customer_and_by_account(store: &dyn Store) {
    let c1 = seed(store).await;
    let c2 = id("andere-klant");
    add_customer(store, &c2).await;
    let (sam, kim) = (staff(store, "sam").await, staff(store, "kim").await);
    let mut made = Vec::new();
    for (account, name, tenant) in [
        (sam, "sam", &c1),
        (kim, "kim", &c1),
        (sam, "sam", &c2),
        (kim, "kim", &c2),
    ] {
        made.push(
            store
                .create_access_grant(&request(account, name, tenant, AccessGrantStatus::Requested), &[], None)
                .await
                .expect("grant")
                .id,
        );
    }
    let ids = |v: Vec<AccessGrantRecord>| v.into_iter().map(|g| g.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.access_grants(None, None).await.expect("all")),
        made,
        "oldest first"
    );
    assert_eq!(
        ids(store.access_grants(Some(&c1), None).await.expect("c1")),
        vec![made[0], made[1]]
    );
    assert_eq!(
        ids(store.access_grants(None, Some(kim)).await.expect("kim")),
        vec![made[1], made[3]]
    );
    assert_eq!(
        ids(store.access_grants(Some(&c2), Some(sam)).await.expect("both")),
        vec![made[2]]
    );
    assert_eq!(
        ids(store.access_grants(Some(&id("nobody-here")), None).await.expect("none")),
        Vec::<u64>::new()
    );
    assert_eq!(
        ids(store.access_grants(None, Some(9999)).await.expect("none")),
        Vec::<u64>::new()
    );
}

/// Creating and deciding a grant writes the access entry it is given in the same transaction;
/// a decision from a state the grant is not in keeps none.
pub async fn grant_changes_carry_their_entries_and_a_refused_one_keeps_none(store: &dyn Store) {
    let customer = seed(store).await;
    let count = || async {
        let n = store.log_size().await.expect("size");
        store.tenant_log(&customer, 0, n, 10_000).await.expect("log").len()
    };
    let staff_id = staff(store, "sam").await;
    let before = count().await;
    let g = store
        .create_access_grant(
            &request(staff_id, "sam", &customer, AccessGrantStatus::Requested),
            &[],
            Some(&next_entry(Some(&customer), "access_grant.request")),
        )
        .await
        .expect("request");
    assert_eq!(count().await, before + 1);
    let refused = store
        .decide_access_grant(
            g.id,
            AccessGrantStatus::Approved,
            AccessGrantStatus::Revoked,
            "anke",
            ts("2026-05-01T10:00:00Z"),
            &[],
            Some(&next_entry(Some(&customer), "access_grant.revoke")),
        )
        .await
        .expect_err("not approved");
    assert_eq!(refused.code, ErrorCode::AccessGrantNotFound);
    assert_eq!(count().await, before + 1, "the refused decision keeps no entry");
    store
        .decide_access_grant(
            g.id,
            AccessGrantStatus::Requested,
            AccessGrantStatus::Approved,
            "anke",
            ts("2026-05-01T10:00:00Z"),
            &[],
            Some(&next_entry(Some(&customer), "access_grant.decide")),
        )
        .await
        .expect("approve");
    assert_eq!(count().await, before + 2);
}
