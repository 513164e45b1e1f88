//! Accounts, the permission register, security events, API tokens and sessions in SQLite.
//!
//! Roles are stored by their stable names; their meaning lives in `art28-core::auth`. Tokens and
//! session keys are stored only as SHA-256 digests; the secret itself is shown once, by the
//! caller, and never kept.

use super::{SqliteStore, db_err, from_micros, log, micros};
use crate::AccountStore;
use crate::model::*;
use art28_core::access::AccessEntry;
use art28_core::ids::CustomerId;
use art28_core::{Error, ErrorCode, Result};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

pub(crate) fn ts(v: Option<i64>) -> rusqlite::Result<Option<Timestamp>> {
    v.map(from_micros).transpose()
}

pub(crate) fn parse_tenant(s: String) -> rusqlite::Result<CustomerId> {
    s.parse::<CustomerId>()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.message.into()))
}

fn tenant(v: Option<String>) -> rusqlite::Result<Option<CustomerId>> {
    v.map(parse_tenant).transpose()
}

const ACCOUNT_COLS: &str = "id, username, display_name, kind, tenant, password_hash, must_change_password, status, \
    status_reason, created_at, created_by, last_used_at, blocked_until, \
    blocked_by, blocked_reason";

fn account_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccountRecord> {
    let kind: String = r.get(3)?;
    let status: String = r.get(7)?;
    Ok(AccountRecord {
        id: r.get::<_, i64>(0)? as u64,
        username: r.get(1)?,
        display_name: r.get(2)?,
        kind: if kind == "staff" {
            AccountKind::Staff
        } else {
            AccountKind::Customer
        },
        tenant: tenant(r.get(4)?)?,
        password_hash: r.get(5)?,
        must_change_password: r.get::<_, i64>(6)? != 0,
        disabled: status == "disabled",
        status_reason: r.get(8)?,
        created_at: ts(Some(r.get(9)?))?.unwrap_or_default(),
        created_by: r.get(10)?,
        last_used_at: ts(r.get(11)?)?,
        blocked_until: ts(r.get(12)?)?,
        blocked_by: r.get(13)?,
        blocked_reason: r.get(14)?,
    })
}

fn grant_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<GrantRecord> {
    Ok(GrantRecord {
        id: r.get::<_, i64>(0)? as u64,
        account_id: r.get::<_, i64>(1)? as u64,
        role: r.get(2)?,
        tenant: tenant(r.get(3)?)?,
        granted_by: r.get(4)?,
        granted_at: ts(Some(r.get(5)?))?.unwrap_or_default(),
        revoked_by: r.get(6)?,
        revoked_at: ts(r.get(7)?)?,
    })
}

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRecord> {
    let ops: String = r.get(4)?;
    let purposes: String = r.get(5)?;
    let conv =
        |e: serde_json::Error| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e));
    Ok(TokenRecord {
        id: r.get(0)?,
        account_id: r.get::<_, i64>(2)? as u64,
        tenant: parse_tenant(r.get(3)?)?,
        operations: serde_json::from_str(&ops).map_err(conv)?,
        purposes: serde_json::from_str(&purposes).map_err(conv)?,
        expires_at: ts(Some(r.get(6)?))?.unwrap_or_default(),
        created_at: ts(Some(r.get(7)?))?.unwrap_or_default(),
        created_by: r.get(8)?,
        revoked_at: ts(r.get(9)?)?,
        revoked_by: r.get(10)?,
        last_used_at: ts(r.get(11)?)?,
    })
}

fn event(conn: &Connection, e: &NewSecurityEvent) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO security_events (time, account_id, username, kind, detail, client) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut st| {
        st.execute(params![
            micros(e.time),
            e.account_id.map(|i| i as i64),
            e.username,
            e.kind,
            e.detail,
            e.client
        ])
    })
    .map_err(db_err)?;
    Ok(())
}

pub(crate) fn insert_events(conn: &Connection, es: &[NewSecurityEvent]) -> Result<()> {
    events(conn, es)
}

/// A change's security events and its access entry, written in the change's transaction.
pub(crate) fn record(conn: &Connection, es: &[NewSecurityEvent], entry: Option<&log::Prepared>) -> Result<()> {
    events(conn, es)?;
    if let Some(e) = entry {
        log::append(conn, e)?;
    }
    Ok(())
}

pub(crate) fn events(conn: &Connection, es: &[NewSecurityEvent]) -> Result<()> {
    es.iter().try_for_each(|e| event(conn, e))
}

fn unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

fn get_account(conn: &Connection, id: u64) -> Result<AccountRecord> {
    conn.query_row(
        &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = ?1"),
        [id as i64],
        account_row,
    )
    .optional()
    .map_err(db_err)?
    .ok_or_else(|| Error::new(ErrorCode::AccountNotFound, format!("account {id} does not exist")))
}

fn changed(n: usize, what: &str) -> Result<()> {
    if n == 0 {
        Err(Error::new(ErrorCode::AccountNotFound, format!("{what} does not exist")))
    } else {
        Ok(())
    }
}

fn attempts_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LoginAttempts> {
    Ok(LoginAttempts {
        failures: r.get::<_, i64>(0)?.try_into().unwrap_or(u32::MAX),
        last_failed_at: ts(r.get(1)?)?,
        locked_until: ts(r.get(2)?)?,
    })
}

#[async_trait::async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(
        &self,
        a: &NewAccount,
        es: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccountRecord> {
        let entry = entry.map(log::Prepared::new);
        let (a, es) = (a.clone(), es.to_vec());
        self.write(move |conn| {
            let res = conn.execute(
                "INSERT INTO accounts (username, display_name, kind, tenant, password_hash, must_change_password, status, created_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active', ?7, ?8)",
                params![
                    a.username,
                    a.display_name,
                    match a.kind { AccountKind::Staff => "staff", AccountKind::Customer => "customer" },
                    a.tenant.as_ref().map(|t| t.as_str()),
                    a.password_hash,
                    i64::from(a.must_change_password),
                    micros(a.created_at),
                    a.created_by
                ],
            );
            match res {
                Err(e) if unique_violation(&e) => {
                    return Err(Error::new(
                        ErrorCode::AccountExists,
                        format!("the user name `{}` is taken or was used before; user names are never reused", a.username),
                    ));
                }
                Err(e) => return Err(db_err(e)),
                Ok(_) => {}
            }
            let id = conn.last_insert_rowid() as u64;
            let mut es = es;
            for e in &mut es {
                e.account_id = Some(id);
            }
            record(conn, &es, entry.as_ref())?;
            get_account(conn, id)
        })
        .await
    }

    async fn account(&self, id: u64) -> Result<Option<AccountRecord>> {
        self.read_now(move |c| {
            c.prepare_cached(&format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = ?1"))
                .and_then(|mut st| st.query_row([id as i64], account_row).optional())
                .map_err(db_err)
        })
        .await
    }

    async fn account_by_username(&self, username: &str) -> Result<Option<AccountRecord>> {
        let username = username.to_string();
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE username = ?1"),
                [username],
                account_row,
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn accounts(&self, tenant: Option<&CustomerId>) -> Result<Vec<AccountRecord>> {
        let tenant = tenant.cloned();
        self.read(move |c| {
            let (sql, arg) = match &tenant {
                Some(t) => (
                    format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE tenant = ?1 ORDER BY id"),
                    Some(t.as_str().to_string()),
                ),
                None => (format!("SELECT {ACCOUNT_COLS} FROM accounts ORDER BY id"), None),
            };
            let mut st = c.prepare_cached(&sql).map_err(db_err)?;
            let rows = match arg {
                Some(a) => st.query_map([a], account_row),
                None => st.query_map([], account_row),
            }
            .map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn update_account(
        &self,
        id: u64,
        change: AccountChange,
        es: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccountRecord> {
        let entry = entry.map(log::Prepared::new);
        let es = es.to_vec();
        self.write(move |conn| {
            let n = match &change {
                AccountChange::Password { hash, must_change } => conn.execute(
                    "UPDATE accounts SET password_hash = ?2, must_change_password = ?3 WHERE id = ?1",
                    params![id as i64, hash, i64::from(*must_change)],
                ),
                AccountChange::MustChangePassword => conn.execute(
                    "UPDATE accounts SET must_change_password = 1 WHERE id = ?1",
                    [id as i64],
                ),
                AccountChange::Disabled { disabled, reason } => conn.execute(
                    "UPDATE accounts SET status = ?2, status_reason = ?3 WHERE id = ?1",
                    params![id as i64, if *disabled { "disabled" } else { "active" }, reason],
                ),
                AccountChange::Used { at } => conn.execute(
                    "UPDATE accounts SET last_used_at = ?2 WHERE id = ?1",
                    params![id as i64, micros(*at)],
                ),
                AccountChange::Blocked { until, by, reason } => conn.execute(
                    "UPDATE accounts SET blocked_until = ?2, blocked_by = ?3, blocked_reason = ?4 WHERE id = ?1",
                    params![id as i64, until.map(micros), by, reason],
                ),
            }
            .map_err(db_err)?;
            changed(n, &format!("account {id}"))?;
            record(conn, &es, entry.as_ref())?;
            get_account(conn, id)
        })
        .await
    }

    async fn add_grant(
        &self,
        g: &NewGrant,
        es: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<GrantRecord> {
        let entry = entry.map(log::Prepared::new);
        let (g, es) = (g.clone(), es.to_vec());
        self.write(move |conn| {
            get_account(conn, g.account_id)?;
            conn.execute(
                "INSERT INTO grants (account_id, role, tenant, granted_by, granted_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![g.account_id as i64, g.role, g.tenant.as_ref().map(|t| t.as_str()), g.granted_by, micros(g.granted_at)],
            )
            .map_err(db_err)?;
            let id = conn.last_insert_rowid();
            record(conn, &es, entry.as_ref())?;
            conn.query_row("SELECT id, account_id, role, tenant, granted_by, granted_at, revoked_by, revoked_at FROM grants WHERE id = ?1", [id], grant_row)
                .map_err(db_err)
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
        let entry = entry.map(log::Prepared::new);
        let (by, es) = (by.to_string(), es.to_vec());
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE grants SET revoked_by = ?2, revoked_at = ?3 WHERE id = ?1 AND revoked_at IS NULL",
                    params![grant_id as i64, by, micros(at)],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(Error::new(ErrorCode::GrantNotFound, format!("grant {grant_id} does not exist or is already revoked")));
            }
            record(conn, &es, entry.as_ref())?;
            conn.query_row("SELECT id, account_id, role, tenant, granted_by, granted_at, revoked_by, revoked_at FROM grants WHERE id = ?1", [grant_id as i64], grant_row)
                .map_err(db_err)
        })
        .await
    }

    async fn grants(
        &self,
        account_id: Option<u64>,
        tenant: Option<&CustomerId>,
        include_revoked: bool,
    ) -> Result<Vec<GrantRecord>> {
        let tenant = tenant.map(|t| t.as_str().to_string());
        // Plans are fixed at prepare time (QPSG), so the account filter has a query of its own
        // that can use the account index.
        let sql = if account_id.is_some() {
            "SELECT id, account_id, role, tenant, granted_by, granted_at, revoked_by, revoked_at FROM grants
             WHERE account_id = ?1 AND (?2 IS NULL OR tenant = ?2) AND (?3 OR revoked_at IS NULL)
             ORDER BY id"
        } else {
            "SELECT id, account_id, role, tenant, granted_by, granted_at, revoked_by, revoked_at FROM grants
             WHERE ?1 IS NULL AND (?2 IS NULL OR tenant = ?2) AND (?3 OR revoked_at IS NULL)
             ORDER BY id"
        };
        let read = move |c: &Connection| {
            let mut st = c.prepare_cached(sql).map_err(db_err)?;
            let rows = st
                .query_map(
                    params![account_id.map(|i| i as i64), tenant, include_revoked],
                    grant_row,
                )
                .map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        };
        // One account's grants are a handful of rows, read on every authenticated request.
        if account_id.is_some() {
            self.read_now(read).await
        } else {
            self.read(read).await
        }
    }

    async fn add_security_events(&self, es: &[NewSecurityEvent]) -> Result<()> {
        let es = es.to_vec();
        self.write(move |conn| events(conn, &es)).await
    }

    async fn security_events(&self, after_id: u64, limit: usize) -> Result<Vec<SecurityEventRecord>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached("SELECT id, time, account_id, username, kind, detail, client FROM security_events WHERE id > ?1 ORDER BY id LIMIT ?2")
                .map_err(db_err)?;
            let rows = st
                .query_map(params![after_id as i64, limit as i64], |r| {
                    Ok(SecurityEventRecord {
                        id: r.get::<_, i64>(0)? as u64,
                        time: ts(Some(r.get(1)?))?.unwrap_or_default(),
                        account_id: r.get::<_, Option<i64>>(2)?.map(|i| i as u64),
                        username: r.get(3)?,
                        kind: r.get(4)?,
                        detail: r.get(5)?,
                        client: r.get(6)?,
                    })
                })
                .map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn create_token(
        &self,
        t: &NewToken,
        es: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<TokenRecord> {
        let entry = entry.map(log::Prepared::new);
        let (t, es) = (t.clone(), es.to_vec());
        self.write(move |conn| {
            get_account(conn, t.account_id)?;
            conn.execute(
                "INSERT INTO api_tokens (id, digest, account_id, tenant, operations, purposes, expires_at, created_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    t.id,
                    t.digest.as_slice(),
                    t.account_id as i64,
                    t.tenant.as_str(),
                    serde_json::to_string(&t.operations).map_err(db_err)?,
                    serde_json::to_string(&t.purposes).map_err(db_err)?,
                    micros(t.expires_at),
                    micros(t.created_at),
                    t.created_by
                ],
            )
            .map_err(db_err)?;
            record(conn, &es, entry.as_ref())?;
            conn.query_row(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = ?1"), [&t.id], token_row).map_err(db_err)
        })
        .await
    }

    async fn token_by_digest(&self, digest: [u8; 32]) -> Result<Option<TokenRecord>> {
        self.read_now(move |c| {
            c.prepare_cached(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE digest = ?1"))
                .and_then(|mut st| st.query_row([digest.as_slice()], token_row).optional())
                .map_err(db_err)
        })
        .await
    }

    async fn tokens(&self, tenant: &CustomerId) -> Result<Vec<TokenRecord>> {
        let tenant = tenant.as_str().to_string();
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {TOKEN_COLS} FROM api_tokens WHERE tenant = ?1 ORDER BY created_at"
                ))
                .map_err(db_err)?;
            let rows = st.query_map([tenant], token_row).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
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
        let entry = entry.map(log::Prepared::new);
        let (id, by, es) = (id.to_string(), by.to_string(), es.to_vec());
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE api_tokens SET revoked_at = ?2, revoked_by = ?3 WHERE id = ?1 AND revoked_at IS NULL",
                    params![id, micros(at), by],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(Error::new(
                    ErrorCode::TokenNotFound,
                    format!("token `{id}` does not exist or is already revoked"),
                ));
            }
            record(conn, &es, entry.as_ref())
        })
        .await
    }

    async fn touch_token(&self, id: &str, at: Timestamp) -> Result<()> {
        let id = id.to_string();
        self.write(move |conn| {
            conn.execute(
                "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1",
                params![id, micros(at)],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn create_session(&self, s: &SessionRecord) -> Result<()> {
        let s = s.clone();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO sessions (digest, account_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![
                    s.digest.as_slice(),
                    s.account_id as i64,
                    micros(s.created_at),
                    micros(s.expires_at)
                ],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn session(&self, digest: [u8; 32]) -> Result<Option<SessionRecord>> {
        self.read_now(move |c| {
            c.prepare_cached("SELECT digest, account_id, created_at, expires_at FROM sessions WHERE digest = ?1")
                .and_then(|mut st| {
                    st.query_row([digest.as_slice()], |r| {
                        let d: Vec<u8> = r.get(0)?;
                        Ok(SessionRecord {
                            digest: d.try_into().unwrap_or([0; 32]),
                            account_id: r.get::<_, i64>(1)? as u64,
                            created_at: ts(Some(r.get(2)?))?.unwrap_or_default(),
                            expires_at: ts(Some(r.get(3)?))?.unwrap_or_default(),
                        })
                    })
                    .optional()
                })
                .map_err(db_err)
        })
        .await
    }

    async fn delete_sessions(&self, digest: Option<[u8; 32]>, account_id: Option<u64>) -> Result<()> {
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM sessions WHERE (?1 IS NOT NULL AND digest = ?1) OR (?2 IS NOT NULL AND account_id = ?2)",
                params![digest.map(|d| d.to_vec()), account_id.map(|i| i as i64)],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn accounts_unused_since(&self, before: Timestamp) -> Result<Vec<AccountRecord>> {
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {ACCOUNT_COLS} FROM accounts WHERE status = 'active' AND COALESCE(last_used_at, created_at) < ?1 ORDER BY id"
                ))
                .map_err(db_err)?;
            let rows = st.query_map([micros(before)], account_row).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn login_attempts(&self, username: &str) -> Result<LoginAttempts> {
        let username = username.to_string();
        self.read(move |c| {
            Ok(c.query_row(
                "SELECT failures, last_failed_at, locked_until FROM login_attempts WHERE username = ?1",
                [username],
                attempts_row,
            )
            .optional()
            .map_err(db_err)?
            .unwrap_or_default())
        })
        .await
    }

    async fn record_login_failure(
        &self,
        username: &str,
        at: Timestamp,
        locked_until: Option<Timestamp>,
        es: &[NewSecurityEvent],
    ) -> Result<LoginAttempts> {
        let (username, es) = (username.to_string(), es.to_vec());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO login_attempts (username, failures, last_failed_at, locked_until) VALUES (?1, 1, ?2, ?3)
                 ON CONFLICT (username) DO UPDATE SET failures = failures + 1, last_failed_at = excluded.last_failed_at, locked_until = excluded.locked_until",
                params![username, micros(at), locked_until.map(micros)],
            )
            .map_err(db_err)?;
            events(conn, &es)?;
            conn.query_row("SELECT failures, last_failed_at, locked_until FROM login_attempts WHERE username = ?1", [&username], attempts_row)
                .map_err(db_err)
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
        self.write(move |conn| {
            conn.execute("DELETE FROM login_attempts WHERE username = ?1", [&username])
                .map_err(db_err)?;
            let n = conn
                .execute(
                    "UPDATE accounts SET last_used_at = ?2 WHERE id = ?1",
                    params![account_id as i64, micros(at)],
                )
                .map_err(db_err)?;
            changed(n, &format!("account {account_id}"))?;
            events(conn, &es)?;
            get_account(conn, account_id)
        })
        .await
    }
}

const TOKEN_COLS: &str = "id, digest, account_id, tenant, operations, purposes, expires_at, created_at, created_by, revoked_at, revoked_by, last_used_at";
