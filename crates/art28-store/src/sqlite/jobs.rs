//! Periodic jobs, roles and pins in SQLite. One server holds a data directory (its lock file), so it
//! leads every role; jobs are leased all the same, so a job's schedule survives restarts.

use super::{SqliteStore, db_err, micros};
use crate::ClusterStore;
use art28_core::Result;
use jiff::Timestamp;
use rusqlite::params;

/// Take the job when it is due and its lease (if any) is ours or has run out.
pub(crate) const CLAIM: &str = "INSERT INTO jobs (name, due_at, holder, lease_until) VALUES (?1, ?3, ?2, ?4)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until
     WHERE jobs.due_at <= ?3 AND (jobs.holder IS NULL OR jobs.holder = ?2 OR jobs.lease_until <= ?3)";

/// Release the job and set when it is due next, if the caller still holds it.
pub(crate) const FINISH: &str =
    "UPDATE jobs SET due_at = ?3, holder = NULL, lease_until = 0 WHERE name = ?1 AND holder = ?2";

#[async_trait::async_trait]
impl ClusterStore for SqliteStore {
    async fn claim_job(&self, name: &str, holder: &str, now: Timestamp, lease_until: Timestamp) -> Result<bool> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.write(move |c| {
            c.prepare_cached(CLAIM)
                .and_then(|mut st| st.execute(params![name, holder, micros(now), micros(lease_until)]))
                .map(|n| n == 1)
                .map_err(db_err)
        })
        .await
    }

    async fn finish_job(&self, name: &str, holder: &str, next: Timestamp) -> Result<bool> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.write(move |c| {
            c.prepare_cached(FINISH)
                .and_then(|mut st| st.execute(params![name, holder, micros(next)]))
                .map(|n| n == 1)
                .map_err(db_err)
        })
        .await
    }

    async fn lead(&self, _role: &str) -> Result<bool> {
        Ok(true)
    }

    async fn pin(&self, name: &str, value: &str, replace: bool) -> Result<String> {
        let (name, value) = (name.to_string(), value.to_string());
        self.write(move |c| {
            let sql = if replace {
                "INSERT INTO pins (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
            } else {
                "INSERT INTO pins (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING"
            };
            c.prepare_cached(sql)
                .and_then(|mut st| st.execute(params![name, value]))
                .and_then(|_| c.query_row("SELECT value FROM pins WHERE name = ?1", [&name], |r| r.get(0)))
                .map_err(db_err)
        })
        .await
    }
}
