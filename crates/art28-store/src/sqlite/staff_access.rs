//! Staff access grants in SQLite: time-bound, with a reason and a ticket, approved at once or by
//! the customer; every change records its security events in the same transaction.

use super::accounts::record;
use super::accounts::{parse_tenant, ts};
use super::log;
use super::{SqliteStore, db_err, micros};
use crate::StaffAccessStore;
use crate::model::*;
use art28_core::access::AccessEntry;
use art28_core::ids::CustomerId;
use art28_core::{Error, ErrorCode, Result};
use jiff::Timestamp;
use rusqlite::params;

const GRANT_COLS: &str =
    "id, account_id, username, tenant, reason, ticket, requested_at, ends_at, status, decided_by, decided_at";

fn access_grant_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccessGrantRecord> {
    let status: String = r.get(8)?;
    Ok(AccessGrantRecord {
        id: r.get::<_, i64>(0)? as u64,
        account_id: r.get::<_, i64>(1)? as u64,
        username: r.get(2)?,
        tenant: parse_tenant(r.get(3)?)?,
        reason: r.get(4)?,
        ticket: r.get(5)?,
        requested_at: ts(Some(r.get(6)?))?.unwrap_or_default(),
        ends_at: ts(Some(r.get(7)?))?.unwrap_or_default(),
        status: match status.as_str() {
            "requested" => AccessGrantStatus::Requested,
            "approved" => AccessGrantStatus::Approved,
            "rejected" => AccessGrantStatus::Rejected,
            _ => AccessGrantStatus::Revoked,
        },
        decided_by: r.get(9)?,
        decided_at: ts(r.get(10)?)?,
    })
}

#[async_trait::async_trait]
impl StaffAccessStore for SqliteStore {
    async fn create_access_grant(
        &self,
        g: &NewAccessGrant,
        es: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccessGrantRecord> {
        let entry = entry.map(log::Prepared::new);
        let (g, es) = (g.clone(), es.to_vec());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO access_grants (account_id, username, tenant, reason, ticket, requested_at, ends_at, status, decided_by, decided_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    g.account_id as i64,
                    g.username,
                    g.tenant.as_str(),
                    g.reason,
                    g.ticket,
                    micros(g.requested_at),
                    micros(g.ends_at),
                    g.status.as_str(),
                    g.decided_by,
                    g.decided_by.as_ref().map(|_| micros(g.requested_at))
                ],
            )
            .map_err(db_err)?;
            let id = conn.last_insert_rowid();
            record(conn, &es, entry.as_ref())?;
            conn.query_row(&format!("SELECT {GRANT_COLS} FROM access_grants WHERE id = ?1"), [id], access_grant_row).map_err(db_err)
        })
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn decide_access_grant(
        &self,
        id: u64,
        from: AccessGrantStatus,
        to: AccessGrantStatus,
        by: &str,
        at: Timestamp,
        es: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccessGrantRecord> {
        let entry = entry.map(log::Prepared::new);
        let (by, es) = (by.to_string(), es.to_vec());
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE access_grants SET status = ?3, decided_by = ?4, decided_at = ?5 WHERE id = ?1 AND status = ?2",
                    params![id as i64, from.as_str(), to.as_str(), by, micros(at)],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(Error::new(
                    ErrorCode::AccessGrantNotFound,
                    format!("access grant {id} does not exist or is not {}", from.as_str()),
                ));
            }
            record(conn, &es, entry.as_ref())?;
            conn.query_row(&format!("SELECT {GRANT_COLS} FROM access_grants WHERE id = ?1"), [id as i64], access_grant_row).map_err(db_err)
        })
        .await
    }

    async fn access_grants(
        &self,
        tenant: Option<&CustomerId>,
        account_id: Option<u64>,
    ) -> Result<Vec<AccessGrantRecord>> {
        let tenant = tenant.map(|t| t.as_str().to_string());
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {GRANT_COLS} FROM access_grants WHERE (?1 IS NULL OR tenant = ?1) AND (?2 IS NULL OR account_id = ?2) ORDER BY id"
                ))
                .map_err(db_err)?;
            let rows = st.query_map(params![tenant, account_id.map(|i| i as i64)], access_grant_row).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }
}
