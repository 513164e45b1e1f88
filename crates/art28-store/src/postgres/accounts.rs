//! Accounts, the permission register, security events, API tokens and sessions in PostgreSQL.
//!
//! Roles are stored by their stable names; their meaning lives in `art28-core::auth`. Tokens and
//! session keys are stored only as SHA-256 digests; the secret itself is shown once, by the
//! caller, and never kept. User names compare case-insensitively, as `lower(username)` (the
//! unique indexes of `accounts` and `login_attempts` are on it).

use super::{PgStore, Tx, col, db_err, from_micros, is_unique_violation, micros, parse, signed, unsigned};
use crate::AccountStore;
use crate::model::*;
use crate::sqlite::log::Prepared;
use art28_core::access::AccessEntry;
use art28_core::ids::CustomerId;
use art28_core::{Error, ErrorCode, Result};
use deadpool_postgres::ClientWrapper;
use jiff::Timestamp;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// An optional timestamp column.
pub(crate) fn ts(v: Option<i64>) -> Result<Option<Timestamp>> {
    v.map(from_micros).transpose()
}

/// An optional customer id column.
fn tenant(v: Option<&str>) -> Result<Option<CustomerId>> {
    v.map(parse).transpose()
}

/// A `u64` id as a BIGINT key: one beyond BIGINT names no row (ids are positive), as an id
/// that does not exist.
pub(crate) fn key(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(-1)
}

const ACCOUNT_COLS: &str = "id, username, display_name, kind, tenant, password_hash, must_change_password, status, \
    status_reason, created_at, created_by, last_used_at, blocked_until, \
    blocked_by, blocked_reason";

fn account_row(r: &Row) -> Result<AccountRecord> {
    let kind: &str = col(r, 3)?;
    let status: &str = col(r, 7)?;
    Ok(AccountRecord {
        id: unsigned(col(r, 0)?)?,
        username: col(r, 1)?,
        display_name: col(r, 2)?,
        kind: if kind == "staff" {
            AccountKind::Staff
        } else {
            AccountKind::Customer
        },
        tenant: tenant(col(r, 4)?)?,
        password_hash: col(r, 5)?,
        must_change_password: col(r, 6)?,
        disabled: status == "disabled",
        status_reason: col(r, 8)?,
        created_at: from_micros(col(r, 9)?)?,
        created_by: col(r, 10)?,
        last_used_at: ts(col(r, 11)?)?,
        blocked_until: ts(col(r, 12)?)?,
        blocked_by: col(r, 13)?,
        blocked_reason: col(r, 14)?,
    })
}

const GRANT_COLS: &str = "id, account_id, role, tenant, granted_by, granted_at, revoked_by, revoked_at";

fn grant_row(r: &Row) -> Result<GrantRecord> {
    Ok(GrantRecord {
        id: unsigned(col(r, 0)?)?,
        account_id: unsigned(col(r, 1)?)?,
        role: col(r, 2)?,
        tenant: tenant(col(r, 3)?)?,
        granted_by: col(r, 4)?,
        granted_at: from_micros(col(r, 5)?)?,
        revoked_by: col(r, 6)?,
        revoked_at: ts(col(r, 7)?)?,
    })
}

const TOKEN_COLS: &str = "id, digest, account_id, tenant, operations, purposes, expires_at, created_at, created_by, revoked_at, revoked_by, last_used_at";

fn token_row(r: &Row) -> Result<TokenRecord> {
    let ops: &str = col(r, 4)?;
    let purposes: &str = col(r, 5)?;
    Ok(TokenRecord {
        id: col(r, 0)?,
        account_id: unsigned(col(r, 2)?)?,
        tenant: parse(col::<&str>(r, 3)?)?,
        operations: serde_json::from_str(ops).map_err(db_err)?,
        purposes: serde_json::from_str(purposes).map_err(db_err)?,
        expires_at: from_micros(col(r, 6)?)?,
        created_at: from_micros(col(r, 7)?)?,
        created_by: col(r, 8)?,
        revoked_at: ts(col(r, 9)?)?,
        revoked_by: col(r, 10)?,
        last_used_at: ts(col(r, 11)?)?,
    })
}

fn session_row(r: &Row) -> Result<SessionRecord> {
    Ok(SessionRecord {
        digest: <[u8; 32]>::try_from(col::<&[u8]>(r, 0)?).map_err(db_err)?,
        account_id: unsigned(col(r, 1)?)?,
        created_at: from_micros(col(r, 2)?)?,
        expires_at: from_micros(col(r, 3)?)?,
    })
}

fn event_row(r: &Row) -> Result<SecurityEventRecord> {
    Ok(SecurityEventRecord {
        id: unsigned(col(r, 0)?)?,
        time: from_micros(col(r, 1)?)?,
        account_id: col::<Option<i64>>(r, 2)?.map(unsigned).transpose()?,
        username: col(r, 3)?,
        kind: col(r, 4)?,
        detail: col(r, 5)?,
        client: col(r, 6)?,
    })
}

fn attempts_row(r: &Row) -> Result<LoginAttempts> {
    Ok(LoginAttempts {
        failures: col::<i64>(r, 0)?.try_into().unwrap_or(u32::MAX),
        last_failed_at: ts(col(r, 1)?)?,
        locked_until: ts(col(r, 2)?)?,
    })
}

/// The one row, if any, of a statement run in the writer's transaction.
async fn one(c: &ClientWrapper, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
    let st = c.prepare_cached(sql).await.map_err(db_err)?;
    c.query_opt(&st, params).await.map_err(db_err)
}

/// Security events, in one statement; their ids follow their order.
pub(crate) async fn events(c: &ClientWrapper, es: &[NewSecurityEvent]) -> Result<()> {
    if es.is_empty() {
        return Ok(());
    }
    let times: Vec<i64> = es.iter().map(|e| micros(e.time)).collect();
    // An account id past BIGINT names no account: refused by the foreign key in SQLite too.
    let accounts: Vec<Option<i64>> = es
        .iter()
        .map(|e| e.account_id.map(signed).transpose())
        .collect::<Result<_>>()?;
    let usernames: Vec<Option<&str>> = es.iter().map(|e| e.username.as_deref()).collect();
    let kinds: Vec<&str> = es.iter().map(|e| e.kind.as_str()).collect();
    let details: Vec<&str> = es.iter().map(|e| e.detail.as_str()).collect();
    let clients: Vec<Option<&str>> = es.iter().map(|e| e.client.as_deref()).collect();
    let st = c
        .prepare_cached(
            "INSERT INTO security_events (time, account_id, username, kind, detail, client)
             SELECT time, account_id, username, kind, detail, client
             FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])
                  WITH ORDINALITY AS e(time, account_id, username, kind, detail, client, n)
             ORDER BY n",
        )
        .await
        .map_err(db_err)?;
    c.execute(&st, &[&times, &accounts, &usernames, &kinds, &details, &clients])
        .await
        .map_err(db_err)?;
    Ok(())
}

/// A change's security events and its access entry, written in the change's transaction.
pub(crate) async fn record(tx: &mut Tx, es: &[NewSecurityEvent], entry: Option<&Prepared>) -> Result<()> {
    events(tx.c(), es).await?;
    if let Some(e) = entry {
        tx.append(e)?;
    }
    Ok(())
}

async fn get_account(c: &ClientWrapper, id: u64) -> Result<AccountRecord> {
    one(
        c,
        &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = $1"),
        &[&key(id)],
    )
    .await?
    .as_ref()
    .map(account_row)
    .transpose()?
    .ok_or_else(|| Error::new(ErrorCode::AccountNotFound, format!("account {id} does not exist")))
}

/// The account a change returned, or `account_not_found`.
fn changed(row: Option<Row>, id: u64) -> Result<AccountRecord> {
    match row {
        Some(r) => account_row(&r),
        None => Err(Error::new(
            ErrorCode::AccountNotFound,
            format!("account {id} does not exist"),
        )),
    }
}

async fn insert_account(c: &ClientWrapper, a: &NewAccount) -> Result<AccountRecord> {
    let st = c
        .prepare_cached(&format!(
            "INSERT INTO accounts (username, display_name, kind, tenant, password_hash, must_change_password, status, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8)
             RETURNING {ACCOUNT_COLS}"
        ))
        .await
        .map_err(db_err)?;
    let kind = match a.kind {
        AccountKind::Staff => "staff",
        AccountKind::Customer => "customer",
    };
    let res = c
        .query_one(
            &st,
            &[
                &a.username,
                &a.display_name,
                &kind,
                &a.tenant.as_ref().map(|t| t.as_str()),
                &a.password_hash,
                &a.must_change_password,
                &micros(a.created_at),
                &a.created_by,
            ],
        )
        .await;
    match res {
        Err(e) if is_unique_violation(&e) => Err(Error::new(
            ErrorCode::AccountExists,
            format!(
                "the user name `{}` is taken or was used before; user names are never reused",
                a.username
            ),
        )),
        Err(e) => Err(db_err(e)),
        Ok(r) => account_row(&r),
    }
}

async fn change_account(c: &ClientWrapper, id: u64, change: &AccountChange) -> Result<AccountRecord> {
    let row = match change {
        AccountChange::Password { hash, must_change } => {
            one(
                c,
                &format!(
                    "UPDATE accounts SET password_hash = $2, must_change_password = $3 WHERE id = $1 RETURNING {ACCOUNT_COLS}"
                ),
                &[&key(id), hash, must_change],
            )
            .await?
        }
        AccountChange::MustChangePassword => {
            one(
                c,
                &format!("UPDATE accounts SET must_change_password = TRUE WHERE id = $1 RETURNING {ACCOUNT_COLS}"),
                &[&key(id)],
            )
            .await?
        }
        AccountChange::Disabled { disabled, reason } => {
            let status = if *disabled { "disabled" } else { "active" };
            one(
                c,
                &format!(
                    "UPDATE accounts SET status = $2, status_reason = $3 WHERE id = $1 RETURNING {ACCOUNT_COLS}"
                ),
                &[&key(id), &status, reason],
            )
            .await?
        }
        AccountChange::Used { at } => used(c, id, *at).await?,
        AccountChange::Blocked { until, by, reason } => {
            one(
                c,
                &format!(
                    "UPDATE accounts SET blocked_until = $2, blocked_by = $3, blocked_reason = $4 WHERE id = $1 RETURNING {ACCOUNT_COLS}"
                ),
                &[&key(id), &until.map(micros), by, reason],
            )
            .await?
        }
    };
    changed(row, id)
}

/// Note an account's use; the account as it is now, if it exists.
async fn used(c: &ClientWrapper, id: u64, at: Timestamp) -> Result<Option<Row>> {
    one(
        c,
        &format!("UPDATE accounts SET last_used_at = $2 WHERE id = $1 RETURNING {ACCOUNT_COLS}"),
        &[&key(id), &micros(at)],
    )
    .await
}

async fn insert_token(c: &ClientWrapper, t: &NewToken) -> Result<TokenRecord> {
    get_account(c, t.account_id).await?;
    let operations = serde_json::to_string(&t.operations).map_err(db_err)?;
    let purposes = serde_json::to_string(&t.purposes).map_err(db_err)?;
    let row = one(
        c,
        &format!(
            "INSERT INTO api_tokens (id, digest, account_id, tenant, operations, purposes, expires_at, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             RETURNING {TOKEN_COLS}"
        ),
        &[
            &t.id,
            &t.digest.as_slice(),
            &key(t.account_id),
            &t.tenant.as_str(),
            &operations,
            &purposes,
            &micros(t.expires_at),
            &micros(t.created_at),
            &t.created_by,
        ],
    )
    .await?;
    row.as_ref()
        .map(token_row)
        .transpose()?
        .ok_or_else(|| db_err("the token insert returned no row"))
}

#[async_trait::async_trait]
impl AccountStore for PgStore {
    async fn create_account(
        &self,
        a: &NewAccount,
        es: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccountRecord> {
        let entry = entry.map(Prepared::new);
        let (a, mut es) = (a.clone(), es.to_vec());
        self.write(move |tx| {
            Box::pin(async move {
                let account = insert_account(tx.c(), &a).await?;
                for e in &mut es {
                    e.account_id = Some(account.id);
                }
                record(tx, &es, entry.as_ref()).await?;
                Ok(account)
            })
        })
        .await
    }

    async fn account(&self, id: u64) -> Result<Option<AccountRecord>> {
        self.row(
            &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = $1"),
            &[&key(id)],
            account_row,
        )
        .await
    }

    async fn account_by_username(&self, username: &str) -> Result<Option<AccountRecord>> {
        self.row(
            &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE lower(username) = lower($1)"),
            &[&username],
            account_row,
        )
        .await
    }

    async fn accounts(&self, tenant: Option<&CustomerId>) -> Result<Vec<AccountRecord>> {
        match tenant {
            Some(t) => {
                self.rows(
                    &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE tenant = $1 ORDER BY id"),
                    &[&t.as_str()],
                    account_row,
                )
                .await
            }
            None => {
                self.rows(
                    &format!("SELECT {ACCOUNT_COLS} FROM accounts ORDER BY id"),
                    &[],
                    account_row,
                )
                .await
            }
        }
    }

    async fn update_account(
        &self,
        id: u64,
        change: AccountChange,
        es: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccountRecord> {
        let entry = entry.map(Prepared::new);
        let es = es.to_vec();
        self.write(move |tx| {
            Box::pin(async move {
                let account = change_account(tx.c(), id, &change).await?;
                record(tx, &es, entry.as_ref()).await?;
                Ok(account)
            })
        })
        .await
    }

    async fn add_grant(
        &self,
        g: &NewGrant,
        es: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<GrantRecord> {
        let entry = entry.map(Prepared::new);
        let (g, es) = (g.clone(), es.to_vec());
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                get_account(c, g.account_id).await?;
                let row = one(
                    c,
                    &format!(
                        "INSERT INTO grants (account_id, role, tenant, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5)
                         RETURNING {GRANT_COLS}"
                    ),
                    &[
                        &key(g.account_id),
                        &g.role,
                        &g.tenant.as_ref().map(|t| t.as_str()),
                        &g.granted_by,
                        &micros(g.granted_at),
                    ],
                )
                .await?;
                let grant = row
                    .as_ref()
                    .map(grant_row)
                    .transpose()?
                    .ok_or_else(|| db_err("the grant insert returned no row"))?;
                record(tx, &es, entry.as_ref()).await?;
                Ok(grant)
            })
        })
        .await
    }

    async fn revoke_grant(
        &self,
        grant_id: u64,
        by: &str,
        at: Timestamp,
        es: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<GrantRecord> {
        let entry = entry.map(Prepared::new);
        let (by, es) = (by.to_string(), es.to_vec());
        self.write(move |tx| {
            Box::pin(async move {
                let row = one(
                    tx.c(),
                    &format!(
                        "UPDATE grants SET revoked_by = $2, revoked_at = $3 WHERE id = $1 AND revoked_at IS NULL
                         RETURNING {GRANT_COLS}"
                    ),
                    &[&key(grant_id), &by, &micros(at)],
                )
                .await?;
                let Some(row) = row else {
                    return Err(Error::new(
                        ErrorCode::GrantNotFound,
                        format!("grant {grant_id} does not exist or is already revoked"),
                    ));
                };
                let grant = grant_row(&row)?;
                record(tx, &es, entry.as_ref()).await?;
                Ok(grant)
            })
        })
        .await
    }

    async fn grants(
        &self,
        account_id: Option<u64>,
        tenant: Option<&CustomerId>,
        include_revoked: bool,
    ) -> Result<Vec<GrantRecord>> {
        let tenant = tenant.map(|t| t.as_str());
        // The account filter has a query of its own, so that its plan uses the account index.
        match account_id {
            Some(account) => {
                self.rows(
                    &format!(
                        "SELECT {GRANT_COLS} FROM grants
                         WHERE account_id = $1 AND ($2::text IS NULL OR tenant = $2) AND ($3 OR revoked_at IS NULL)
                         ORDER BY id"
                    ),
                    &[&key(account), &tenant, &include_revoked],
                    grant_row,
                )
                .await
            }
            None => {
                self.rows(
                    &format!(
                        "SELECT {GRANT_COLS} FROM grants
                         WHERE ($1::text IS NULL OR tenant = $1) AND ($2 OR revoked_at IS NULL)
                         ORDER BY id"
                    ),
                    &[&tenant, &include_revoked],
                    grant_row,
                )
                .await
            }
        }
    }

    async fn add_security_events(&self, es: &[NewSecurityEvent]) -> Result<()> {
        let es = es.to_vec();
        self.write(move |tx| Box::pin(async move { events(tx.c(), &es).await }))
            .await
    }

    async fn security_events(&self, after_id: u64, limit: usize) -> Result<Vec<SecurityEventRecord>> {
        // Past BIGINT: no id is after it; a limit past BIGINT is no limit.
        let after = i64::try_from(after_id).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.rows(
            "SELECT id, time, account_id, username, kind, detail, client FROM security_events WHERE id > $1 ORDER BY id LIMIT $2",
            &[&after, &limit],
            event_row,
        )
        .await
    }

    async fn create_token(
        &self,
        t: &NewToken,
        es: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<TokenRecord> {
        let entry = entry.map(Prepared::new);
        let (t, es) = (t.clone(), es.to_vec());
        self.write(move |tx| {
            Box::pin(async move {
                let token = insert_token(tx.c(), &t).await?;
                record(tx, &es, entry.as_ref()).await?;
                Ok(token)
            })
        })
        .await
    }

    async fn token_by_digest(&self, digest: [u8; 32]) -> Result<Option<TokenRecord>> {
        self.row(
            &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE digest = $1"),
            &[&digest.as_slice()],
            token_row,
        )
        .await
    }

    async fn tokens(&self, tenant: &CustomerId) -> Result<Vec<TokenRecord>> {
        self.rows(
            &format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE tenant = $1 ORDER BY created_at"),
            &[&tenant.as_str()],
            token_row,
        )
        .await
    }

    async fn revoke_token(
        &self,
        id: &str,
        by: &str,
        at: Timestamp,
        es: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<()> {
        let entry = entry.map(Prepared::new);
        let (id, by, es) = (id.to_string(), by.to_string(), es.to_vec());
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let st = c
                    .prepare_cached(
                        "UPDATE api_tokens SET revoked_at = $2, revoked_by = $3 WHERE id = $1 AND revoked_at IS NULL",
                    )
                    .await
                    .map_err(db_err)?;
                let n = c.execute(&st, &[&id, &micros(at), &by]).await.map_err(db_err)?;
                if n == 0 {
                    return Err(Error::new(
                        ErrorCode::TokenNotFound,
                        format!("token `{id}` does not exist or is already revoked"),
                    ));
                }
                record(tx, &es, entry.as_ref()).await
            })
        })
        .await
    }

    async fn touch_token(&self, id: &str, at: Timestamp) -> Result<()> {
        let id = id.to_string();
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let st = c
                    .prepare_cached("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                    .await
                    .map_err(db_err)?;
                c.execute(&st, &[&id, &micros(at)]).await.map_err(db_err)?;
                Ok(())
            })
        })
        .await
    }

    async fn create_session(&self, s: &SessionRecord) -> Result<()> {
        let s = s.clone();
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let st = c
                    .prepare_cached(
                        "INSERT INTO sessions (digest, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                    )
                    .await
                    .map_err(db_err)?;
                c.execute(
                    &st,
                    &[
                        &s.digest.as_slice(),
                        &signed(s.account_id)?,
                        &micros(s.created_at),
                        &micros(s.expires_at),
                    ],
                )
                .await
                .map_err(db_err)?;
                Ok(())
            })
        })
        .await
    }

    async fn session(&self, digest: [u8; 32]) -> Result<Option<SessionRecord>> {
        self.row(
            "SELECT digest, account_id, created_at, expires_at FROM sessions WHERE digest = $1",
            &[&digest.as_slice()],
            session_row,
        )
        .await
    }

    async fn delete_sessions(&self, digest: Option<[u8; 32]>, account_id: Option<u64>) -> Result<()> {
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let st = c
                    .prepare_cached(
                        "DELETE FROM sessions
                         WHERE ($1::bytea IS NOT NULL AND digest = $1) OR ($2::bigint IS NOT NULL AND account_id = $2)",
                    )
                    .await
                    .map_err(db_err)?;
                c.execute(&st, &[&digest.as_ref().map(|d| d.as_slice()), &account_id.map(key)])
                    .await
                    .map_err(db_err)?;
                Ok(())
            })
        })
        .await
    }

    async fn accounts_unused_since(&self, before: Timestamp) -> Result<Vec<AccountRecord>> {
        self.rows(
            &format!(
                "SELECT {ACCOUNT_COLS} FROM accounts WHERE status = 'active' AND COALESCE(last_used_at, created_at) < $1 ORDER BY id"
            ),
            &[&micros(before)],
            account_row,
        )
        .await
    }

    async fn login_attempts(&self, username: &str) -> Result<LoginAttempts> {
        Ok(self
            .row(
                "SELECT failures, last_failed_at, locked_until FROM login_attempts WHERE lower(username) = lower($1)",
                &[&username],
                attempts_row,
            )
            .await?
            .unwrap_or_default())
    }

    async fn record_login_failure(
        &self,
        username: &str,
        at: Timestamp,
        locked_until: Option<Timestamp>,
        es: &[NewSecurityEvent],
    ) -> Result<LoginAttempts> {
        let (username, es) = (username.to_string(), es.to_vec());
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let row = one(
                    c,
                    "INSERT INTO login_attempts (username, failures, last_failed_at, locked_until) VALUES ($1, 1, $2, $3)
                     ON CONFLICT (lower(username)) DO UPDATE SET failures = login_attempts.failures + 1,
                         last_failed_at = excluded.last_failed_at, locked_until = excluded.locked_until
                     RETURNING failures, last_failed_at, locked_until",
                    &[&username, &micros(at), &locked_until.map(micros)],
                )
                .await?;
                let attempts = row
                    .as_ref()
                    .map(attempts_row)
                    .transpose()?
                    .ok_or_else(|| db_err("the login attempts upsert returned no row"))?;
                events(c, &es).await?;
                Ok(attempts)
            })
        })
        .await
    }

    async fn record_login_success(
        &self,
        account_id: u64,
        username: &str,
        at: Timestamp,
        es: &[NewSecurityEvent],
    ) -> Result<AccountRecord> {
        let (username, es) = (username.to_string(), es.to_vec());
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let st = c
                    .prepare_cached("DELETE FROM login_attempts WHERE lower(username) = lower($1)")
                    .await
                    .map_err(db_err)?;
                c.execute(&st, &[&username]).await.map_err(db_err)?;
                let account = changed(used(c, account_id, at).await?, account_id)?;
                events(c, &es).await?;
                Ok(account)
            })
        })
        .await
    }
}
