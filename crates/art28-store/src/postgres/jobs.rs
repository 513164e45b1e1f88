//! Periodic jobs, roles and pins in PostgreSQL, for several nodes on one database.
//!
//! Jobs are rows leased with one statement each (no log entry, so not through the writer).
//! Roles are session advisory locks held on a connection of their own: the node that holds
//! the lock leads; when it stops or dies its connection closes, PostgreSQL releases the lock,
//! and the next node to ask takes it (the server asks every second).

use super::{PgStore, db_err, micros};
use crate::ClusterStore;
use art28_core::Result;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

const CLAIM: &str = "INSERT INTO jobs (name, due_at, holder, lease_until) VALUES ($1, $3, $2, $4)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until
     WHERE jobs.due_at <= $3 AND (jobs.holder IS NULL OR jobs.holder = $2 OR jobs.lease_until <= $3)";

const FINISH: &str = "UPDATE jobs SET due_at = $3, holder = NULL, lease_until = 0 WHERE name = $1 AND holder = $2";

/// The advisory lock key of a role: the first 8 bytes of SHA-256 over `art28 role <role>`.
fn role_key(role: &str) -> i64 {
    let digest = Sha256::digest(format!("art28 role {role}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(b)
}

/// The connection that holds this node's roles, and which it holds.
pub(crate) struct Leader {
    client: tokio_postgres::Client,
    held: std::collections::BTreeSet<String>,
}

#[async_trait::async_trait]
impl ClusterStore for PgStore {
    async fn claim_job(&self, name: &str, holder: &str, now: Timestamp, lease_until: Timestamp) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(CLAIM).await.map_err(db_err)?;
        let n = c
            .execute(&st, &[&name, &holder, &micros(now), &micros(lease_until)])
            .await
            .map_err(db_err)?;
        Ok(n == 1)
    }

    async fn finish_job(&self, name: &str, holder: &str, next: Timestamp) -> Result<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(FINISH).await.map_err(db_err)?;
        let n = c.execute(&st, &[&name, &holder, &micros(next)]).await.map_err(db_err)?;
        Ok(n == 1)
    }

    async fn lead(&self, role: &str) -> Result<bool> {
        let mut slot = self.inner.leader.lock().await;
        // A connection that broke took its locks with it.
        if slot.as_ref().is_some_and(|l| l.client.is_closed()) {
            tracing::warn!(roles = ?slot.as_ref().map(|l| &l.held), "lost the connection holding this node's roles");
            *slot = None;
        }
        if slot.is_none() {
            let (client, conn) = self.inner.config.connect(tokio_postgres::NoTls).await.map_err(db_err)?;
            tokio::spawn(conn);
            *slot = Some(Leader {
                client,
                held: Default::default(),
            });
        }
        let Some(leader) = slot.as_mut() else {
            return Ok(false);
        };
        if leader.held.contains(role) {
            // Still connected? A query that fails means the session, and its locks, are gone.
            if let Err(e) = leader.client.simple_query("SELECT 1").await {
                tracing::warn!(error = %e, role, "the connection holding a role failed");
                *slot = None;
                return Ok(false);
            }
            return Ok(true);
        }
        let got: bool = leader
            .client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&role_key(role)])
            .await
            .and_then(|r| r.try_get(0))
            .map_err(db_err)?;
        if got {
            tracing::info!(role, "this node now leads");
            leader.held.insert(role.to_string());
        }
        Ok(got)
    }

    async fn pin(&self, name: &str, value: &str, replace: bool) -> Result<String> {
        let c = self.client().await?;
        let sql = if replace {
            "INSERT INTO pins (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value RETURNING value"
        } else {
            // DO UPDATE with the stored value, so that RETURNING gives it back.
            "INSERT INTO pins (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = pins.value RETURNING value"
        };
        let st = c.prepare_cached(sql).await.map_err(db_err)?;
        c.query_one(&st, &[&name, &value])
            .await
            .and_then(|r| r.try_get(0))
            .map_err(db_err)
    }
}
