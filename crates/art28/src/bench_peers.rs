//! `art28 bench peers`: art28 against what a processor would build instead, on the same
//! records, at the same concurrency, on the same machine: PostgreSQL with pgcrypto and an
//! audit trail (three variants), and OpenBao's transit engine with a file audit device.
//!
//! Every peer reports the same [`Figures`]; the ratios divide art28's figure by the peer's
//! (higher is better for art28).

mod art28;
mod openbao;
mod postgres;

use crate::bench_vault::err;
use serde_json::json;
use std::time::{Duration, Instant};

/// Concurrent writers, as in `art28 bench vault`.
pub(crate) const WRITERS: u64 = 8;
/// Lookups in flight, as in `art28 bench vault`.
pub(crate) const LOOKUPS: u64 = 32;

/// How much each part of the run does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sizes {
    /// Records filled before measuring, spread evenly over the 100 customers: record `k`
    /// belongs to `tenant(k / (records / 100))`, has subject `subject(k)`, e-mail `email(k)`
    /// and values `values(k)` (all from `bench_vault`).
    pub records: u64,
    /// Durable writes measured, from [`WRITERS`] writers: writer `w` writes records
    /// `records + w, records + w + WRITERS, …` (new subjects) for `tenant(w)`.
    pub writes: u64,
    /// Lookups measured, [`LOOKUPS`] in flight: sample `s` looks up `email(k)` for
    /// `k = (s * 104_729) % records` in `tenant(k / (records / 100))` and finds exactly one record.
    pub lookups: u64,
}

impl Sizes {
    pub(crate) fn new(quick: bool) -> Self {
        if quick {
            Self {
                records: 10_000,
                writes: 2_000,
                lookups: 5_000,
            }
        } else {
            Self {
                records: 100_000,
                writes: 16_000,
                lookups: 20_000,
            }
        }
    }

    /// Records per customer.
    pub(crate) fn per_tenant(&self) -> u64 {
        (self.records / 100).max(1)
    }

    /// The record a lookup sample looks up, and the index of its customer.
    pub(crate) fn lookup(&self, s: u64) -> (u64, usize) {
        let k = (s.wrapping_mul(104_729)) % self.records;
        (k, (k / self.per_tenant()) as usize)
    }
}

/// Throughput and latency of one kind of operation.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Timed {
    pub per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// What every peer (and art28) reports.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Figures {
    pub writes: Timed,
    pub lookups: Timed,
    /// Time to make one data subject unreadable.
    pub erase_subject_ms: f64,
    /// Time to make one whole customer (`records / 100` records) unreadable.
    pub erase_customer_ms: f64,
}

impl Figures {
    pub(crate) fn json(&self) -> serde_json::Value {
        json!({
            "writes_per_s": self.writes.per_s,
            "write_p50_ms": self.writes.p50_ms,
            "write_p99_ms": self.writes.p99_ms,
            "lookups_per_s": self.lookups.per_s,
            "lookup_p50_ms": self.lookups.p50_ms,
            "lookup_p99_ms": self.lookups.p99_ms,
            "erase_subject_ms": self.erase_subject_ms,
            "erase_customer_ms": self.erase_customer_ms,
        })
    }
}

/// The value at quantile `q` (0..=1) of `samples`, in milliseconds (sorts them).
pub(crate) fn quantile_ms(samples: &mut [Duration], q: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_unstable();
    let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples[i.min(samples.len() - 1)].as_secs_f64() * 1000.0
}

/// Run `op` for samples `0..samples` from `concurrency` tasks (task `w` takes every
/// `concurrency`-th sample from `w`, in order), timing each call; `op(w, s)` gets the task's
/// number and the sample. Throughput over the whole run, and each call's latency.
pub(crate) async fn timed<F, Fut>(samples: u64, concurrency: u64, op: F) -> Result<Timed, String>
where
    F: Fn(u64, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|w| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut took = Vec::new();
                for s in (w..samples).step_by(concurrency as usize) {
                    let t = Instant::now();
                    op(w, s).await?;
                    took.push(t.elapsed());
                }
                Ok::<_, String>(took)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(samples as usize);
    for t in tasks {
        all.extend(t.await.map_err(err)??);
    }
    let per_s = samples as f64 / start.elapsed().as_secs_f64();
    Ok(Timed {
        per_s,
        p50_ms: quantile_ms(&mut all, 0.50),
        p99_ms: quantile_ms(&mut all, 0.99),
    })
}

/// A free TCP port on loopback (bound and released; the peer binds it next).
pub(crate) fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(err)?;
    Ok(l.local_addr().map_err(err)?.port())
}

/// The whole run: art28 (in process and over HTTP), then each peer, each on its own files
/// under `dir`; ratios of art28's figures to the peers'.
pub async fn bench_peers(dir: &std::path::Path, quick: bool, show: bool) -> Result<serde_json::Value, String> {
    let sizes = Sizes::new(quick);
    let dirs = ["art28", "art28-http", "postgres", "openbao"].map(|d| dir.join(d));
    for d in &dirs {
        std::fs::create_dir_all(d).map_err(err)?;
    }
    let in_process = art28::in_process(&dirs[0], sizes, show).await?;
    let http = art28::http(&dirs[1], sizes, quick, show).await?;
    let postgres = postgres::peer(&dirs[2], sizes, show).await?;
    let openbao = openbao::peer(&dirs[3], sizes, show).await?;
    let ratios = ratios(&in_process, &http, &postgres, &openbao);
    Ok(json!({
        "bench": "peers",
        "quick": quick,
        "sizes": { "records": sizes.records, "writes": sizes.writes, "lookups": sizes.lookups,
                   "writers": WRITERS, "lookups_in_flight": LOOKUPS },
        "ratios": ratios,
        "raw": { "art28_in_process": in_process, "art28_http": http, "postgres": postgres, "openbao": openbao },
    }))
}

/// A figure of a report, if it has it (a skipped peer has none).
fn figure(v: &serde_json::Value, path: &str) -> Option<f64> {
    v.pointer(path)
        .and_then(serde_json::Value::as_f64)
        .filter(|f| f.is_finite() && *f > 0.0)
}

/// art28's figure over the peer's, for every pair both sides have (higher is better for art28;
/// for latency, the peer's over art28's).
fn ratios(
    in_process: &serde_json::Value,
    http: &serde_json::Value,
    postgres: &serde_json::Value,
    openbao: &serde_json::Value,
) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    let mut put = |name: &str, art28: Option<f64>, peer: Option<f64>| {
        if let (Some(a), Some(p)) = (art28, peer) {
            out.insert(name.into(), json!(a / p));
        }
    };
    let (lookups, writes) = (figure(http, "/lookups_per_s"), figure(http, "/writes_per_s"));
    let pg = |variant: &str, what: &str| figure(postgres, &format!("/variants/{variant}/{what}"));
    put(
        "http_lookups_vs_pg_audit_row (goal 2.0)",
        lookups,
        pg("a_audit_row", "lookups_per_s"),
    );
    put(
        "http_writes_vs_pg_audit_row (goal 2.0)",
        writes,
        pg("a_audit_row", "writes_per_s"),
    );
    put(
        "http_lookups_vs_pg_pgaudit (goal 1.0)",
        lookups,
        pg("b_pgaudit", "lookups_per_s"),
    );
    put(
        "http_writes_vs_pg_pgaudit (goal 1.0)",
        writes,
        pg("b_pgaudit", "writes_per_s"),
    );
    put(
        "http_lookups_vs_openbao (goal 2.0)",
        lookups,
        figure(openbao, "/figures/lookups_per_s"),
    );
    put(
        "http_writes_vs_openbao (goal 2.0)",
        writes,
        figure(openbao, "/figures/writes_per_s"),
    );
    put(
        "lookups_32_vs_log_append_ceiling (goal 0.5)",
        figure(in_process, "/lookups_per_s"),
        figure(in_process, "/log_only_appends_per_s_32_concurrent"),
    );
    put(
        "writes_8_vs_raw_row_per_tx (goal 3.0)",
        figure(in_process, "/writes_per_s"),
        figure(in_process, "/raw_sqlite_row_per_tx_per_s"),
    );
    // Latency: lower is better, so the peer's over art28's.
    put(
        "pg_audit_row_lookup_p99_vs_http_lookup_p99 (goal 1.0)",
        pg("a_audit_row", "lookup_p99_ms"),
        figure(http, "/lookup_p99_ms"),
    );
    // For reference, no goal: the ceiling without any audit trail.
    put(
        "http_lookups_vs_pg_no_audit",
        lookups,
        pg("c_no_audit", "lookups_per_s"),
    );
    put("http_writes_vs_pg_no_audit", writes, pg("c_no_audit", "writes_per_s"));
    // And against (a) with pgcrypto's key derivation tuned down to one hash.
    put(
        "http_lookups_vs_pg_audit_row_s2k1",
        lookups,
        pg("d_audit_row_s2k1", "lookups_per_s"),
    );
    put(
        "http_writes_vs_pg_audit_row_s2k1",
        writes,
        pg("d_audit_row_s2k1", "writes_per_s"),
    );
    out
}
