//! `art28 bench`: the report a user (or CI) reads, and a refusal of a bad directory.

use crate::{art28, stderr, stdout};

#[test]
fn bench_log_quick_json_prints_one_object_with_every_goal_as_a_ratio() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = art28()
        .args(["bench", "log", "--quick", "--json", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(out.status.success(), "bench failed: {}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.trim().lines().count(), 1, "one JSON object on one line: {text}");
    let report: serde_json::Value = serde_json::from_str(text.trim()).expect("JSON");
    assert_eq!(report["bench"], "log");
    assert_eq!(report["quick"], true);
    let ratios = report["ratios"].as_object().expect("ratios");
    for goal in [
        "append_8_vs_raw_row_per_tx (goal 5)",
        "append_8_vs_raw_batch_1000 (goal 0.5)",
        "verify_vs_sha256sum (goal 0.5)",
        "inclusion_proof_100000_under_1ms",
    ] {
        let r = ratios.get(goal).and_then(serde_json::Value::as_f64);
        assert!(r.is_some_and(|r| r.is_finite() && r > 0.0), "{goal}: {r:?}");
    }
    // Each ratio comes from figures of the same run. Against 1,000-row transactions it is the
    // median of the rounds' own ratios, each round measuring both sides.
    let raw = &report["raw"];
    let per_s = |k: &str| raw[k].as_f64().unwrap_or_else(|| panic!("{k} missing"));
    let rounds = raw["append_rounds"].as_array().expect("rounds");
    assert_eq!(rounds.len(), 3);
    let mut round_ratios: Vec<f64> = rounds
        .iter()
        .map(|r| {
            let art28 = r["art28_appends_per_s_including_fold"].as_f64().expect("art28");
            let raw = r["raw_sqlite_batch_1000_per_s"].as_f64().expect("raw");
            assert!(art28 > 0.0 && raw > 0.0, "{r}");
            art28 / raw
        })
        .collect();
    round_ratios.sort_by(f64::total_cmp);
    let batch = ratios["append_8_vs_raw_batch_1000 (goal 0.5)"].as_f64().expect("ratio");
    assert!(
        (batch - round_ratios[1]).abs() < 1e-9 * batch.max(1.0),
        "{batch} is not the median of {round_ratios:?}"
    );
    assert!(per_s("art28_appends_per_s_including_fold") > 0.0);
    assert!(per_s("art28_table_batch_1000_per_s") > 0.0);
    // The writer's group commits: every round reports how many entries they held, for both
    // windows. No commit holds more than the writer takes at once (1,024 jobs).
    for r in rounds {
        for k in ["art28_entries_per_commit", "art28_8x256_entries_per_commit"] {
            let n = r[k].as_f64().unwrap_or_else(|| panic!("{k} missing in {r}"));
            assert!((1.0..=1024.0).contains(&n), "{k}: {n}");
        }
    }
    assert!(
        ratios["append_8x256_vs_raw_batch_1000"]
            .as_f64()
            .is_some_and(|r| r > 0.0)
    );
    // The scratch databases are removed afterwards.
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

#[test]
fn bench_refuses_a_directory_it_cannot_write_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, "x").expect("write");
    for bench in ["log", "peers"] {
        let out = art28()
            .args(["bench", bench, "--quick", "--json", "--dir"])
            .arg(&file)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("cannot create a directory in"),
            "{}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty());
    }
}

/// On PostgreSQL (the throwaway cluster scripts/test starts): both benches report their
/// figures and ratios against raw PostgreSQL, and drop the scratch databases they made.
#[tokio::test]
async fn bench_on_postgres_reports_figures_and_ratios_against_raw_postgres() {
    let server = crate::pg::server();
    let positive = |v: &serde_json::Value, k: &str| {
        let x = v[k].as_f64();
        assert!(x.is_some_and(|x| x.is_finite() && x > 0.0), "{k}: {x:?} in {v}");
    };
    for (bench, ratios, figures) in [
        (
            "log",
            &[
                "append_8_vs_raw_pg_row_per_tx",
                "append_8_vs_raw_pg_batch_1000",
                "append_2_nodes_vs_1_node",
            ][..],
            &[
                "art28_appends_per_s_including_fold",
                "art28_2_nodes_appends_per_s_including_fold",
                "art28_entries_per_commit",
                "raw_pg_row_per_tx_per_s",
                "raw_pg_batch_1000_per_s",
            ][..],
        ),
        (
            "vault",
            &[
                "writes_8_vs_raw_pg_row_per_tx (goal 1.0)",
                "logged_lookups_8_20000_vs_raw_pg_lookup_with_audit_row (goal 1.0)",
                "writes_8_2_nodes_vs_1_node",
                "logged_reads_8_vs_raw_pg_row_per_tx",
            ][..],
            &[
                "raw_pg_row_per_tx_per_s",
                "vault_writes_per_s_8_writers",
                "vault_writes_per_s_8_writers_2_nodes",
                "raw_pg_lookups_with_audit_row_per_s",
                "vault_lookups_per_s_8_concurrent",
            ][..],
        ),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = art28()
            .args(["bench", bench, "--quick", "--json", "--database", &server, "--dir"])
            .arg(dir.path())
            .output()
            .expect("run");
        assert!(out.status.success(), "bench {bench} failed: {}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(text.trim().lines().count(), 1, "one JSON object on one line: {text}");
        let report: serde_json::Value = serde_json::from_str(text.trim()).expect("JSON");
        assert_eq!(report["bench"], bench);
        assert_eq!(report["database"], "postgres");
        assert_eq!(report["server"]["synchronous_commit"], "on", "{report}");
        for k in ratios {
            positive(&report["ratios"], k);
        }
        for k in figures {
            positive(&report["raw"], k);
        }
        let rounds = if bench == "log" {
            "append_rounds"
        } else {
            "write_rounds"
        };
        assert_eq!(report["raw"][rounds].as_array().map(Vec::len), Some(3), "{report}");
    }
    // No scratch database of this run is left on the server.
    let (client, conn) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
        .await
        .expect("connect");
    let conn = tokio::spawn(conn);
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'art28\\_bench\\_%'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(left, 0, "scratch databases left behind");
    drop(client);
    let _ = conn.await;
}

/// `art28 bench peers`: art28 and every peer (PostgreSQL in three variants, OpenBao) report the
/// same figures on the same records, every goal is a ratio of two of them, each peer's audit
/// trail really recorded the run, and nothing the bench started outlives it.
#[test]
fn bench_peers_quick_measures_art28_and_every_peer_and_leaves_nothing_running() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = art28()
        .args(["bench", "peers", "--quick", "--json", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(out.status.success(), "bench failed: {}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(report["bench"], "peers");
    let raw = &report["raw"];
    let positive = |v: &serde_json::Value, k: &str| {
        let x = v[k].as_f64();
        assert!(x.is_some_and(|x| x.is_finite() && x > 0.0), "{k}: {x:?} in {v}");
        x.unwrap_or_default()
    };
    let every = [
        "writes_per_s",
        "write_p50_ms",
        "write_p99_ms",
        "lookups_per_s",
        "lookup_p50_ms",
        "lookup_p99_ms",
    ];
    let erasures = ["erase_subject_ms", "erase_customer_ms"];
    let peers = [
        &raw["art28_in_process"],
        &raw["postgres"]["variants"]["a_audit_row"],
        &raw["postgres"]["variants"]["b_pgaudit"],
        &raw["postgres"]["variants"]["c_no_audit"],
        &raw["openbao"]["figures"],
    ];
    for v in peers {
        for k in every.iter().chain(&erasures) {
            positive(v, k);
        }
        assert!(positive(v, "write_p50_ms") <= positive(v, "write_p99_ms"), "{v}");
    }
    for k in every {
        positive(&raw["art28_http"], k);
    }
    // The audit trails: one row per write and lookup (and per erasure) in variant (a), pgaudit's
    // lines in the server's log in (b), OpenBao's file audit device.
    let sizes = &report["sizes"];
    let (writes, lookups) = (positive(sizes, "writes"), positive(sizes, "lookups"));
    let a = &raw["postgres"]["variants"]["a_audit_row"];
    assert_eq!(a["audit_rows"].as_f64(), Some(writes + lookups + 2.0), "{a}");
    positive(&raw["postgres"]["variants"]["b_pgaudit"], "pgaudit_log_bytes");
    positive(&raw["openbao"], "audit_log_bytes");
    // art28's writes shared commits.
    assert!(positive(&raw["art28_in_process"], "write_jobs_per_commit") >= 1.0);
    let ratios = report["ratios"].as_object().expect("ratios");
    for goal in [
        "http_lookups_vs_pg_audit_row (goal 2.0)",
        "http_writes_vs_pg_audit_row (goal 2.0)",
        "http_lookups_vs_pg_pgaudit (goal 1.0)",
        "http_writes_vs_pg_pgaudit (goal 1.0)",
        "http_lookups_vs_openbao (goal 2.0)",
        "http_writes_vs_openbao (goal 2.0)",
        "lookups_32_vs_log_append_ceiling (goal 0.5)",
        "writes_8_vs_raw_row_per_tx (goal 3.0)",
        "pg_audit_row_lookup_p99_vs_http_lookup_p99 (goal 1.0)",
    ] {
        let r = ratios.get(goal).and_then(serde_json::Value::as_f64);
        assert!(r.is_some_and(|r| r.is_finite() && r > 0.0), "{goal}: {r:?}");
    }
    let http = positive(&raw["art28_http"], "lookups_per_s");
    let pg_a = positive(a, "lookups_per_s");
    let r = ratios["http_lookups_vs_pg_audit_row (goal 2.0)"]
        .as_f64()
        .unwrap_or_default();
    assert!((r - http / pg_a).abs() < 1e-9 * r, "{r} is not {http} / {pg_a}");
    // Everything it started is stopped, and its files are gone.
    let dir_name = dir.path().to_string_lossy().to_string();
    for p in std::fs::read_dir("/proc").expect("proc").flatten() {
        if let Ok(cmd) = std::fs::read(p.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            assert!(!cmd.contains(&dir_name), "still running: {cmd}");
        }
    }
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}
