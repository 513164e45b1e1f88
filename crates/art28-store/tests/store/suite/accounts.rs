//! AccountStore: accounts, the permission register, security events, tokens, sessions and
//! failed logins.

use super::*;
use art28_core::ErrorCode;
use art28_store::{AccountChange, AccountKind, AccountRecord, NewAccount, NewGrant, NewToken, SessionRecord};

fn new_account(username: &str, kind: AccountKind, tenant: Option<CustomerId>) -> NewAccount {
    NewAccount {
        username: username.into(),
        display_name: username.to_uppercase(),
        kind,
        tenant,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        must_change_password: false,
        created_at: ts("2026-05-01T08:00:00Z"),
        created_by: "bootstrap".into(),
    }
}

async fn staff(store: &dyn Store, username: &str) -> AccountRecord {
    store
        .create_account(&new_account(username, AccountKind::Staff, None), &[], None)
        .await
        .expect("staff account")
}

async fn representative(store: &dyn Store, username: &str, customer: &CustomerId) -> AccountRecord {
    store
        .create_account(
            &new_account(username, AccountKind::Customer, Some(customer.clone())),
            &[],
            None,
        )
        .await
        .expect("customer account")
}

pub async fn accounts_are_unique_by_user_name_for_ever(store: &dyn Store) {
    let customer = seed(store).await;
    let admin = store
        .create_account(
            &new_account("Admin", AccountKind::Staff, None),
            &[event("account_created")],
            None,
        )
        .await
        .expect("admin");
    assert_eq!(
        (
            admin.username.as_str(),
            admin.display_name.as_str(),
            admin.kind,
            admin.disabled,
            admin.must_change_password,
            admin.last_used_at,
            admin.created_by.as_str()
        ),
        ("Admin", "ADMIN", AccountKind::Staff, false, false, None, "bootstrap")
    );
    assert_eq!(store.account(admin.id).await.expect("get"), Some(admin.clone()));
    let anke = representative(store, "anke", &customer).await;
    assert!(anke.id > admin.id);
    assert_eq!(anke.tenant.as_ref(), Some(&customer));

    // Case-insensitively unique, and the refusal records none of its events.
    let dup = store
        .create_account(
            &new_account("ADMIN", AccountKind::Staff, None),
            &[event("account_created")],
            None,
        )
        .await
        .expect_err("taken");
    assert_eq!(dup.code, ErrorCode::AccountExists);
    assert_eq!(event_kinds(store).await, vec!["account_created"]);
    // Never reused, even once disabled.
    store
        .update_account(
            anke.id,
            AccountChange::Disabled {
                disabled: true,
                reason: "left the company".into(),
            },
            &[],
            None,
        )
        .await
        .expect("disable");
    let again = store
        .create_account(
            &new_account("anke", AccountKind::Customer, Some(customer.clone())),
            &[],
            None,
        )
        .await
        .expect_err("never reused");
    assert_eq!(again.code, ErrorCode::AccountExists);
    // A customer account for a customer that does not exist is refused.
    assert!(
        store
            .create_account(
                &new_account("orphan", AccountKind::Customer, Some(id("nobody-here"))),
                &[],
                None
            )
            .await
            .is_err()
    );
    let other = staff(store, "other").await;
    assert!(
        other.id > anke.id,
        "ids keep growing; a failed insert does not free one"
    );
    assert_eq!(store.account(9999).await.expect("get"), None);
}

pub async fn accounts_are_listed_all_or_by_customer_and_found_by_user_name(store: &dyn Store) {
    let customer = seed(store).await;
    let other_customer = id("andere-klant");
    add_customer(store, &other_customer).await;
    let admin = staff(store, "Admin").await;
    let anke = representative(store, "anke", &customer).await;
    let bert = representative(store, "bert", &other_customer).await;
    let all = store.accounts(None).await.expect("all");
    assert_eq!(all, vec![admin.clone(), anke.clone(), bert.clone()], "in id order");
    assert_eq!(store.accounts(Some(&customer)).await.expect("one"), vec![anke.clone()]);
    assert_eq!(store.accounts(Some(&id("nobody-here"))).await.expect("none"), vec![]);
    assert_eq!(
        store.account_by_username("admin").await.expect("get"),
        Some(admin),
        "case-insensitive"
    );
    assert_eq!(store.account_by_username("ANKE").await.expect("get"), Some(anke));
    assert_eq!(store.account_by_username("nobody").await.expect("get"), None);
}

pub async fn every_account_change_is_applied_with_its_events(store: &dyn Store) {
    let customer = seed(store).await;
    let anke = representative(store, "anke", &customer).await;
    let anke_id = anke.id;
    let change = |c: AccountChange, kind: &str| {
        let e = event(kind);
        async move { store.update_account(anke_id, c, &[e], None).await.expect("change") }
    };
    let a = change(
        AccountChange::Password {
            hash: "$argon2id$new".into(),
            must_change: true,
        },
        "password_changed",
    )
    .await;
    assert_eq!(
        (a.password_hash.as_deref(), a.must_change_password),
        (Some("$argon2id$new"), true)
    );
    let a = change(
        AccountChange::Password {
            hash: "$argon2id$newer".into(),
            must_change: false,
        },
        "password_changed",
    )
    .await;
    assert!(!a.must_change_password);
    let a = change(AccountChange::MustChangePassword, "password_disclosed").await;
    assert!(a.must_change_password);
    assert_eq!(a.password_hash.as_deref(), Some("$argon2id$newer"), "the hash stays");
    let a = change(
        AccountChange::Disabled {
            disabled: true,
            reason: "unused".into(),
        },
        "account_disabled",
    )
    .await;
    assert_eq!((a.disabled, a.status_reason.as_deref()), (true, Some("unused")));
    let a = change(
        AccountChange::Disabled {
            disabled: false,
            reason: "back".into(),
        },
        "account_enabled",
    )
    .await;
    assert_eq!((a.disabled, a.status_reason.as_deref()), (false, Some("back")));
    let a = change(
        AccountChange::Used {
            at: ts("2026-05-03T08:00:00Z"),
        },
        "token_used",
    )
    .await;
    assert_eq!(a.last_used_at, Some(ts("2026-05-03T08:00:00Z")));
    let until = ts("2026-06-01T00:00:00Z");
    let a = change(
        AccountChange::Blocked {
            until: Some(until),
            by: Some("bert".into()),
            reason: Some("suspicious".into()),
        },
        "account_blocked",
    )
    .await;
    assert_eq!(
        (a.blocked_until, a.blocked_by.as_deref(), a.blocked_reason.as_deref()),
        (Some(until), Some("bert"), Some("suspicious"))
    );
    let a = change(
        AccountChange::Blocked {
            until: None,
            by: None,
            reason: None,
        },
        "account_unblocked",
    )
    .await;
    assert_eq!(
        (a.blocked_until, a.blocked_by.clone(), a.blocked_reason.clone()),
        (None, None, None)
    );
    assert_eq!(store.account(anke.id).await.expect("get"), Some(a), "as returned");
    assert_eq!(
        event_kinds(store).await,
        vec![
            "password_changed",
            "password_changed",
            "password_disclosed",
            "account_disabled",
            "account_enabled",
            "token_used",
            "account_blocked",
            "account_unblocked"
        ]
    );
    // No such account: refused, and its events are not recorded.
    let err = store
        .update_account(9999, AccountChange::MustChangePassword, &[event("nope")], None)
        .await
        .expect_err("none");
    assert_eq!(err.code, ErrorCode::AccountNotFound);
    assert_eq!(event_kinds(store).await.len(), 8);
}

pub async fn accounts_unused_since_a_time_are_the_active_ones_not_used_since(store: &dyn Store) {
    let admin = staff(store, "admin").await; // created 1 May 08:00
    let other = staff(store, "other").await;
    let gone = staff(store, "gone").await;
    store
        .record_login_success(admin.id, "admin", ts("2026-05-01T10:00:00Z"), &[])
        .await
        .expect("login");
    store
        .update_account(
            gone.id,
            AccountChange::Disabled {
                disabled: true,
                reason: "left".into(),
            },
            &[],
            None,
        )
        .await
        .expect("disable");
    let names = |v: Vec<AccountRecord>| v.into_iter().map(|a| a.username).collect::<Vec<_>>();
    assert_eq!(
        names(
            store
                .accounts_unused_since(ts("2026-05-01T09:59:00Z"))
                .await
                .expect("unused")
        ),
        vec!["other"],
        "admin was used since; the disabled one is not listed"
    );
    assert_eq!(
        names(
            store
                .accounts_unused_since(ts("2026-05-01T10:00:01Z"))
                .await
                .expect("unused")
        ),
        vec!["admin", "other"]
    );
    assert_eq!(
        names(
            store
                .accounts_unused_since(ts("2026-05-01T08:00:00Z"))
                .await
                .expect("unused")
        ),
        Vec::<String>::new(),
        "created at that very time: not before it"
    );
    let _ = other;
}

pub async fn the_grant_register_keeps_revoked_grants_and_filters(store: &dyn Store) {
    let customer = seed(store).await;
    let other_customer = id("andere-klant");
    add_customer(store, &other_customer).await;
    let admin = staff(store, "Admin").await;
    let anke = representative(store, "anke", &customer).await;
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
            None,
        )
        .await
        .expect("grant");
    assert_eq!(
        (
            g.account_id,
            g.role.as_str(),
            g.tenant.as_ref(),
            g.granted_by.as_str(),
            g.revoked_at
        ),
        (admin.id, "processor_admin", None, "bootstrap", None)
    );
    let grant = |role: &str, tenant: &CustomerId| NewGrant {
        account_id: anke.id,
        role: role.into(),
        tenant: Some(tenant.clone()),
        granted_by: "Admin".into(),
        granted_at: ts("2026-05-02T08:00:00Z"),
    };
    let g2 = store
        .add_grant(&grant("customer_admin", &customer), &[], None)
        .await
        .expect("grant");
    let g3 = store
        .add_grant(&grant("customer_reader", &other_customer), &[], None)
        .await
        .expect("grant");
    let revoked = store
        .revoke_grant(
            g2.id,
            "Admin",
            ts("2026-05-03T08:00:00Z"),
            &[event("grant_revoked")],
            None,
        )
        .await
        .expect("revoke");
    assert_eq!(
        (revoked.id, revoked.revoked_by.as_deref(), revoked.revoked_at),
        (g2.id, Some("Admin"), Some(ts("2026-05-03T08:00:00Z")))
    );
    let twice = store
        .revoke_grant(
            g2.id,
            "Admin",
            ts("2026-05-04T08:00:00Z"),
            &[event("grant_revoked")],
            None,
        )
        .await
        .expect_err("twice");
    assert_eq!(twice.code, ErrorCode::GrantNotFound);
    assert_eq!(
        store
            .revoke_grant(9999, "Admin", ts("2026-05-04T08:00:00Z"), &[], None)
            .await
            .expect_err("none")
            .code,
        ErrorCode::GrantNotFound
    );
    assert_eq!(
        event_kinds(store).await,
        vec!["grant_added", "grant_revoked"],
        "one revocation"
    );

    let ids = |v: Vec<art28_store::GrantRecord>| v.into_iter().map(|g| g.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.grants(None, None, false).await.expect("active")),
        vec![g.id, g3.id]
    );
    assert_eq!(
        ids(store.grants(None, None, true).await.expect("all")),
        vec![g.id, g2.id, g3.id]
    );
    assert_eq!(
        ids(store.grants(Some(anke.id), None, false).await.expect("anke")),
        vec![g3.id]
    );
    assert_eq!(
        ids(store.grants(Some(anke.id), None, true).await.expect("anke")),
        vec![g2.id, g3.id]
    );
    assert_eq!(
        ids(store.grants(None, Some(&customer), false).await.expect("c")),
        Vec::<u64>::new()
    );
    assert_eq!(
        ids(store.grants(None, Some(&customer), true).await.expect("c")),
        vec![g2.id]
    );
    assert_eq!(
        ids(store
            .grants(Some(anke.id), Some(&other_customer), false)
            .await
            .expect("both")),
        vec![g3.id]
    );
    assert_eq!(
        ids(store.grants(Some(admin.id), Some(&customer), true).await.expect("none")),
        Vec::<u64>::new()
    );
    // The revoked grant reads back with who revoked it.
    let all = store.grants(None, None, true).await.expect("all");
    assert_eq!(all[1], revoked);

    let unknown = NewGrant {
        account_id: 9999,
        role: "processor_admin".into(),
        tenant: None,
        granted_by: "x".into(),
        granted_at: ts("2026-05-01T08:00:00Z"),
    };
    assert_eq!(
        store
            .add_grant(&unknown, &[event("grant_added")], None)
            .await
            .expect_err("no account")
            .code,
        ErrorCode::AccountNotFound
    );
    assert_eq!(event_kinds(store).await.len(), 2, "nothing of the refused grant");
}

pub async fn security_events_are_recorded_in_order_and_paged(store: &dyn Store) {
    assert_eq!(store.security_events(0, 100).await.expect("none"), vec![]);
    let admin = store
        .create_account(
            &new_account("admin", AccountKind::Staff, None),
            &[event("account_created")],
            None,
        )
        .await
        .expect("admin");
    let mut e = event("login_failed");
    e.username = Some("mallory".into());
    store
        .add_security_events(&[e, event("rate_limited"), event("config_changed")])
        .await
        .expect("events");
    store.add_security_events(&[]).await.expect("none");
    let events = store.security_events(0, 100).await.expect("events");
    assert_eq!(
        events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        vec!["account_created", "login_failed", "rate_limited", "config_changed"]
    );
    assert!(events.windows(2).all(|w| w[0].id < w[1].id), "ids grow");
    assert_eq!(events[0].account_id, Some(admin.id), "filled in at creation");
    assert_eq!(
        (
            events[1].username.as_deref(),
            events[1].detail.as_str(),
            events[1].client.as_deref(),
            events[1].time
        ),
        (
            Some("mallory"),
            "test login_failed",
            Some("192.0.2.1"),
            ts("2026-05-01T08:00:00Z")
        )
    );
    let after = store.security_events(events[1].id, 100).await.expect("after");
    assert_eq!(after, events[2..].to_vec());
    let page = store.security_events(0, 2).await.expect("page");
    assert_eq!(page, events[..2].to_vec());
}

pub async fn tokens_are_found_by_digest_touched_and_revoked_once(store: &dyn Store) {
    let customer = seed(store).await;
    let other_customer = id("andere-klant");
    add_customer(store, &other_customer).await;
    let anke = representative(store, "anke", &customer).await;
    let token = |id: &str, digest: u8, tenant: &CustomerId, created: &str| NewToken {
        id: id.into(),
        digest: [digest; 32],
        account_id: anke.id,
        tenant: tenant.clone(),
        operations: vec!["agreements_read".into(), "records_read".into()],
        purposes: vec!["service_provision".into()],
        expires_at: ts("2026-08-01T00:00:00Z"),
        created_at: ts(created),
        created_by: "anke".into(),
    };
    let t1 = store
        .create_token(
            &token("tok_1", 7, &customer, "2026-05-01T00:00:00Z"),
            &[event("token_created")],
            None,
        )
        .await
        .expect("token");
    assert_eq!(
        (
            t1.id.as_str(),
            t1.account_id,
            &t1.tenant,
            t1.operations.clone(),
            t1.purposes.clone(),
            t1.expires_at,
            t1.revoked_at,
            t1.last_used_at
        ),
        (
            "tok_1",
            anke.id,
            &customer,
            vec!["agreements_read".to_string(), "records_read".to_string()],
            vec!["service_provision".to_string()],
            ts("2026-08-01T00:00:00Z"),
            None,
            None
        )
    );
    let t2 = store
        .create_token(&token("tok_2", 8, &customer, "2026-05-02T00:00:00Z"), &[], None)
        .await
        .expect("token");
    store
        .create_token(&token("tok_3", 9, &other_customer, "2026-05-02T00:00:00Z"), &[], None)
        .await
        .expect("token");
    // The same digest twice is refused, with nothing of it kept.
    assert!(
        store
            .create_token(
                &token("tok_4", 7, &customer, "2026-05-03T00:00:00Z"),
                &[event("token_created")],
                None
            )
            .await
            .is_err()
    );
    let mut no_account = token("tok_5", 10, &customer, "2026-05-03T00:00:00Z");
    no_account.account_id = 9999;
    assert_eq!(
        store
            .create_token(&no_account, &[], None)
            .await
            .expect_err("no account")
            .code,
        ErrorCode::AccountNotFound
    );
    assert_eq!(event_kinds(store).await, vec!["token_created"]);

    assert_eq!(store.token_by_digest([7; 32]).await.expect("get"), Some(t1.clone()));
    assert_eq!(store.token_by_digest([1; 32]).await.expect("get"), None);
    store
        .touch_token("tok_1", ts("2026-05-05T00:00:00Z"))
        .await
        .expect("touch");
    store
        .touch_token("tok_1", ts("2026-05-06T00:00:00Z"))
        .await
        .expect("touch again");
    store
        .revoke_token(
            "tok_1",
            "bert",
            ts("2026-05-07T00:00:00Z"),
            &[event("token_revoked")],
            None,
        )
        .await
        .expect("revoke");
    let twice = store
        .revoke_token(
            "tok_1",
            "bert",
            ts("2026-05-08T00:00:00Z"),
            &[event("token_revoked")],
            None,
        )
        .await
        .expect_err("twice");
    assert_eq!(twice.code, ErrorCode::TokenNotFound);
    assert_eq!(
        store
            .revoke_token("tok_none", "bert", ts("2026-05-08T00:00:00Z"), &[], None)
            .await
            .expect_err("none")
            .code,
        ErrorCode::TokenNotFound
    );
    assert_eq!(event_kinds(store).await, vec!["token_created", "token_revoked"]);
    let found = store.token_by_digest([7; 32]).await.expect("get").expect("kept");
    assert_eq!(
        (found.last_used_at, found.revoked_at, found.revoked_by.as_deref()),
        (
            Some(ts("2026-05-06T00:00:00Z")),
            Some(ts("2026-05-07T00:00:00Z")),
            Some("bert")
        ),
        "the latest use, and who revoked it"
    );
    let tokens = store.tokens(&customer).await.expect("tokens");
    assert_eq!(tokens, vec![found, t2], "one customer's, oldest first");
    assert_eq!(store.tokens(&id("nobody-here")).await.expect("none"), vec![]);
}

pub async fn sessions_end_one_at_a_time_or_all_of_an_account(store: &dyn Store) {
    let admin = staff(store, "admin").await;
    let other = staff(store, "other").await;
    let session = |d: u8, account_id: u64| SessionRecord {
        digest: [d; 32],
        account_id,
        created_at: ts("2026-05-01T10:00:00Z"),
        expires_at: ts("2026-05-01T18:00:00Z"),
    };
    for (d, a) in [(1, admin.id), (2, admin.id), (3, other.id), (4, admin.id)] {
        store.create_session(&session(d, a)).await.expect("session");
    }
    assert_eq!(store.session([1; 32]).await.expect("get"), Some(session(1, admin.id)));
    assert_eq!(store.session([9; 32]).await.expect("get"), None);
    assert!(
        store.create_session(&session(1, other.id)).await.is_err(),
        "a digest is one session's"
    );
    assert_eq!(store.session([1; 32]).await.expect("get"), Some(session(1, admin.id)));

    store.delete_sessions(Some([2; 32]), None).await.expect("logout");
    assert_eq!(store.session([2; 32]).await.expect("get"), None);
    assert!(store.session([1; 32]).await.expect("get").is_some(), "only that one");
    store.delete_sessions(None, Some(admin.id)).await.expect("everywhere");
    assert_eq!(store.session([1; 32]).await.expect("get"), None);
    assert_eq!(store.session([4; 32]).await.expect("get"), None);
    assert_eq!(
        store.session([3; 32]).await.expect("get"),
        Some(session(3, other.id)),
        "another account's stays"
    );
    store.delete_sessions(None, None).await.expect("nothing named");
    assert!(
        store.session([3; 32]).await.expect("get").is_some(),
        "naming nothing ends nothing"
    );
}

pub async fn failed_logins_count_per_user_name_until_a_success(store: &dyn Store) {
    let admin = staff(store, "Admin").await;
    assert_eq!(
        store.login_attempts("admin").await.expect("none"),
        art28_store::LoginAttempts::default()
    );
    let lock = ts("2026-05-01T09:15:00Z");
    let a = store
        .record_login_failure("Admin", ts("2026-05-01T09:00:00Z"), None, &[event("login_failed")])
        .await
        .expect("fail");
    assert_eq!(
        (a.failures, a.last_failed_at, a.locked_until),
        (1, Some(ts("2026-05-01T09:00:00Z")), None)
    );
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
        (a.failures, a.last_failed_at, a.locked_until),
        (2, Some(ts("2026-05-01T09:00:01Z")), Some(lock)),
        "user names count case-insensitively"
    );
    assert_eq!(store.login_attempts("ADMIN").await.expect("attempts"), a);
    let unknown = store
        .record_login_failure("no-such-user", ts("2026-05-01T09:00:02Z"), None, &[])
        .await
        .expect("fail");
    assert_eq!(unknown.failures, 1, "unknown names are counted the same way");

    let ok = store
        .record_login_success(admin.id, "Admin", ts("2026-05-01T10:00:00Z"), &[event("login")])
        .await
        .expect("ok");
    assert_eq!(ok.last_used_at, Some(ts("2026-05-01T10:00:00Z")), "notes the use");
    assert_eq!(store.account(admin.id).await.expect("get"), Some(ok));
    assert_eq!(
        store.login_attempts("admin").await.expect("attempts"),
        art28_store::LoginAttempts::default(),
        "failures cleared"
    );
    assert_eq!(
        store.login_attempts("no-such-user").await.expect("attempts").failures,
        1,
        "another name's stay"
    );
    let err = store
        .record_login_success(9999, "ghost", ts("2026-05-01T10:00:00Z"), &[event("login")])
        .await
        .expect_err("no account");
    assert_eq!(err.code, ErrorCode::AccountNotFound);
    assert_eq!(
        event_kinds(store).await,
        vec!["login_failed", "account_locked", "login"],
        "events with their changes, none for the refusal"
    );
}

/// The operations in a customer's access log, oldest first.
async fn operations_in(store: &dyn Store, customer: &CustomerId) -> Vec<String> {
    let size = store.log_size().await.expect("size");
    store
        .tenant_log(customer, 0, size, 10_000)
        .await
        .expect("log")
        .iter()
        .map(|e| {
            art28_core::access::AccessEntry::from_bytes(&e.bytes)
                .expect("entry")
                .operation
        })
        .collect()
}

/// Each change of an account, a role grant or a token writes the access entry it is given in
/// its own transaction; a refused change (a user name used before, a grant already revoked)
/// keeps none.
pub async fn account_changes_carry_their_entries_and_a_refused_one_keeps_none(store: &dyn Store) {
    let customer = seed(store).await;
    let before = operations_in(store, &customer).await.len();
    let e = |op: &str| next_entry(Some(&customer), op);
    let anke = store
        .create_account(
            &new_account("anke", AccountKind::Customer, Some(customer.clone())),
            &[],
            Some(&e("account.create")),
        )
        .await
        .expect("create");
    let again = store
        .create_account(
            &new_account("ANKE", AccountKind::Customer, Some(customer.clone())),
            &[],
            Some(&e("account.create.refused")),
        )
        .await
        .expect_err("taken");
    assert_eq!(again.code, ErrorCode::AccountExists);
    store
        .update_account(
            anke.id,
            AccountChange::MustChangePassword,
            &[],
            Some(&e("account.password_disclosed")),
        )
        .await
        .expect("update");
    let grant = store
        .add_grant(
            &NewGrant {
                account_id: anke.id,
                role: "customer_user".into(),
                tenant: Some(customer.clone()),
                granted_by: "tester".into(),
                granted_at: ts("2026-05-01T09:00:00Z"),
            },
            &[],
            Some(&e("grant.add")),
        )
        .await
        .expect("grant");
    store
        .revoke_grant(
            grant.id,
            "tester",
            ts("2026-05-02T09:00:00Z"),
            &[],
            Some(&e("grant.revoke")),
        )
        .await
        .expect("revoke");
    store
        .revoke_grant(
            grant.id,
            "tester",
            ts("2026-05-03T09:00:00Z"),
            &[],
            Some(&e("grant.revoke.refused")),
        )
        .await
        .expect_err("revoked already");
    let token = store
        .create_token(
            &NewToken {
                id: "tok_carried".into(),
                digest: [7; 32],
                account_id: anke.id,
                tenant: customer.clone(),
                operations: vec!["log_read".into()],
                purposes: vec![],
                expires_at: ts("2026-06-01T00:00:00Z"),
                created_at: ts("2026-05-01T09:00:00Z"),
                created_by: "tester".into(),
            },
            &[],
            Some(&e("token.create")),
        )
        .await
        .expect("token");
    store
        .revoke_token(
            &token.id,
            "tester",
            ts("2026-05-02T09:00:00Z"),
            &[],
            Some(&e("token.revoke")),
        )
        .await
        .expect("revoke token");
    assert_eq!(
        operations_in(store, &customer).await[before..],
        [
            "account.create",
            "account.password_disclosed",
            "grant.add",
            "grant.revoke",
            "token.create",
            "token.revoke"
        ]
        .map(String::from),
        "each change with its entry, the refused ones without"
    );
}
