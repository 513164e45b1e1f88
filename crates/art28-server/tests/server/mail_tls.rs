//! Breach notices to a relay over TLS with a login: a CA and a certificate for the relay made
//! here (rcgen), the relay a real aiosmtpd (tests/support/tls_relay.py) that requires STARTTLS
//! or speaks TLS from the first byte, and requires AUTH. What arrived is read from its Maildir,
//! with the login and TLS version the relay saw.

use crate::aiosmtpd::{Smtp, free_port, header, raw_messages};
use crate::harness::{TestServer, try_start_configured};
use crate::incidents::{deliveries, eventually, ready_breach};
use art28_server::config::{Config, SmtpPassword};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

const USER: &str = "noordlicht-meldpunt";
const PASSWORD: &str = "correct horse battery staple 7";

/// A test CA and the relay's certificate from it, for `localhost` and 127.0.0.1, as PEM files.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn make_pki(dir: &Path) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "art28 test relay CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut relay = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    relay.distinguished_name.push(DnType::CommonName, "localhost");
    let cert = relay.signed_by(&key, &ca).unwrap();
    let pki = Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("relay.pem"),
        key: dir.join("relay-key.pem"),
    };
    std::fs::write(&pki.ca, ca.pem()).unwrap();
    std::fs::write(&pki.cert, cert.pem()).unwrap();
    std::fs::write(&pki.key, key.serialize_pem()).unwrap();
    pki
}

/// How the relay speaks TLS.
#[derive(Clone, Copy)]
enum Mode {
    StartTls,
    Implicit,
}

/// A running tls_relay.py; stopped when dropped.
struct TlsRelay {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl TlsRelay {
    /// Start the relay and wait until it says it accepts connections.
    fn start(mode: Mode, pki: &Pki, dir: &Path) -> TlsRelay {
        let port = free_port();
        let maildir = dir.join("relay-mail");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/tls_relay.py");
        let log = std::fs::File::create(dir.join("relay.log")).unwrap();
        let mut child = Command::new("python3")
            .arg(&script)
            .args([
                "--mode",
                if matches!(mode, Mode::StartTls) {
                    "starttls"
                } else {
                    "implicit"
                },
            ])
            .args(["--port", &port.to_string(), "--user", USER, "--password", PASSWORD])
            .arg("--cert")
            .arg(&pki.cert)
            .arg("--key")
            .arg(&pki.key)
            .arg("--maildir")
            .arg(&maildir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start tls_relay.py (python3)");
        let mut line = String::new();
        let read = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
        assert!(
            matches!(read, Ok(n) if n > 0) && line.trim() == "ready",
            "tls_relay.py did not start (needs aiosmtpd: run scripts/test, or `python3 -m pip install aiosmtpd`): {}",
            std::fs::read_to_string(dir.join("relay.log")).unwrap_or_default()
        );
        TlsRelay { child, port, maildir }
    }
}

impl Drop for TlsRelay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server mailing through `relay` with `adjust`ed SMTP settings.
async fn start(dir: &Path, relay: String, adjust: impl FnOnce(&mut Config)) -> TestServer {
    try_start_configured(&dir.join("data"), true, |c| {
        c.smtp_relay = Some(relay);
        adjust(c);
    })
    .await
    .expect("server starts")
}

/// The relay at 127.0.0.1:`port`, with STARTTLS required.
fn starttls(port: u16) -> String {
    format!("smtp://127.0.0.1:{port}?tls=required")
}

/// Register a breach touching two customers and send its notices (four deliveries).
async fn notify(s: &TestServer) -> u64 {
    let (id, v) = ready_breach(s).await;
    let r = s
        .post(&format!("/api/v1/incidents/{id}/notices"))
        .json(&json!({"version": v}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    id
}

/// Wait until all four deliveries are recorded as sent; the messages the relay saved.
async fn all_sent(s: &TestServer, id: u64, maildir: &Path) -> Vec<String> {
    eventually("deliveries not recorded as sent", || async {
        let d = deliveries(s, id).await;
        (d.len() == 4 && d.iter().all(|d| d["status"] == "sent")).then_some(())
    })
    .await;
    raw_messages(maildir)
}

/// Wait until every delivery was tried at least `attempts` times; the deliveries.
async fn tried(s: &TestServer, id: u64, attempts: u64) -> Vec<Value> {
    eventually(&format!("deliveries not tried {attempts} times"), || async {
        let d = deliveries(s, id).await;
        (d.len() == 4 && d.iter().all(|d| d["attempts"].as_u64() >= Some(attempts))).then_some(d)
    })
    .await
}

/// Log in as USER with `password` from a file, trusting only the test CA.
fn login_from_file(dir: &Path, pki: &Pki, password: &str) -> impl FnOnce(&mut Config) {
    let file = dir.join("smtp-password");
    std::fs::write(&file, format!("{password}\n")).unwrap();
    let ca = pki.ca.clone();
    move |c| {
        c.smtp_username = Some(USER.into());
        c.smtp_password_file = Some(file);
        c.smtp_ca_file = Some(ca);
    }
}

/// Log in as USER with PASSWORD as `ART28_SMTP_PASSWORD` gives it (see the config's own tests).
fn login_from_env(c: &mut Config) {
    c.smtp_username = Some(USER.into());
    c.smtp_password = Some(SmtpPassword(PASSWORD.into()));
}

/// The four messages arrived, each over TLS and after the login as USER.
fn assert_sent_over_tls_as_user(mails: &[String]) {
    assert_eq!(mails.len(), 4);
    for m in mails {
        assert_eq!(header(m, "X-Relay-Login"), USER);
        let tls = header(m, "X-Relay-Tls");
        assert!(tls.starts_with("TLSv1."), "{tls}");
    }
}

/// Every event logged on this thread, as `field=value` lines: the server under
/// `#[tokio::test]` runs its tasks on the test's thread.
#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<String>>);

impl LogCapture {
    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

impl tracing::field::Visit for &LogCapture {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let line = format!("{field}={value:?}\n");
        self.0.lock().unwrap().push_str(&line);
    }
}

impl tracing::Subscriber for LogCapture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        span.record(&mut &*self);
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut &*self);
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        event.record(&mut &*self);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn a_breach_notice_reaches_the_relay_over_starttls_with_the_configured_login() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let relay = TlsRelay::start(Mode::StartTls, &pki, dir.path());
    let login = login_from_file(dir.path(), &pki, PASSWORD);
    let s = start(dir.path(), starttls(relay.port), login).await;
    let id = notify(&s).await;
    let mails = all_sent(&s, id, &relay.maildir).await;
    assert_sent_over_tls_as_user(&mails);
    for m in &mails {
        assert!(header(m, "Message-ID").contains("@noordlicht.example>"));
    }
    s.stop().await;
}

#[tokio::test]
async fn a_breach_notice_reaches_the_relay_over_implicit_tls_with_the_password_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let relay = TlsRelay::start(Mode::Implicit, &pki, dir.path());
    let s = start(dir.path(), format!("smtps://localhost:{}", relay.port), |c| {
        login_from_env(c);
        c.smtp_ca_file = Some(pki.ca.clone());
    })
    .await;
    let id = notify(&s).await;
    assert_sent_over_tls_as_user(&all_sent(&s, id, &relay.maildir).await);
    s.stop().await;
}

#[tokio::test]
async fn a_wrong_password_fails_the_delivery_which_is_retried_and_neither_reason_nor_log_shows_it() {
    let log = LogCapture::default();
    let _logging = tracing::subscriber::set_default(log.clone());
    // While only one dispatcher exists, tracing asks just the current thread's subscriber about
    // a call site it meets first: one first reached by a parallel test would stay off here. A
    // second keeps every site asked of all.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    // The relay answers a refused login with the password it was given.
    let relay = TlsRelay::start(Mode::StartTls, &pki, dir.path());
    let wrong = "not-the-password-4711";
    let login = login_from_file(dir.path(), &pki, wrong);
    let s = start(dir.path(), starttls(relay.port), login).await;
    let id = notify(&s).await;
    let failed = tried(&s, id, 1).await;
    for d in &failed {
        assert_eq!(d["status"], "pending", "{d}");
        let reason = d["last_error"].as_str().expect("a reason");
        assert!(reason.contains("refused the login"), "{reason}");
        assert!(!reason.contains(wrong) && !reason.contains(PASSWORD), "{reason}");
    }
    // Past the backoff the outbox tries again, and fails again.
    s.clock.advance(jiff::SignedDuration::from_mins(5));
    tried(&s, id, 2).await;
    assert!(raw_messages(&relay.maildir).is_empty());
    s.stop().await;
    let log = log.text();
    // The relay's echo was logged, with the password replaced.
    assert!(
        log.contains("SMTP delivery failed") && log.contains("bad password [password]"),
        "{log}"
    );
    assert!(!log.contains(wrong) && !log.contains(PASSWORD), "{log}");
}

#[tokio::test]
async fn tls_required_against_a_relay_without_starttls_sends_nothing_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    // The plain aiosmtpd of the other mail tests: it offers no STARTTLS (and no AUTH).
    let port = free_port();
    let maildir = dir.path().join("plain-mail");
    let smtp = Smtp::start(port, &maildir);
    let login = login_from_file(dir.path(), &pki, PASSWORD);
    let s = start(dir.path(), starttls(port), login).await;
    let id = notify(&s).await;
    for d in tried(&s, id, 1).await {
        assert_eq!(d["status"], "pending", "{d}");
        let reason = d["last_error"].as_str().expect("a reason");
        assert!(reason.contains("does not offer STARTTLS"), "{reason}");
    }
    assert!(raw_messages(&maildir).is_empty());
    s.stop().await;
    smtp.stop();
}

#[tokio::test]
async fn a_relay_certificate_from_an_untrusted_ca_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let relay = TlsRelay::start(Mode::Implicit, &pki, dir.path());
    // No smtp_ca_file: the webpki roots, which do not know the test CA.
    let s = start(dir.path(), format!("smtps://127.0.0.1:{}", relay.port), login_from_env).await;
    let id = notify(&s).await;
    for d in tried(&s, id, 1).await {
        let reason = d["last_error"].as_str().expect("a reason");
        assert!(
            reason.starts_with("no TLS connection") && reason.contains("certificate"),
            "{reason}"
        );
    }
    assert!(raw_messages(&relay.maildir).is_empty());
    s.stop().await;
}

#[tokio::test]
async fn smtp_settings_that_cannot_work_stop_the_start_with_one_config_error_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let missing = dir.path().join("missing");
    type Adjust<'a> = Box<dyn FnOnce(&mut Config) + 'a>;
    let cases: Vec<(&str, Adjust)> = vec![
        ("ftp://mail.example.nl", Box::new(|_| {})),
        ("smtp://mail.example.nl?tls=maybe", Box::new(|_| {})),
        (
            "smtps://mail.example.nl",
            Box::new(|c| {
                c.smtp_username = Some(USER.into());
                c.smtp_password_file = Some(missing.clone());
            }),
        ),
        (
            "smtps://mail.example.nl",
            Box::new(|c| c.smtp_ca_file = Some(missing.clone())),
        ),
        // TLS demanded with a "CA" that is no certificate.
        (
            "smtp://mail.example.nl?tls=required",
            Box::new(|c| c.smtp_ca_file = Some(pki.key.clone())),
        ),
        // A login over plain SMTP.
        ("mail.example.nl:25", Box::new(login_from_env)),
    ];
    for (i, (relay, adjust)) in cases.into_iter().enumerate() {
        let data = dir.path().join(format!("data-{i}"));
        let result = try_start_configured(&data, true, |c| {
            c.smtp_relay = Some(relay.into());
            adjust(c);
        })
        .await;
        let Err(e) = result else {
            panic!("{relay}: the server started");
        };
        assert_eq!(e.code, art28_core::ErrorCode::ConfigInvalid, "{relay}: {e:?}");
        assert!(!e.message.contains(PASSWORD), "{}", e.message);
        assert!(
            !data.exists(),
            "{relay}: the data directory was made before the refusal"
        );
    }
}
