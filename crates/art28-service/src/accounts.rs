//! Accounts and authentication: bootstrapping the first administrator, logging in (with
//! lockout and a record of every failure), sessions, machine tokens, password changes and the
//! permission register (role grants).
//!
//! Every door (HTTP, CLI, jobs) goes through [`Accounts`]. An operation that concerns one
//! customer (its accounts, tokens and role grants, and blocking, re-enabling or marking the
//! password of one of its accounts) is judged here with its [`Operation`] and leaves exactly one
//! entry in that customer's access log, granted or refused (see [`crate::door`]). An account or
//! grant of a customer the caller cannot see answers as one that does not exist.
//!
//! Secrets (passwords, session keys, tokens) are shown to their owner once and stored only as
//! an argon2id hash (passwords) or a SHA-256 digest (256-bit random keys); none reaches a log,
//! an event or a response other than the one that hands it out.

use crate::access::RequestContext;
use crate::clock::Clock;
use crate::door::{Carried, existing_customer, finish, home, sees};
use crate::passwords::{PasswordHasher, check_strength};
use art28_core::access::AccessEntry;
use art28_core::auth::{Grant, LockoutPolicy, Permission, Principal, Role, Scope, TokenLimit};
use art28_core::duration::IsoDuration;
use art28_core::ids::CustomerId;
use art28_core::operation::Operation;
use art28_core::{Error, ErrorCode, Result};
use art28_store::{
    AccountChange, AccountKind, AccountRecord, GrantRecord, NewAccount, NewGrant, NewSecurityEvent,
    SecurityEventRecord, SessionRecord, Store, TokenRecord,
};
use jiff::{SignedDuration, Timestamp};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// How long a login session lasts.
pub const SESSION_HOURS: i64 = 8;
/// Prefix of session keys.
pub const SESSION_PREFIX: &str = "art28_s_";
/// Prefix of machine tokens.
pub const TOKEN_PREFIX: &str = "art28_t_";

/// SHA-256 of a secret key.
pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A random key with a prefix, 256 bits.
fn random_key(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{prefix}{}", hex::encode(bytes))
}

fn event(
    now: Timestamp,
    account: Option<&AccountRecord>,
    username: &str,
    kind: &str,
    detail: String,
    client: Option<&str>,
) -> NewSecurityEvent {
    NewSecurityEvent {
        time: now,
        account_id: account.map(|a| a.id),
        username: Some(username.to_string()),
        kind: kind.to_string(),
        detail,
        client: client.map(str::to_string),
    }
}

/// User names: 3–64 characters of letters, digits, `.`, `-`, `_` and `@`.
pub fn check_username(username: &str) -> Result<()> {
    let ok = (3..=64).contains(&username.chars().count())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::BadRequest,
            "a user name has 3 to 64 characters: letters, digits, `.`, `-`, `_` or `@`",
        ))
    }
}

/// A successful login.
#[derive(Debug)]
pub struct LoginSuccess {
    /// The session key: shown to the caller once, never stored.
    pub session_key: SecretString,
    /// The account.
    pub account: AccountRecord,
    /// When the session ends.
    pub expires_at: Timestamp,
}

/// The same answer for an unknown user name and a wrong password.
fn wrong_credentials() -> Error {
    Error::new(ErrorCode::AuthenticationRequired, "the user name or password is wrong")
}

/// The same answer for an account that does not exist and one the caller may not know of.
fn account_not_found(account_id: u64) -> Error {
    Error::new(
        ErrorCode::AccountNotFound,
        format!("account {account_id} does not exist"),
    )
}

/// The same answer for a grant that does not exist and one the caller may not know of.
fn grant_not_found(grant_id: u64) -> Error {
    Error::new(ErrorCode::GrantNotFound, format!("grant {grant_id} does not exist"))
}

/// An account to add, as asked for by an administrator.
#[derive(Debug)]
pub struct AccountRequest {
    /// User name.
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Initial password; the holder must change it at the first login.
    pub password: SecretString,
    /// Role.
    pub role: Role,
    /// The customer, for a customer role.
    pub customer: Option<CustomerId>,
}

/// A machine token to issue.
#[derive(Debug)]
pub struct TokenRequest {
    /// The one customer it works for.
    pub customer: CustomerId,
    /// What it may do: a subset of what the issuer may do for that customer.
    pub operations: Vec<Permission>,
    /// Purposes it may give: a subset of the customer's agreement's purposes.
    pub purposes: Vec<String>,
    /// Days until it expires (1 to 365).
    pub days: u32,
}

/// The door to accounts, sessions, machine tokens and the permission register.
pub struct Accounts {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    hasher: PasswordHasher,
    lockout: LockoutPolicy,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("hasher", &self.hasher)
            .field("lockout", &self.lockout)
            .finish_non_exhaustive()
    }
}

impl Accounts {
    /// Accounts over a store, with the clock, the password hasher and the lockout rules.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, hasher: PasswordHasher, lockout: LockoutPolicy) -> Self {
        Self {
            store,
            clock,
            hasher,
            lockout,
        }
    }

    /// End a call with its one access entry in `tenant`'s log.
    async fn finish<T>(
        &self,
        ctx: &RequestContext,
        tenant: Option<&CustomerId>,
        operation: Operation,
        resource: String,
        result: Result<T>,
    ) -> Result<T> {
        finish(
            self.store.as_ref(),
            self.clock.as_ref(),
            ctx,
            tenant,
            operation,
            resource,
            result,
        )
        .await
    }

    /// The entry a change carries into its transaction (see [`crate::door::Carried`]).
    fn carry(
        &self,
        ctx: &RequestContext,
        tenant: Option<&CustomerId>,
        operation: Operation,
        resource: String,
    ) -> Carried {
        Carried::new(ctx, self.clock.as_ref(), tenant, operation, resource)
    }

    /// The account an operation names by id, if the caller may know of it, and the customer
    /// whose log gets the call's entry: the account's, or the caller's own when the account does
    /// not exist or belongs to a customer the caller cannot see (both answer `account_not_found`).
    async fn target(&self, who: &Principal, account_id: u64) -> (Result<AccountRecord>, Option<CustomerId>) {
        match self.store.account(account_id).await {
            Ok(Some(a)) if sees(who, a.tenant.as_ref()) => {
                let tenant = a.tenant.clone();
                (Ok(a), tenant)
            }
            Ok(_) => (Err(account_not_found(account_id)), home(who)),
            Err(e) => (Err(e), None),
        }
    }

    /// The grants in force for an account, as a principal.
    pub async fn principal(&self, account: &AccountRecord) -> Result<Principal> {
        let mut grants = Vec::new();
        for g in self.store.grants(Some(account.id), None, false).await? {
            let role: Role = g
                .role
                .parse()
                .map_err(|_| Error::new(ErrorCode::Internal, "an unknown role is stored"))?;
            let scope = match g.tenant {
                Some(t) => Scope::Customer(t),
                None => Scope::Processor,
            };
            grants.push(Grant::new(role, scope)?);
        }
        Ok(Principal {
            account_id: account.id,
            username: account.username.clone(),
            grants,
            token_limit: None,
        })
    }

    /// Create the first processor administrator; refused once any account exists.
    pub async fn bootstrap_admin(
        &self,
        username: &str,
        display_name: &str,
        password: &SecretString,
    ) -> Result<AccountRecord> {
        let store = self.store.as_ref();
        if !store.accounts(None).await?.is_empty() {
            return Err(Error::new(
                ErrorCode::AccountExists,
                "accounts exist already; bootstrapping is only for an empty data directory",
            ));
        }
        check_username(username)?;
        check_strength(password, &[username, display_name])?;
        let now = self.clock.now();
        let hash = self.hasher.hash(password).await?;
        let account = store
            .create_account(
                &NewAccount {
                    username: username.to_string(),
                    display_name: display_name.to_string(),
                    kind: AccountKind::Staff,
                    tenant: None,
                    password_hash: Some(hash),
                    must_change_password: false,
                    created_at: now,
                    created_by: "bootstrap".into(),
                },
                &[event(
                    now,
                    None,
                    username,
                    "account_created",
                    "first processor administrator created by bootstrap".into(),
                    None,
                )],
                None,
            )
            .await?;
        store
            .add_grant(
                &NewGrant {
                    account_id: account.id,
                    role: Role::ProcessorAdmin.as_str().to_string(),
                    tenant: None,
                    granted_by: "bootstrap".into(),
                    granted_at: now,
                },
                &[event(
                    now,
                    Some(&account),
                    username,
                    "grant_added",
                    "processor_admin granted by bootstrap".into(),
                    None,
                )],
                None,
            )
            .await?;
        Ok(account)
    }

    /// Log in with user name and password. The password is always checked (against a dummy
    /// hash for an unknown user) before any other answer, so timing tells nothing about which
    /// accounts exist. Failures slow further attempts down and then lock the account
    /// ([`LockoutPolicy`]); every failure, throttled attempt and lock is recorded as a security
    /// event.
    pub async fn login(&self, username: &str, password: &SecretString, client: Option<&str>) -> Result<LoginSuccess> {
        let store = self.store.as_ref();
        // Both an existing and an unknown user name take the same reads, one password check
        // (against a dummy hash when there is no account) and, on failure, the same single write.
        let account = store.account_by_username(username).await?;
        let attempts = store.login_attempts(username).await?;
        let valid = self
            .hasher
            .verify(password, account.as_ref().and_then(|a| a.password_hash.as_deref()))
            .await;
        let now = self.clock.now();
        // Locked or throttled: the attempt is not heard, and does not count as a failure.
        if let Err(e) = self
            .lockout
            .check_attempt(attempts.failures, attempts.last_failed_at, now)
        {
            let kind = if e.code == ErrorCode::AccountLocked {
                "login_refused_locked"
            } else {
                "login_throttled"
            };
            store
                .add_security_events(&[event(now, account.as_ref(), username, kind, e.message.clone(), client)])
                .await?;
            return Err(e);
        }
        let account = match account {
            Some(a) if valid => a,
            other => {
                let failures = attempts.failures.saturating_add(1);
                let locked_until = self.lockout.locked_until(failures, now);
                let why = if other.is_some() {
                    "wrong password"
                } else {
                    "unknown user name"
                };
                let mut events = vec![event(
                    now,
                    other.as_ref(),
                    username,
                    "login_failed",
                    format!("{why} ({failures} in a row)"),
                    client,
                )];
                if let Some(until) = locked_until {
                    events.push(event(
                        now,
                        other.as_ref(),
                        username,
                        "account_locked",
                        format!("locked until {until} after {failures} failures"),
                        client,
                    ));
                }
                store.record_login_failure(username, now, locked_until, &events).await?;
                return Err(wrong_credentials());
            }
        };
        if account.disabled {
            store
                .add_security_events(&[event(
                    now,
                    Some(&account),
                    username,
                    "login_refused_disabled",
                    "account disabled".into(),
                    client,
                )])
                .await?;
            return Err(Error::new(
                ErrorCode::AccountDisabled,
                "the account is disabled; ask an administrator to re-enable it",
            ));
        }
        if let Some(until) = account.blocked_until.filter(|u| *u > now) {
            store
                .add_security_events(&[event(
                    now,
                    Some(&account),
                    username,
                    "login_refused_blocked",
                    format!("blocked until {until}"),
                    client,
                )])
                .await?;
            return Err(Error::new(
                ErrorCode::AccountBlocked,
                format!("the account is blocked until {until}"),
            ));
        }
        let account = store
            .record_login_success(
                account.id,
                username,
                now,
                &[event(
                    now,
                    Some(&account),
                    username,
                    "login",
                    "logged in".into(),
                    client,
                )],
            )
            .await?;
        let key = random_key(SESSION_PREFIX);
        let expires_at = now
            .saturating_add(SignedDuration::from_hours(SESSION_HOURS))
            .unwrap_or(now);
        store
            .create_session(&SessionRecord {
                digest: digest(&key),
                account_id: account.id,
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(LoginSuccess {
            session_key: SecretString::from(key),
            account,
            expires_at,
        })
    }

    /// End the session of this key.
    pub async fn logout(&self, session_key: &str) -> Result<()> {
        self.store.delete_sessions(Some(digest(session_key)), None).await
    }

    /// Who presents this bearer key (a session key or a machine token), if it is valid now.
    /// `password_change_required` when the account must change its password first (only the
    /// password change itself is allowed then; `allow_pending_change` says whether this is it).
    pub async fn authenticate(&self, bearer: &str, allow_pending_change: bool) -> Result<(AccountRecord, Principal)> {
        let store = self.store.as_ref();
        let now = self.clock.now();
        let invalid = || Error::new(ErrorCode::AuthenticationRequired, "the bearer token is not valid");
        let (account_id, limit) = if bearer.starts_with(SESSION_PREFIX) {
            let session = store.session(digest(bearer)).await?.ok_or_else(invalid)?;
            if session.expires_at <= now {
                store.delete_sessions(Some(session.digest), None).await?;
                return Err(Error::new(
                    ErrorCode::AuthenticationRequired,
                    "the session has expired; log in again",
                ));
            }
            (session.account_id, None)
        } else if bearer.starts_with(TOKEN_PREFIX) {
            let token = store.token_by_digest(digest(bearer)).await?.ok_or_else(invalid)?;
            if token.revoked_at.is_some() || token.expires_at <= now {
                return Err(Error::new(
                    ErrorCode::AuthenticationRequired,
                    "the token is revoked or expired",
                ));
            }
            // Noting every use would be a durable write per request; once a minute says enough.
            if token
                .last_used_at
                .is_none_or(|t| now.duration_since(t) >= SignedDuration::from_mins(1))
            {
                store.touch_token(&token.id, now).await?;
            }
            let operations = token.operations.iter().filter_map(|o| o.parse().ok()).collect();
            (
                token.account_id,
                Some(TokenLimit {
                    tenant: token.tenant,
                    operations,
                    purposes: token.purposes,
                }),
            )
        } else {
            return Err(invalid());
        };
        let account = store.account(account_id).await?.ok_or_else(invalid)?;
        if account.disabled {
            return Err(Error::new(ErrorCode::AccountDisabled, "the account is disabled"));
        }
        if account.blocked_until.is_some_and(|u| u > now) {
            return Err(Error::new(ErrorCode::AccountBlocked, "the account is blocked"));
        }
        if account.must_change_password && !allow_pending_change {
            return Err(Error::new(
                ErrorCode::PasswordChangeRequired,
                "change your password first",
            ));
        }
        let mut p = self.principal(&account).await?;
        p.token_limit = limit;
        Ok((account, p))
    }

    /// Change one's own password: the old one must be right and the new one strong. Other
    /// sessions of the account end.
    pub async fn change_password(&self, account: &AccountRecord, old: &SecretString, new: &SecretString) -> Result<()> {
        if !self.hasher.verify(old, account.password_hash.as_deref()).await {
            return Err(wrong_credentials());
        }
        if old.expose_secret() == new.expose_secret() {
            return Err(Error::new(
                ErrorCode::PasswordTooWeak,
                "Kies een ander wachtwoord / Choose a different password",
            ));
        }
        check_strength(new, &[&account.username, &account.display_name])?;
        let hash = self.hasher.hash(new).await?;
        let now = self.clock.now();
        self.store
            .update_account(
                account.id,
                AccountChange::Password {
                    hash,
                    must_change: false,
                },
                &[event(
                    now,
                    Some(account),
                    &account.username,
                    "password_changed",
                    "password changed by its owner".into(),
                    None,
                )],
                None,
            )
            .await?;
        self.store.delete_sessions(None, Some(account.id)).await
    }

    /// Add an account with one role. The actor needs `accounts_manage` for the customer (or,
    /// for a staff account, across the processor); the grant is entered in the register with
    /// who gave it. A customer's account leaves one entry in its log (`account.create`).
    pub async fn create_account(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        request: AccountRequest,
    ) -> Result<(AccountRecord, GrantRecord)> {
        let op = Operation::AccountCreate;
        let customer = request.customer.clone();
        let resource = customer
            .as_ref()
            .map_or_else(|| "accounts".into(), |c| format!("customer/{c}/accounts"));
        let carried = self.carry(ctx, customer.as_ref(), op, resource);
        let result = self.add_account(who, request, carried.take().as_ref()).await;
        carried
            .finish(self.store.as_ref(), self.clock.as_ref(), ctx, result)
            .await
    }

    async fn add_account(
        &self,
        who: &Principal,
        request: AccountRequest,
        entry: Option<&AccessEntry>,
    ) -> Result<(AccountRecord, GrantRecord)> {
        let store = self.store.as_ref();
        let scope = match &request.customer {
            Some(c) => Scope::Customer(c.clone()),
            None => Scope::Processor,
        };
        let grant = Grant::new(request.role, scope)?;
        Operation::AccountCreate.authorize(who, request.customer.as_ref())?;
        check_username(&request.username)?;
        if request.display_name.trim().is_empty() || request.display_name.chars().count() > 200 {
            return Err(Error::new(
                ErrorCode::BadRequest,
                "the display name must have 1 to 200 characters",
            ));
        }
        if let Some(c) = &request.customer {
            existing_customer(store, c).await?;
        }
        check_strength(&request.password, &[&request.username, &request.display_name])?;
        let hash = self.hasher.hash(&request.password).await?;
        let now = self.clock.now();
        let account = store
            .create_account(
                &NewAccount {
                    username: request.username.clone(),
                    display_name: request.display_name.trim().to_string(),
                    kind: if request.role.is_staff() {
                        AccountKind::Staff
                    } else {
                        AccountKind::Customer
                    },
                    tenant: request.customer.clone(),
                    password_hash: Some(hash),
                    must_change_password: true,
                    created_at: now,
                    created_by: who.username.clone(),
                },
                &[event(
                    now,
                    None,
                    &request.username,
                    "account_created",
                    format!("created by {}", who.username),
                    None,
                )],
                entry,
            )
            .await?;
        let record = store
            .add_grant(
                &NewGrant {
                    account_id: account.id,
                    role: grant.role.as_str().to_string(),
                    tenant: request.customer,
                    granted_by: who.username.clone(),
                    granted_at: now,
                },
                &[event(
                    now,
                    Some(&account),
                    &account.username,
                    "grant_added",
                    format!("{} granted by {}", grant.role, who.username),
                    None,
                )],
                None,
            )
            .await?;
        Ok((account, record))
    }

    /// Accounts: one customer's (for its administrators and auditors; one `account.list` entry
    /// in its log), or all of them (staff; no customer's log).
    pub async fn accounts(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        customer: Option<&CustomerId>,
    ) -> Result<Vec<AccountRecord>> {
        let op = Operation::AccountList;
        let result = async {
            op.authorize(who, customer)?;
            if let Some(c) = customer {
                existing_customer(self.store.as_ref(), c).await?;
            }
            self.store.accounts(customer).await
        }
        .await;
        let resource = customer.map_or_else(|| "accounts".into(), |c| format!("customer/{c}/accounts"));
        self.finish(ctx, customer, op, resource, result).await
    }

    /// Security events after an id, oldest first, for the security officer (they concern the
    /// processor's accounts as a whole, so no customer's log gets an entry).
    pub async fn security_events(
        &self,
        who: &Principal,
        after_id: u64,
        limit: usize,
    ) -> Result<Vec<SecurityEventRecord>> {
        Operation::SecurityEventList.authorize(who, None)?;
        self.store.security_events(after_id, limit).await
    }

    /// Re-enable a disabled account: an audited act that names its reason.
    pub async fn enable_account(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        account_id: u64,
        reason: &str,
    ) -> Result<AccountRecord> {
        let op = Operation::AccountEnable;
        let (account, tenant) = self.target(who, account_id).await;
        let carried = self.carry(ctx, tenant.as_ref(), op, format!("account/{account_id}"));
        let result = async {
            let account = account?;
            op.authorize(who, account.tenant.as_ref())?;
            if reason.trim().is_empty() {
                return Err(Error::new(ErrorCode::BadRequest, "say why the account is re-enabled"));
            }
            let now = self.clock.now();
            // Re-enabling counts as a use, so the expiry clock starts again.
            self.store
                .update_account(account.id, AccountChange::Used { at: now }, &[], None)
                .await?;
            self.store
                .update_account(
                    account.id,
                    AccountChange::Disabled {
                        disabled: false,
                        reason: reason.to_string(),
                    },
                    &[event(
                        now,
                        Some(&account),
                        &account.username,
                        "account_enabled",
                        format!("re-enabled by {}: {reason}", who.username),
                        None,
                    )],
                    carried.take().as_ref(),
                )
                .await
        }
        .await;
        carried
            .finish(self.store.as_ref(), self.clock.as_ref(), ctx, result)
            .await
    }

    /// Block a fellow representative of the same customer on stated grounds, for at most the
    /// agreement's term (S4 12.2: 48 hours); the block lifts itself.
    pub async fn block_account(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        account_id: u64,
        hours: i64,
        grounds: &str,
    ) -> Result<AccountRecord> {
        let op = Operation::AccountBlock;
        let (account, tenant) = self.target(who, account_id).await;
        let carried = self.carry(ctx, tenant.as_ref(), op, format!("account/{account_id}"));
        let result = async {
            let account = account?;
            let Some(customer) = account.tenant.clone() else {
                return Err(Error::new(
                    ErrorCode::PermissionDenied,
                    "only a customer's representatives can be blocked this way",
                ));
            };
            op.authorize(who, Some(&customer))?;
            if who.account_id == account.id {
                return Err(Error::new(ErrorCode::BadRequest, "you cannot block your own account"));
            }
            if grounds.trim().is_empty() {
                return Err(Error::new(ErrorCode::BadRequest, "state the grounds for the block"));
            }
            let agreement = self
                .store
                .agreement_in_force(&customer, crate::clock::today(self.clock.as_ref()))
                .await?
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::AgreementNotFound,
                        format!("customer `{customer}` has no agreement in force"),
                    )
                })?;
            let now = self.clock.now();
            // More hours than a duration holds is longer than any agreement's term: refused
            // as too long by the rule below, never an overflow.
            let requested = SignedDuration::try_from_hours(hours).unwrap_or(SignedDuration::MAX);
            let until = art28_core::auth::block_until(requested, &agreement.agreement.accounts.block_max, now)?;
            let a = self
                .store
                .update_account(
                    account.id,
                    AccountChange::Blocked {
                        until: Some(until),
                        by: Some(who.username.clone()),
                        reason: Some(grounds.to_string()),
                    },
                    &[event(
                        now,
                        Some(&account),
                        &account.username,
                        "account_blocked",
                        format!("blocked until {until} by {}: {grounds}", who.username),
                        None,
                    )],
                    carried.take().as_ref(),
                )
                .await?;
            self.store.delete_sessions(None, Some(account.id)).await?;
            Ok(a)
        }
        .await;
        carried
            .finish(self.store.as_ref(), self.clock.as_ref(), ctx, result)
            .await
    }

    /// Mark an account's password as disclosed or damaged: its sessions end and the password
    /// must be changed at the next login (R3.3). For the security officer, or whoever manages
    /// the account.
    pub async fn mark_password_disclosed(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        account_id: u64,
        reason: &str,
    ) -> Result<AccountRecord> {
        let op = Operation::AccountPasswordDisclosed;
        let (account, tenant) = self.target(who, account_id).await;
        let carried = self.carry(ctx, tenant.as_ref(), op, format!("account/{account_id}"));
        let result = async {
            let account = account?;
            let officer = Operation::SecurityEventList.authorize(who, None).is_ok();
            if !officer {
                op.authorize(who, account.tenant.as_ref())?;
            }
            if reason.trim().is_empty() {
                return Err(Error::new(ErrorCode::BadRequest, "say how the password was disclosed"));
            }
            let now = self.clock.now();
            let a = self
                .store
                .update_account(
                    account.id,
                    AccountChange::MustChangePassword,
                    &[event(
                        now,
                        Some(&account),
                        &account.username,
                        "password_disclosed",
                        format!("marked by {}: {reason}", who.username),
                        None,
                    )],
                    carried.take().as_ref(),
                )
                .await?;
            self.store.delete_sessions(None, Some(account.id)).await?;
            Ok(a)
        }
        .await;
        carried
            .finish(self.store.as_ref(), self.clock.as_ref(), ctx, result)
            .await
    }

    /// Issue a machine token acting as the issuer's account, narrowed to one customer, some
    /// operations and purposes, with an expiry. The secret is returned once and never stored.
    pub async fn create_token(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        request: TokenRequest,
    ) -> Result<(SecretString, TokenRecord)> {
        let op = Operation::TokenCreate;
        let customer = request.customer.clone();
        let resource = format!("customer/{customer}/tokens");
        let carried = self.carry(ctx, Some(&customer), op, resource);
        let result = self.issue_token(who, request, carried.take().as_ref()).await;
        carried
            .finish(self.store.as_ref(), self.clock.as_ref(), ctx, result)
            .await
    }

    async fn issue_token(
        &self,
        who: &Principal,
        request: TokenRequest,
        entry: Option<&AccessEntry>,
    ) -> Result<(SecretString, TokenRecord)> {
        Operation::TokenCreate.authorize(who, Some(&request.customer))?;
        if who.account_id == 0 {
            return Err(Error::new(
                ErrorCode::BadRequest,
                "tokens are issued by a person's account, not by the operator token",
            ));
        }
        if !(1..=365).contains(&request.days) {
            return Err(Error::new(ErrorCode::BadRequest, "a token lives 1 to 365 days"));
        }
        if request.operations.is_empty() {
            return Err(Error::new(
                ErrorCode::BadRequest,
                "name at least one operation the token may perform",
            ));
        }
        // A token's operations and purposes are sets: each named once (a request repeating one
        // thousands of times is refused, not stored).
        let repeated = |what: &str, names: Vec<&str>| {
            let mut seen = std::collections::BTreeSet::new();
            match names.into_iter().find(|n| !seen.insert(*n)) {
                Some(n) => Err(Error::new(
                    ErrorCode::BadRequest,
                    format!(
                        "{what} `{}` is named more than once",
                        n.chars().take(80).collect::<String>()
                    ),
                )),
                None => Ok(()),
            }
        };
        repeated("operation", request.operations.iter().map(|o| o.as_str()).collect())?;
        repeated("purpose", request.purposes.iter().map(String::as_str).collect())?;
        for op in &request.operations {
            art28_core::auth::authorize(who, *op, Some(&request.customer)).map_err(|_| {
                Error::new(
                    ErrorCode::PermissionDenied,
                    format!("you cannot hand a token `{op}`, which you do not hold yourself"),
                )
            })?;
        }
        let agreement = self
            .store
            .agreement_in_force(&request.customer, crate::clock::today(self.clock.as_ref()))
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::AgreementNotFound,
                    format!("customer `{}` has no agreement in force", request.customer),
                )
            })?;
        if let Some(p) = request
            .purposes
            .iter()
            .find(|p| !agreement.agreement.processing.purposes.contains(p))
        {
            return Err(Error::new(
                ErrorCode::PermissionDenied,
                format!("purpose `{p}` is not in the customer's agreement"),
            ));
        }
        let now = self.clock.now();
        let secret = random_key(TOKEN_PREFIX);
        let id = format!("tok_{}", hex::encode(rand::random::<[u8; 6]>()));
        let record = self
            .store
            .create_token(
                &art28_store::NewToken {
                    id: id.clone(),
                    digest: digest(&secret),
                    account_id: who.account_id,
                    tenant: request.customer.clone(),
                    operations: request.operations.iter().map(|o| o.as_str().to_string()).collect(),
                    purposes: request.purposes,
                    expires_at: now
                        .saturating_add(SignedDuration::from_hours(24 * i64::from(request.days)))
                        .unwrap_or(now),
                    created_at: now,
                    created_by: who.username.clone(),
                },
                &[event(
                    now,
                    None,
                    &who.username,
                    "token_created",
                    format!("token {id} for {}", request.customer),
                    None,
                )],
                entry,
            )
            .await?;
        Ok((SecretString::from(secret), record))
    }

    /// A customer's machine tokens (no secrets are stored); one `token.list` entry in its log.
    pub async fn tokens(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        customer: &CustomerId,
    ) -> Result<Vec<TokenRecord>> {
        let op = Operation::TokenList;
        let result = async {
            op.authorize(who, Some(customer))?;
            existing_customer(self.store.as_ref(), customer).await?;
            self.store.tokens(customer).await
        }
        .await;
        self.finish(ctx, Some(customer), op, format!("customer/{customer}/tokens"), result)
            .await
    }

    /// Revoke a machine token of a customer (`token_not_found` for a token of another
    /// customer, as for one that does not exist).
    pub async fn revoke_token(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        customer: &CustomerId,
        id: &str,
    ) -> Result<()> {
        let op = Operation::TokenRevoke;
        let carried = self.carry(ctx, Some(customer), op, format!("token/{id}"));
        let result = async {
            op.authorize(who, Some(customer))?;
            if !self.store.tokens(customer).await?.iter().any(|t| t.id == id) {
                return Err(Error::new(
                    ErrorCode::TokenNotFound,
                    format!("customer `{customer}` has no token `{id}`"),
                ));
            }
            let now = self.clock.now();
            self.store
                .revoke_token(
                    id,
                    &who.username,
                    now,
                    &[event(
                        now,
                        None,
                        &who.username,
                        "token_revoked",
                        format!("token {id} of {customer}"),
                        None,
                    )],
                    carried.take().as_ref(),
                )
                .await
        }
        .await;
        carried
            .finish(self.store.as_ref(), self.clock.as_ref(), ctx, result)
            .await
    }

    /// Give an account another role. The scope must fit the role and the account (a staff role
    /// for a staff account, a customer role for an account of that customer).
    pub async fn grant_role(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        account_id: u64,
        role: Role,
        customer: Option<CustomerId>,
    ) -> Result<GrantRecord> {
        let op = Operation::GrantAdd;
        let (account, tenant) = self.target(who, account_id).await;
        let carried = self.carry(ctx, tenant.as_ref(), op, format!("account/{account_id}"));
        let result = async {
            let scope = match &customer {
                Some(c) => Scope::Customer(c.clone()),
                None => Scope::Processor,
            };
            Grant::new(role, scope)?;
            let account = account?;
            op.authorize(who, account.tenant.as_ref())?;
            if account.tenant != customer {
                return Err(Error::new(
                    ErrorCode::RoleScopeInvalid,
                    "the role's customer must be the account's own (staff roles for staff accounts)",
                ));
            }
            let now = self.clock.now();
            self.store
                .add_grant(
                    &NewGrant {
                        account_id,
                        role: role.as_str().to_string(),
                        tenant: customer,
                        granted_by: who.username.clone(),
                        granted_at: now,
                    },
                    &[event(
                        now,
                        Some(&account),
                        &account.username,
                        "grant_added",
                        format!("{role} granted by {}", who.username),
                        None,
                    )],
                    carried.take().as_ref(),
                )
                .await
        }
        .await;
        carried
            .finish(self.store.as_ref(), self.clock.as_ref(), ctx, result)
            .await
    }

    /// Revoke a grant; it stays in the register with who revoked it and when.
    pub async fn revoke_grant(&self, ctx: &RequestContext, who: &Principal, grant_id: u64) -> Result<GrantRecord> {
        let op = Operation::GrantRevoke;
        let found = self.store.grants(None, None, true).await.map(|all| {
            all.into_iter()
                .find(|g| g.id == grant_id && sees(who, g.tenant.as_ref()))
        });
        let (grant, tenant) = match found {
            Ok(Some(g)) => {
                let tenant = g.tenant.clone();
                (Ok(g), tenant)
            }
            Ok(None) => (Err(grant_not_found(grant_id)), home(who)),
            Err(e) => (Err(e), None),
        };
        let carried = self.carry(ctx, tenant.as_ref(), op, format!("grant/{grant_id}"));
        let result = async {
            let grant = grant?;
            op.authorize(who, grant.tenant.as_ref())?;
            let account = self.store.account(grant.account_id).await?;
            let now = self.clock.now();
            let detail = format!("{} revoked by {}", grant.role, who.username);
            self.store
                .revoke_grant(
                    grant_id,
                    &who.username,
                    now,
                    &[event(
                        now,
                        account.as_ref(),
                        &who.username,
                        "grant_revoked",
                        detail,
                        None,
                    )],
                    carried.take().as_ref(),
                )
                .await
        }
        .await;
        carried
            .finish(self.store.as_ref(), self.clock.as_ref(), ctx, result)
            .await
    }

    /// The permission register, revoked grants included: one customer's (one `grant.list`
    /// entry in its log) or all of it (staff).
    pub async fn grants(
        &self,
        ctx: &RequestContext,
        who: &Principal,
        customer: Option<&CustomerId>,
    ) -> Result<Vec<GrantRecord>> {
        let op = Operation::GrantList;
        let result = async {
            op.authorize(who, customer)?;
            if let Some(c) = customer {
                existing_customer(self.store.as_ref(), c).await?;
            }
            self.store.grants(None, customer, true).await
        }
        .await;
        let resource = customer.map_or_else(|| "grants".into(), |c| format!("customer/{c}/grants"));
        self.finish(ctx, customer, op, resource, result).await
    }

    /// The credential expiry term for an account: its customer's agreement in force, or — for
    /// staff, or a customer without an agreement — `default`.
    async fn expiry_term(&self, account: &AccountRecord, default: &IsoDuration) -> Result<IsoDuration> {
        if let Some(t) = &account.tenant
            && let Some(v) = self
                .store
                .agreement_in_force(t, crate::clock::today(self.clock.as_ref()))
                .await?
        {
            return Ok(v.agreement.accounts.credential_expiry);
        }
        Ok(*default)
    }

    /// Disable every active account whose credentials were not used for longer than its
    /// agreement's term (R3.3, S1 Annex B). Safe to run at any time and again after a crash:
    /// it looks at the state, not at a schedule. Returns the accounts disabled.
    pub async fn expire_unused(&self, default_term: &IsoDuration) -> Result<Vec<AccountRecord>> {
        let now = self.clock.now();
        let candidates = self.store.accounts_unused_since(now).await?;
        let mut disabled = Vec::new();
        for account in candidates {
            let term = self.expiry_term(&account, default_term).await?;
            let last = account.last_used_at.unwrap_or(account.created_at);
            if !art28_core::auth::credential_expired(last, &term, now) {
                continue;
            }
            let reason = format!("credentials unused since {last}, longer than {term}");
            let a = self
                .store
                .update_account(
                    account.id,
                    AccountChange::Disabled {
                        disabled: true,
                        reason: reason.clone(),
                    },
                    &[event(
                        now,
                        Some(&account),
                        &account.username,
                        "account_expired",
                        reason,
                        None,
                    )],
                    None,
                )
                .await?;
            self.store.delete_sessions(None, Some(account.id)).await?;
            tracing::info!(account = account.id, "credentials expired; account disabled");
            disabled.push(a);
        }
        Ok(disabled)
    }
}
