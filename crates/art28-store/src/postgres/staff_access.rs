//! Staff access grants in PostgreSQL: time-bound, with a reason and a ticket, approved at once
//! or by the customer; every change records its security events and its access entry in the
//! same transaction.

use super::accounts::{key, record, ts};
use super::{PgStore, col, db_err, from_micros, micros, parse, unsigned};
use crate::StaffAccessStore;
use crate::model::*;
use crate::sqlite::log::Prepared;
use art28_core::access::AccessEntry;
use art28_core::ids::CustomerId;
use art28_core::{Error, ErrorCode, Result};
use jiff::Timestamp;
use tokio_postgres::Row;

const GRANT_COLS: &str =
    "id, account_id, username, tenant, reason, ticket, requested_at, ends_at, status, decided_by, decided_at";

fn access_grant_row(r: &Row) -> Result<AccessGrantRecord> {
    let status: &str = col(r, 8)?;
    Ok(AccessGrantRecord {
        id: unsigned(col(r, 0)?)?,
        account_id: unsigned(col(r, 1)?)?,
        username: col(r, 2)?,
        tenant: parse(col::<&str>(r, 3)?)?,
        reason: col(r, 4)?,
        ticket: col(r, 5)?,
        requested_at: from_micros(col(r, 6)?)?,
        ends_at: from_micros(col(r, 7)?)?,
        status: match status {
            "requested" => AccessGrantStatus::Requested,
            "approved" => AccessGrantStatus::Approved,
            "rejected" => AccessGrantStatus::Rejected,
            _ => AccessGrantStatus::Revoked,
        },
        decided_by: col(r, 9)?,
        decided_at: ts(col(r, 10)?)?,
    })
}

#[async_trait::async_trait]
impl StaffAccessStore for PgStore {
    async fn create_access_grant(
        &self,
        g: &NewAccessGrant,
        es: &[NewSecurityEvent],
        entry: Option<&AccessEntry>,
    ) -> Result<AccessGrantRecord> {
        let entry = entry.map(Prepared::new);
        let (g, es) = (g.clone(), es.to_vec());
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let st = c
                    .prepare_cached(&format!(
                        "INSERT INTO access_grants (account_id, username, tenant, reason, ticket, requested_at, ends_at, status, decided_by, decided_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                         RETURNING {GRANT_COLS}"
                    ))
                    .await
                    .map_err(db_err)?;
                let row = c
                    .query_one(
                        &st,
                        &[
                            &key(g.account_id),
                            &g.username,
                            &g.tenant.as_str(),
                            &g.reason,
                            &g.ticket,
                            &micros(g.requested_at),
                            &micros(g.ends_at),
                            &g.status.as_str(),
                            &g.decided_by,
                            &g.decided_by.as_ref().map(|_| micros(g.requested_at)),
                        ],
                    )
                    .await
                    .map_err(db_err)?;
                let grant = access_grant_row(&row)?;
                record(tx, &es, entry.as_ref()).await?;
                Ok(grant)
            })
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
        let entry = entry.map(Prepared::new);
        let (by, es) = (by.to_string(), es.to_vec());
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let st = c
                    .prepare_cached(&format!(
                        "UPDATE access_grants SET status = $3, decided_by = $4, decided_at = $5 WHERE id = $1 AND status = $2
                         RETURNING {GRANT_COLS}"
                    ))
                    .await
                    .map_err(db_err)?;
                let row = c
                    .query_opt(&st, &[&key(id), &from.as_str(), &to.as_str(), &by, &micros(at)])
                    .await
                    .map_err(db_err)?;
                let Some(row) = row else {
                    return Err(Error::new(
                        ErrorCode::AccessGrantNotFound,
                        format!("access grant {id} does not exist or is not {}", from.as_str()),
                    ));
                };
                let grant = access_grant_row(&row)?;
                record(tx, &es, entry.as_ref()).await?;
                Ok(grant)
            })
        })
        .await
    }

    async fn access_grants(
        &self,
        tenant: Option<&CustomerId>,
        account_id: Option<u64>,
    ) -> Result<Vec<AccessGrantRecord>> {
        self.rows(
            &format!(
                "SELECT {GRANT_COLS} FROM access_grants
                 WHERE ($1::text IS NULL OR tenant = $1) AND ($2::bigint IS NULL OR account_id = $2) ORDER BY id"
            ),
            &[&tenant.map(|t| t.as_str()), &account_id.map(key)],
            access_grant_row,
        )
        .await
    }
}
