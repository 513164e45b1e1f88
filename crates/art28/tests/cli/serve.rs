use crate::{art28, stderr};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

const ERP: &str = include_str!("../../../../examples/agreements/erp-integrator-klant.toml");

pub struct Running {
    pub child: Child,
    pub base: String,
    pub token: String,
}

/// Start `art28 serve` on a free port and wait for its "listening" line.
pub fn serve(dir: &Path, extra: &[&str]) -> Running {
    serve_with_env(dir, extra, &[])
}

/// [`serve`] with extra `ART28_*` settings in the environment.
pub fn serve_with_env(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Running {
    serve_reading(dir, extra, env).0
}

/// [`serve_with_env`], keeping the rest of standard output to read.
pub fn serve_reading(
    dir: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Running, BufReader<std::process::ChildStdout>) {
    let mut child = art28()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .envs(env.iter().copied())
        .env("ART28_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    out.read_line(&mut line).expect("read");
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let token = std::fs::read_to_string(dir.join("operator.token"))
        .expect("token")
        .trim()
        .to_string();
    (Running { child, base, token }, out)
}

/// The example with its top-level `version` set.
fn with_version(text: &str, version: u32) -> String {
    let mut done = false;
    text.lines()
        .map(|l| {
            if !done && l.starts_with("version = ") {
                done = true;
                format!("version = {version}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn kill(r: &mut Running, signal: &str) -> std::process::ExitStatus {
    let status = std::process::Command::new("kill")
        .args([signal, &r.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    r.child.wait().expect("wait")
}

#[tokio::test]
async fn serves_the_demo_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut r = serve(dir.path(), &["--demo"]);
    let client = reqwest::Client::new();
    let customers: serde_json::Value = client
        .get(format!("{}/api/v1/customers", r.base))
        .bearer_auth(&r.token)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(customers.as_array().map(Vec::len), Some(3));
    let unauth = client
        .post(format!("{}/api/v1/agreements", r.base))
        .body(ERP)
        .send()
        .await
        .expect("send");
    assert_eq!(unauth.status(), 401);
    let status = kill(&mut r, "-TERM");
    assert!(status.success(), "graceful exit on SIGTERM: {status:?}");
}

#[tokio::test]
async fn kill_9_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().expect("tmp");
    let client = reqwest::Client::new();
    let mut acknowledged = Vec::new();
    for round in 1..=4u32 {
        let mut r = serve(dir.path(), &[]);
        // Everything acknowledged before is there after the crash.
        let versions: serde_json::Value = client
            .get(format!("{}/api/v1/agreements/erp-integrator-klant/versions", r.base))
            .bearer_auth(&r.token)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        let seen: Vec<u64> = versions
            .as_array()
            .map(|a| a.iter().filter_map(|v| v["version"].as_u64()).collect())
            .unwrap_or_default();
        assert_eq!(seen, acknowledged, "round {round}");
        // Write a new version, and kill -9 right after the acknowledgement, with more writes in flight.
        let text = with_version(ERP, round);
        let resp = client
            .post(format!("{}/api/v1/agreements", r.base))
            .bearer_auth(&r.token)
            .header("content-type", "application/toml")
            .body(text)
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 201, "round {round}");
        acknowledged.push(u64::from(round));
        for extra in 0..3 {
            let c = client.clone();
            let url = format!("{}/api/v1/customers", r.base);
            let token = r.token.clone();
            tokio::spawn(async move {
                let _ = c
                    .post(url)
                    .bearer_auth(token)
                    .json(&serde_json::json!({"id": format!("inflight-{round}-{extra}"), "name": "x"}))
                    .send()
                    .await;
            });
        }
        let status = kill(&mut r, "-KILL");
        assert!(!status.success());
    }
}

#[test]
fn bad_configuration_is_refused_with_its_source() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = art28()
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .env("ART28_COLOUR", "blue")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("environment") && stderr(&out).contains("colour"),
        "{}",
        stderr(&out)
    );

    let cfg = dir.path().join("art28.toml");
    std::fs::write(&cfg, "listen = \"127.0.0.1:0\"\ndata_dri = \"x\"\n").expect("write");
    let out = art28().args(["serve", "--config"]).arg(&cfg).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("data_dri") && stderr(&out).contains("[config_invalid]"),
        "{}",
        stderr(&out)
    );

    let out = art28()
        .args(["serve", "--listen", "not-an-address"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn admin_bootstrap_creates_the_first_administrator_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let run = |password: &str| {
        art28()
            .args([
                "admin",
                "bootstrap",
                "--username",
                "beheer",
                "--display-name",
                "Beheerder Noordlicht",
                "--data-dir",
            ])
            .arg(dir.path())
            .env("ART28_ADMIN_PASSWORD", password)
            .output()
            .expect("run")
    };
    let weak = run("beheer123");
    assert_eq!(weak.status.code(), Some(1));
    assert!(stderr(&weak).contains("password_too_weak"), "{}", stderr(&weak));
    let ok = run("Noorderlicht-boven-Groningen-42");
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(
        !String::from_utf8_lossy(&ok.stdout).contains("Noorderlicht-boven"),
        "the password is never echoed"
    );
    let again = run("Noorderlicht-boven-Groningen-43");
    assert_eq!(again.status.code(), Some(1), "only on an empty data directory");

    // The administrator can log in to a server on that directory; the bootstrap holds no lock.
    let mut r = serve(dir.path(), &[]);
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/session", r.base))
        .json(&serde_json::json!({"username": "beheer", "password": "Noorderlicht-boven-Groningen-42"}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 201);
    kill(&mut r, "-TERM");
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_and_hold_no_secret() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let log = dir.path().join("stderr.log");
    let mut child = art28()
        .args([
            "serve",
            "--demo",
            "--log-format",
            "json",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&data)
        .env("ART28_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log).expect("log file")))
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    out.read_line(&mut line).expect("read");
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("address")
        .to_string();
    // The demo's passwords, printed once on standard output, for the check below.
    let out = crate::demo::follow(out);
    let passwords: Vec<String> = crate::demo::accounts_in(&out.until(|l| l.starts_with("End of demo accounts")))
        .into_iter()
        .map(|a| a.password)
        .collect();
    assert!(!passwords.is_empty());
    let token = std::fs::read_to_string(data.join("operator.token"))
        .expect("token")
        .trim()
        .to_string();
    let client = reqwest::Client::new();
    let ok = client
        .get(format!("{base}/api/v1/customers/bakkerij-de-vries"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), 200);
    let wrong = format!("{token}x");
    let refused = client
        .get(format!("{base}/api/v1/customers/bakkerij-de-vries"))
        .bearer_auth(&wrong)
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status(), 401);
    let mut r = Running {
        child,
        base,
        token: token.clone(),
    };
    assert!(kill(&mut r, "-TERM").success());

    let text = std::fs::read_to_string(&log).expect("read log");
    let signing_key = std::fs::read_to_string(data.join("log-signing.key"))
        .expect("key")
        .trim()
        .to_string();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 5, "{text}");
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(v["level"].is_string() && v["timestamp"].is_string(), "{l}");
    }
    assert!(text.contains("refused an API call"), "the refusal is in the log");
    for secret in [&token, &wrong, &signing_key].into_iter().chain(&passwords) {
        assert!(!text.contains(secret.as_str()), "a secret reached the log");
    }
}
