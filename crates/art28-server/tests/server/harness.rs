//! Starting and stopping a server in-process on a free port.
//!
//! A panic in a server task does not fail a test by itself: tokio catches it, the connection
//! drops, and a test that expected a refusal may read that as one. So every start installs (once)
//! a panic hook that records each panic raised outside the tests' own code, and
//! [`TestServer::stop`] fails when any was recorded while that server ran.

use art28_server::config::Config;
use art28_service::clock::ManualClock;
use std::path::Path;
use std::sync::{Arc, Mutex, Once};
use tokio::sync::oneshot;

/// Panics raised outside the tests' own code in this test binary, as `thread at file:line: message`.
static SERVER_PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn server_panics() -> std::sync::MutexGuard<'static, Vec<String>> {
    SERVER_PANICS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Record panics outside `tests/` (a failing assertion is the test's own); the default hook
/// still prints every panic.
fn watch_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info.location();
            if !location.is_some_and(|l| l.file().contains("tests/")) {
                let payload = info.payload();
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let thread = std::thread::current().name().unwrap_or("unnamed").to_string();
                let at = location
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                server_panics().push(format!("{thread} at {at}: {message}"));
            }
            previous(info);
        }));
    });
}

pub struct TestServer {
    pub clock: Arc<ManualClock>,
    pub addr: std::net::SocketAddr,
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<art28_core::Result<()>>>,
    /// How many panics [`SERVER_PANICS`] held when this server started.
    panics_before: usize,
}

pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new("2026-11-22T10:00:00Z".parse().expect("time")))
}

pub async fn start(dir: &Path, demo: bool) -> TestServer {
    try_start(dir, demo).await.expect("server starts")
}

pub async fn try_start(dir: &Path, demo: bool) -> art28_core::Result<TestServer> {
    try_start_with(dir, demo, None, false).await
}

/// A server that sends breach notices through the SMTP relay at `relay` (`host:port`);
/// webhooks reach the public internet only (the default).
pub async fn start_mailing(dir: &Path, relay: &str) -> TestServer {
    try_start_with(dir, true, Some(relay.to_string()), false)
        .await
        .expect("server starts")
}

/// As [`start_mailing`], with the operator's `webhook_allow_loopback` set to `allow`: a test's
/// webhook receiver listens on loopback.
pub async fn start_mailing_loopback_hooks(dir: &Path, relay: &str, allow: bool) -> TestServer {
    try_start_with(dir, true, Some(relay.to_string()), allow)
        .await
        .expect("server starts")
}

async fn try_start_with(
    dir: &Path,
    demo: bool,
    smtp_relay: Option<String>,
    webhook_allow_loopback: bool,
) -> art28_core::Result<TestServer> {
    try_start_configured(dir, demo, |c| {
        c.smtp_relay = smtp_relay;
        c.webhook_allow_loopback = webhook_allow_loopback;
    })
    .await
}

/// A server with the tests' configuration, changed by `configure` (limits, TLS). With TLS,
/// `base` is `https://…` and `client` trusts nothing extra: make one that trusts the test's
/// certificate.
pub async fn try_start_configured(
    dir: &Path,
    demo: bool,
    configure: impl FnOnce(&mut Config),
) -> art28_core::Result<TestServer> {
    watch_panics();
    let panics_before = server_panics().len();
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("addr"),
        demo,
        max_body_bytes: 64 * 1024,
        mail_from: "Noordlicht meldpunt <meldpunt@noordlicht.example>".into(),
        ..Config::default()
    };
    configure(&mut config);
    let clock = clock();
    let bound = art28_server::bind(&config, clock.clone()).await?;
    let addr = bound.local_addr()?;
    let scheme = if bound.tls() { "https" } else { "http" };
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(bound.run(async {
        let _ = rx.await;
    }));
    let token = std::fs::read_to_string(dir.join("operator.token")).expect("token file");
    Ok(TestServer {
        clock,
        addr,
        base: format!("{scheme}://{addr}"),
        token: token.trim().to_string(),
        client: reqwest::Client::new(),
        stop: Some(tx),
        task: Some(task),
        panics_before,
    })
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.token)
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(&self.token)
    }

    /// A `GET` as the operator, answered with JSON.
    pub async fn json(&self, path: &str) -> serde_json::Value {
        self.get(path).send().await.expect("send").json().await.expect("json")
    }

    /// Stop gracefully and wait until the data directory is released; fail if anything
    /// outside the tests panicked while the server ran (in this server or in one running beside
    /// it in the same binary: either way a server panicked).
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("join").expect("clean stop");
        }
        let panics = server_panics().get(self.panics_before..).unwrap_or_default().to_vec();
        assert!(
            panics.is_empty(),
            "panicked while the server ran:\n{}",
            panics.join("\n")
        );
    }
}

/// The error code of a JSON error response.
pub async fn code(resp: reqwest::Response) -> (u16, String, serde_json::Value) {
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.expect("json error body");
    let code = body["error"]["code"].as_str().unwrap_or_default().to_string();
    (status, code, body)
}
