//! Ledger benchmarks: hashing and appending, proofs on large in-memory trees, and the offline
//! verification of a bundle. `ART28_BENCH_10M=1` adds a 10-million-leaf tree (about 640 MiB).

use std::hint::black_box;

use art28_ledger::{Bundle, Frontier, MemoryTree, consistency_proof, inclusion_proof, leaf_hash, verify_bundle};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// A typical access-log entry: about 200 bytes of canonical JSON.
fn entry(i: u64) -> Vec<u8> {
    format!(
        "{{\"access_id\":\"{i:016x}\",\"at\":\"2026-11-22T10:00:00Z\",\"actor\":\"staff:alice\",\"tenant\":\"t-42\",\"decision\":\"granted\",\"purpose\":\"support_ticket\",\"activity\":\"record.read\",\"ticket\":\"T-{i}\"}}"
    )
    .into_bytes()
}

fn tree(n: u64) -> MemoryTree {
    let mut t = MemoryTree::new();
    for i in 0..n {
        t.push(leaf_hash(&i.to_be_bytes()));
    }
    t
}

fn hashing_and_append(c: &mut Criterion) {
    let mut g = c.benchmark_group("append");
    let e = entry(7);
    g.throughput(Throughput::Elements(1));
    g.bench_function("leaf_hash_200B", |b| b.iter(|| leaf_hash(black_box(&e))));

    const BATCH: u64 = 10_000;
    let leaves: Vec<_> = (0..BATCH).map(|i| leaf_hash(&entry(i))).collect();
    g.throughput(Throughput::Elements(BATCH));
    g.bench_function("frontier_append_10k", |b| {
        b.iter_batched(
            Frontier::new,
            |mut f| {
                for l in &leaves {
                    black_box(f.append(*l));
                }
                f.root()
            },
            BatchSize::SmallInput,
        )
    });
    // The same without a Vec per leaf, keeping only every fourth level as the SQLite store
    // does (what a fold now collects).
    g.bench_function("frontier_append_with_10k", |b| {
        b.iter_batched(
            Frontier::new,
            |mut f| {
                let mut kept = Vec::new();
                for l in &leaves {
                    f.append_with(*l, |level, index, hash| {
                        if level > 0 && level.is_multiple_of(4) {
                            kept.push((level, index, hash));
                        }
                    });
                }
                black_box(kept);
                f.root()
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("hash_and_append_10k", |b| {
        let entries: Vec<_> = (0..BATCH).map(entry).collect();
        b.iter_batched(
            Frontier::new,
            |mut f| {
                for e in &entries {
                    black_box(f.append(leaf_hash(e)));
                }
                f.root()
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn proofs(c: &mut Criterion) {
    let mut sizes = vec![1_000_000u64];
    if std::env::var_os("ART28_BENCH_10M").is_some() {
        sizes.push(10_000_000);
    }
    for n in sizes {
        let t = tree(n);
        let mut g = c.benchmark_group(format!("proofs_{n}"));
        let mut i = 0u64;
        g.bench_function("inclusion_proof", |b| {
            b.iter(|| {
                i = (i + 7_919) % n;
                inclusion_proof(black_box(i), n, &t)
            })
        });
        let mut old = 1u64;
        g.bench_function("consistency_proof", |b| {
            b.iter(|| {
                old = (old + 104_729) % n + 1;
                consistency_proof(black_box(old), n, &t)
            })
        });
        g.bench_function("root", |b| b.iter(|| art28_ledger::root(black_box(n - 1), &t)));
        g.finish();
    }
}

fn bundle_verification(c: &mut Criterion) {
    const N: u64 = 1_000_000;
    const ENTRIES: u64 = 100;
    let mut t = MemoryTree::new();
    for i in 0..N {
        t.push(leaf_hash(&entry(i)));
    }
    let Ok(signer) = art28_ledger::LogSigner::from_bytes("bench.example/log", &[1; 32]) else {
        return;
    };
    let cp = signer.checkpoint(N, t.root());
    let note = signer.sign(&cp);
    let Ok(old_root) = t.root_at(N / 2) else {
        return;
    };
    let old = signer.checkpoint(N / 2, old_root);
    let old_note = signer.sign(&old);
    let picked = (0..ENTRIES).map(|k| k * (N / ENTRIES) + 3).map(|i| (i, entry(i)));
    let Ok(mut bundle) = Bundle::build(&cp, &note, picked, &t) else {
        return;
    };
    if bundle.add_consistency(&old, &old_note, N, &t).is_err() {
        return;
    }
    let key = signer.verifier();
    let json = bundle.to_json();
    let mut g = c.benchmark_group("bundle");
    g.throughput(Throughput::Elements(ENTRIES));
    g.bench_function("verify_100_entries_of_1M", |b| {
        b.iter(|| verify_bundle(black_box(&bundle), &key, Some(&old_note)).is_ok())
    });
    g.bench_function("parse_and_verify_100_entries_of_1M", |b| {
        b.iter(|| {
            Bundle::from_json(black_box(&json))
                .map(|b| verify_bundle(&b, &key, Some(&old_note)).is_ok())
                .unwrap_or(false)
        })
    });
    g.finish();
}

criterion_group!(benches, hashing_and_append, proofs, bundle_verification);
criterion_main!(benches);
