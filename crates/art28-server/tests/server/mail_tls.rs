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

fn password_file(dir: &Path, password: &str) -> PathBuf {
    let path = dir.join("smtp-password");
    std::fs::write(&path, format!("{password}\n")).unwrap();
    path
}

#[tokio::test]
async fn a_breach_notice_reaches_the_relay_over_starttls_with_the_configured_login() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let relay = TlsRelay::start(Mode::StartTls, &pki, dir.path());
    let pw = password_file(dir.path(), PASSWORD);
    let s = start(
        dir.path(),
        format!("smtp://127.0.0.1:{}?tls=required", relay.port),
        |c| {
            c.smtp_username = Some(USER.into());
            c.smtp_password_file = Some(pw);
            c.smtp_ca_file = Some(pki.ca.clone());
        },
    )
    .await;
    let id = notify(&s).await;
    let mails = all_sent(&s, id, &relay.maildir).await;
    assert_eq!(mails.len(), 4);
    for m in &mails {
        assert_eq!(header(m, "X-Relay-Login"), USER);
        assert!(
            header(m, "X-Relay-Tls").starts_with("TLSv1."),
            "{}",
            header(m, "X-Relay-Tls")
        );
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
        c.smtp_username = Some(USER.into());
        // What ART28_SMTP_PASSWORD gives (see the config's own tests).
        c.smtp_password = Some(SmtpPassword(PASSWORD.into()));
        c.smtp_ca_file = Some(pki.ca.clone());
    })
    .await;
    let id = notify(&s).await;
    let mails = all_sent(&s, id, &relay.maildir).await;
    assert_eq!(mails.len(), 4);
    for m in &mails {
        assert_eq!(header(m, "X-Relay-Login"), USER);
        assert!(header(m, "X-Relay-Tls").starts_with("TLSv1."));
    }
    s.stop().await;
}

#[tokio::test]
async fn a_wrong_password_fails_the_delivery_which_is_retried_and_the_reason_does_not_show_it() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let relay = TlsRelay::start(Mode::StartTls, &pki, dir.path());
    let wrong = "not-the-password-4711";
    let pw = password_file(dir.path(), wrong);
    let s = start(
        dir.path(),
        format!("smtp://127.0.0.1:{}?tls=required", relay.port),
        |c| {
            c.smtp_username = Some(USER.into());
            c.smtp_password_file = Some(pw);
            c.smtp_ca_file = Some(pki.ca.clone());
        },
    )
    .await;
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
}

#[tokio::test]
async fn tls_required_against_a_relay_without_starttls_sends_nothing_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    // The plain aiosmtpd of the other mail tests: it offers no STARTTLS (and no AUTH).
    let port = free_port();
    let maildir = dir.path().join("plain-mail");
    let smtp = Smtp::start(port, &maildir);
    let pw = password_file(dir.path(), PASSWORD);
    let s = start(dir.path(), format!("smtp://127.0.0.1:{port}?tls=required"), |c| {
        c.smtp_username = Some(USER.into());
        c.smtp_password_file = Some(pw);
        c.smtp_ca_file = Some(pki.ca.clone());
    })
    .await;
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
    let s = start(dir.path(), format!("smtps://127.0.0.1:{}", relay.port), |c| {
        c.smtp_username = Some(USER.into());
        c.smtp_password = Some(SmtpPassword(PASSWORD.into()));
    })
    .await;
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
        (
            "mail.example.nl:25",
            Box::new(|c| {
                c.smtp_username = Some(USER.into());
                c.smtp_password = Some(SmtpPassword(PASSWORD.into()));
            }),
        ),
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
