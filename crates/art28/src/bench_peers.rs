//! `art28 bench peers`: art28 against what a processor would build instead, on the same
//! records, at the same concurrency, on the same machine: PostgreSQL with pgcrypto and an
//! audit trail (three variants), and OpenBao's transit engine with a file audit device.
//!
//! Every peer reports the same [`Figures`]; the ratios divide art28's figure by the peer's
//! (higher is better for art28).

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
    let pg_dir = dir.join("postgres");
    let bao_dir = dir.join("openbao");
    for d in [&pg_dir, &bao_dir] {
        std::fs::create_dir_all(d).map_err(err)?;
    }
    let postgres = postgres::peer(&pg_dir, sizes, show).await?;
    let openbao = openbao::peer(&bao_dir, sizes, show).await?;
    Ok(json!({
        "bench": "peers",
        "quick": quick,
        "sizes": { "records": sizes.records, "writes": sizes.writes, "lookups": sizes.lookups,
                   "writers": WRITERS, "lookups_in_flight": LOOKUPS },
        "ratios": {},
        "raw": { "postgres": postgres, "openbao": openbao },
    }))
}
