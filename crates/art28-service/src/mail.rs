//! E-mail delivery of breach notices over SMTP (lettre).
//!
//! Each delivery carries its outbox idempotency key as the Message-ID, so a message sent again
//! after a crash (between the server accepting it and art28 recording that) is recognisably the
//! same message.
//!
//! The relay is named in one setting that also says how to reach it ([`RelayAddress`]): plain
//! SMTP to a local MTA that handles onward TLS (`host:port`, `smtp://host:port`), STARTTLS that
//! must succeed before anything is sent (`smtp://host:port?tls=required`), or TLS from the first
//! byte (`smtps://host:port`). TLS is rustls with the ring provider; the relay's certificate is
//! checked against the webpki roots, or only against the operator's CA when one is given. A login
//! is offered only over TLS, so the password never crosses the network in clear; it is held as a
//! [`SecretString`] and appears in no log line, `Debug` output or recorded failure reason.
//! Everything that can be wrong with the settings is found when the mailer is made, at start.

use crate::incidents::{Courier, Outgoing};
use art28_core::{Error, ErrorCode};
use art28_store::DeliveryRecord;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::transport::smtp::{SMTP_PORT, SUBMISSION_PORT, SUBMISSIONS_PORT};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;
use std::time::Duration;

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelaySecurity {
    /// Plain SMTP: for a relay on the same host or network, which handles onward TLS.
    Plain,
    /// Plain SMTP upgraded with STARTTLS; nothing is sent when the relay does not offer it.
    StartTls,
    /// TLS from the first byte (SMTPS, "implicit TLS").
    Implicit,
}

/// Where the relay is and how to reach it, parsed from the `smtp_relay` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayAddress {
    /// Host name or IP address (without brackets); also the name the certificate must carry.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Plain, STARTTLS or implicit TLS.
    pub security: RelaySecurity,
}

impl RelayAddress {
    /// Parse `host:port` (plain, as before URLs were accepted), `smtp://host[:port]` (plain,
    /// port 25), `smtp://host[:port]?tls=required` (STARTTLS, port 587) or `smtps://host[:port]`
    /// (implicit TLS, port 465). Credentials in the URL are refused: they belong in
    /// `smtp_username` and a password file, not in a setting that is shown and logged.
    pub fn parse(relay: &str) -> art28_core::Result<Self> {
        let relay = relay.trim();
        if !relay.contains("://") {
            return Self::parse_host_port(relay);
        }
        let url = url::Url::parse(relay).map_err(|e| bad(format!("smtp_relay is not a valid URL: {e}")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "smtp_relay must not carry a user or password: set smtp_username, and the password in \
                 smtp_password_file or ART28_SMTP_PASSWORD"
                    .into(),
            ));
        }
        let mut required = false;
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("tls", "required") => required = true,
                ("tls", other) => {
                    return Err(bad(format!(
                        "smtp_relay: tls={other} is not supported (only tls=required, for STARTTLS)"
                    )));
                }
                (other, _) => return Err(bad(format!("smtp_relay: unknown parameter `{other}`"))),
            }
        }
        let (security, default_port) = match (url.scheme(), required) {
            ("smtp", false) => (RelaySecurity::Plain, SMTP_PORT),
            ("smtp", true) => (RelaySecurity::StartTls, SUBMISSION_PORT),
            ("smtps", false) => (RelaySecurity::Implicit, SUBMISSIONS_PORT),
            ("smtps", true) => {
                return Err(bad(
                    "smtp_relay: tls=required is for smtp:// (STARTTLS); smtps:// is TLS throughout".into(),
                ));
            }
            (other, _) => {
                return Err(bad(format!("smtp_relay: scheme `{other}` is not smtp or smtps")));
            }
        };
        if !matches!(url.path(), "" | "/") || url.fragment().is_some() {
            return Err(bad("smtp_relay: a relay URL has no path or fragment".into()));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(bad("smtp_relay: the URL names no host".into())),
        };
        Ok(Self {
            host,
            port: url.port().unwrap_or(default_port),
            security,
        })
    }

    fn parse_host_port(relay: &str) -> art28_core::Result<Self> {
        let parsed = relay
            .rsplit_once(':')
            .and_then(|(h, p)| p.parse::<u16>().ok().map(|p| (h, p)))
            .map(|(h, p)| (h.trim_start_matches('[').trim_end_matches(']'), p))
            .filter(|(h, _)| !h.is_empty() && !h.contains(['@', '/', ' ']));
        match parsed {
            Some((host, port)) => Ok(Self {
                host: host.to_string(),
                port,
                security: RelaySecurity::Plain,
            }),
            // Not echoed: a malformed value may hold something pasted by mistake, a password too.
            None => Err(bad(
                "smtp_relay is neither host:port nor a URL smtp://host:port, smtp://host:port?tls=required \
                 or smtps://host:port"
                    .into(),
            )),
        }
    }
}

impl std::fmt::Display for RelayAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.security {
            RelaySecurity::Plain => write!(f, "smtp://{host}:{}", self.port),
            RelaySecurity::StartTls => write!(f, "smtp://{host}:{}?tls=required", self.port),
            RelaySecurity::Implicit => write!(f, "smtps://{host}:{}", self.port),
        }
    }
}

/// The operator's SMTP settings, as configured; checked by [`SmtpMailer::new`].
#[derive(Debug, Clone, Default)]
pub struct SmtpSettings {
    /// `smtp_relay`: see [`RelayAddress::parse`].
    pub relay: String,
    /// `mail_from`: the sender, `Name <address>`.
    pub from: String,
    /// `smtp_username`: the login at the relay.
    pub username: Option<String>,
    /// The password itself (`ART28_SMTP_PASSWORD`).
    pub password: Option<SecretString>,
    /// A file holding the password (`smtp_password_file`); one trailing line break is dropped.
    pub password_file: Option<PathBuf>,
    /// PEM file with the CA certificate(s) that alone are trusted for the relay
    /// (`smtp_ca_file`); without one, the webpki roots.
    pub ca_file: Option<PathBuf>,
}

/// Sends through one SMTP relay.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    relay: RelayAddress,
    username: Option<String>,
    /// Kept to scrub it from the relay's replies before they are logged.
    password: Option<SecretString>,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("relay", &self.relay.to_string())
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for the relay and login in `settings`; every mistake in them is one
    /// [`ErrorCode::ConfigInvalid`] naming the setting.
    pub fn new(settings: &SmtpSettings) -> art28_core::Result<Self> {
        let relay = RelayAddress::parse(&settings.relay)?;
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| bad(format!("mail_from `{}` is not an address: {e}", settings.from)))?;
        let password = read_password(settings)?;
        let username = settings.username.clone().filter(|u| !u.trim().is_empty());
        let credentials = match (&username, &password) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(bad(
                    "smtp_username is set but no password: set smtp_password_file or ART28_SMTP_PASSWORD".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(bad("an SMTP password is set but no smtp_username".into()));
            }
            (Some(_), Some(_)) if relay.security == RelaySecurity::Plain => {
                return Err(bad(format!(
                    "smtp_relay {relay} is plain SMTP: a login would cross the network in clear; use \
                     smtp://host:port?tls=required or smtps://host:port"
                )));
            }
            (Some(u), Some(p)) => Some(Credentials::new(u.clone(), p.expose_secret().to_string())),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(relay.host.clone())
            .port(relay.port)
            .timeout(Some(Duration::from_secs(20)));
        match relay.security {
            RelaySecurity::Plain => {
                if settings.ca_file.is_some() {
                    return Err(bad(format!(
                        "smtp_ca_file is set but smtp_relay {relay} is plain SMTP, without TLS"
                    )));
                }
            }
            RelaySecurity::StartTls => builder = builder.tls(Tls::Required(tls_parameters(&relay, settings)?)),
            RelaySecurity::Implicit => builder = builder.tls(Tls::Wrapper(tls_parameters(&relay, settings)?)),
        }
        if let Some(c) = credentials {
            builder = builder.credentials(c);
        }
        Ok(Self {
            transport: builder.build(),
            from,
            relay,
            username,
            password,
        })
    }

    /// The relay, as parsed.
    pub fn relay(&self) -> &RelayAddress {
        &self.relay
    }

    /// `text` with the password, should a relay ever echo it, replaced.
    fn scrub(&self, text: String) -> String {
        match &self.password {
            Some(p) if !p.expose_secret().is_empty() => text.replace(p.expose_secret(), "[password]"),
            _ => text,
        }
    }
}

/// The password from `ART28_SMTP_PASSWORD` or `smtp_password_file` (not both).
fn read_password(settings: &SmtpSettings) -> art28_core::Result<Option<SecretString>> {
    let password = match (&settings.password, &settings.password_file) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "both ART28_SMTP_PASSWORD and smtp_password_file are set: keep one".into()
            ));
        }
        (Some(p), None) => p.clone(),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| bad(format!("smtp_password_file {}: cannot read: {e}", path.display())))?;
            let line = text.strip_suffix('\n').unwrap_or(&text);
            let line = line.strip_suffix('\r').unwrap_or(line);
            SecretString::from(line.to_string())
        }
        (None, None) => return Ok(None),
    };
    if password.expose_secret().is_empty() {
        return Err(bad("the SMTP password is empty".into()));
    }
    Ok(Some(password))
}

/// TLS for the relay: rustls (ring), checking the certificate names `relay.host` and chains to
/// the operator's CA when one is given, else to the webpki roots.
fn tls_parameters(relay: &RelayAddress, settings: &SmtpSettings) -> art28_core::Result<TlsParameters> {
    let mut tls = TlsParameters::builder(relay.host.clone());
    if let Some(path) = &settings.ca_file {
        let pem = std::fs::read(path).map_err(|e| bad(format!("smtp_ca_file {}: cannot read: {e}", path.display())))?;
        // lettre takes a file without a certificate as an empty list: no root at all, so every
        // handshake would fail instead of the start.
        const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
        if !pem.windows(BEGIN.len()).any(|w| w == BEGIN) {
            return Err(bad(format!(
                "smtp_ca_file {}: holds no PEM certificate",
                path.display()
            )));
        }
        let ca = Certificate::from_pem(&pem)
            .map_err(|e| bad(format!("smtp_ca_file {}: not a PEM certificate: {e}", path.display())))?;
        tls = tls.certificate_store(CertificateStore::None).add_root_certificate(ca);
    }
    tls.build_rustls().map_err(|e| {
        bad(format!(
            "smtp_relay {relay}: TLS cannot be set up{}: {e}",
            settings
                .ca_file
                .as_ref()
                .map(|p| format!(" with smtp_ca_file {}", p.display()))
                .unwrap_or_default()
        ))
    })
}

fn bad(message: String) -> Error {
    Error::new(ErrorCode::ConfigInvalid, message)
}

/// What a failed delivery records: what went wrong, in words an operator can act on, made from
/// lettre's classification (never from the relay's reply text, which is only logged).
fn failure_reason(e: &lettre::transport::smtp::Error) -> String {
    if e.is_tls() {
        return format!("no TLS connection to the mail relay ({e})");
    }
    if e.is_client() {
        if e.to_string().contains("STARTTLS") {
            return "not sent: the mail relay does not offer STARTTLS, which smtp_relay requires".into();
        }
        return format!("not sent: {e}");
    }
    if let Some(code) = e.status() {
        let code = code.to_string();
        if matches!(code.as_str(), "530" | "534" | "535" | "454") {
            return format!("the mail relay refused the login (reply {code})");
        }
        return format!("the mail relay did not accept the message (reply {code})");
    }
    if e.is_timeout() {
        return "the mail relay did not answer in time".into();
    }
    // A handshake that failed (a certificate not trusted, no common protocol) comes as a
    // connection error around rustls's own.
    if let Some(tls) = rustls_error(e) {
        return format!("no TLS connection to the mail relay ({tls})");
    }
    match std::error::Error::source(e) {
        Some(cause) => format!("the mail relay could not be reached ({cause})"),
        None => "the mail relay could not be reached".into(),
    }
}

/// The rustls error somewhere in `e`'s causes (io errors hold theirs inside, not as a source).
fn rustls_error(e: &lettre::transport::smtp::Error) -> Option<&rustls::Error> {
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(tls) = c.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        cause = c.source();
    }
    None
}

#[async_trait::async_trait]
impl Courier for SmtpMailer {
    fn channel(&self) -> &'static str {
        "email"
    }

    async fn send(&self, d: &DeliveryRecord, n: &Outgoing) -> Result<(), String> {
        let to: Mailbox = d
            .recipient
            .parse()
            .map_err(|e| format!("recipient is not an address: {e}"))?;
        let domain = self.from.email.domain().to_string();
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(n.subject.clone())
            .message_id(Some(format!("<{}@{domain}>", d.idempotency_key)))
            .header(ContentType::TEXT_PLAIN)
            .body(n.body.clone())
            .map_err(|e| format!("message not built: {e}"))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| {
            let error = self.scrub(e.to_string());
            tracing::warn!(relay = %self.relay, %error, "SMTP delivery failed");
            self.scrub(failure_reason(&e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> RelayAddress {
        RelayAddress::parse(s).unwrap()
    }

    #[test]
    fn relay_forms_say_how_to_connect() {
        let r = parse("127.0.0.1:2525");
        assert_eq!(
            (r.host.as_str(), r.port, r.security),
            ("127.0.0.1", 2525, RelaySecurity::Plain)
        );
        let r = parse("smtp://mail.example.nl");
        assert_eq!((r.port, r.security), (25, RelaySecurity::Plain));
        let r = parse("smtp://mail.example.nl:2587?tls=required");
        assert_eq!((r.port, r.security), (2587, RelaySecurity::StartTls));
        assert_eq!(parse("smtp://mail.example.nl?tls=required").port, 587);
        let r = parse("smtps://[::1]");
        assert_eq!(
            (r.host.as_str(), r.port, r.security),
            ("::1", 465, RelaySecurity::Implicit)
        );
        assert_eq!(r.to_string(), "smtps://[::1]:465");
        assert_eq!(parse("[::1]:25").host, "::1");
    }

    #[test]
    fn bad_relays_are_refused_without_echoing_secrets() {
        for bad in [
            "mail.example.nl",
            "smtp://",
            "http://mail.example.nl:25",
            "smtp://mail.example.nl:25?tls=opportunistic",
            "smtp://mail.example.nl:25?starttls=1",
            "smtps://mail.example.nl:465?tls=required",
            "smtp://mail.example.nl:25/path",
            "smtp://user:hunter2@mail.example.nl:587?tls=required",
            "user:hunter2@mail.example.nl:25",
        ] {
            let e = RelayAddress::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::ConfigInvalid, "{bad}");
            assert!(!e.message.contains("hunter2"), "{}", e.message);
        }
    }

    fn settings(relay: &str) -> SmtpSettings {
        SmtpSettings {
            relay: relay.into(),
            from: "art28 <noreply@art28.localhost>".into(),
            ..SmtpSettings::default()
        }
    }

    #[test]
    fn settings_that_cannot_work_are_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("ca.txt");
        std::fs::write(&not_pem, "hello").unwrap();
        let secret = || Some(SecretString::from("hunter2"));
        let cases = [
            SmtpSettings {
                username: Some("art28".into()),
                ..settings("smtps://mail.example.nl")
            },
            SmtpSettings {
                password: secret(),
                ..settings("smtps://mail.example.nl")
            },
            SmtpSettings {
                username: Some("art28".into()),
                password: secret(),
                ..settings("smtp://mail.example.nl")
            },
            SmtpSettings {
                username: Some("art28".into()),
                password: secret(),
                password_file: Some(dir.path().join("pw")),
                ..settings("smtps://mail.example.nl")
            },
            SmtpSettings {
                username: Some("art28".into()),
                password_file: Some(dir.path().join("missing")),
                ..settings("smtps://mail.example.nl")
            },
            SmtpSettings {
                ca_file: Some(dir.path().join("missing.pem")),
                ..settings("smtps://mail.example.nl")
            },
            SmtpSettings {
                ca_file: Some(not_pem.clone()),
                ..settings("smtp://mail.example.nl?tls=required")
            },
            SmtpSettings {
                ca_file: Some(not_pem),
                ..settings("smtp://mail.example.nl")
            },
        ];
        for s in cases {
            let e = SmtpMailer::new(&s).unwrap_err();
            assert_eq!(e.code, ErrorCode::ConfigInvalid, "{s:?}");
            assert!(!e.message.contains("hunter2"), "{}", e.message);
        }
    }

    #[test]
    fn the_password_is_read_from_its_file_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "hunter2\n").unwrap();
        let m = SmtpMailer::new(&SmtpSettings {
            username: Some("art28".into()),
            password_file: Some(file),
            ..settings("smtp://mail.example.nl:587?tls=required")
        })
        .unwrap();
        assert_eq!(m.password.as_ref().map(|p| p.expose_secret()), Some("hunter2"));
        let shown = format!("{m:?}");
        assert!(shown.contains("smtp://mail.example.nl:587?tls=required") && !shown.contains("hunter2"));
        assert_eq!(
            m.scrub("535 no such user:hunter2".into()),
            "535 no such user:[password]"
        );
        let s = SmtpSettings {
            password: Some(SecretString::from("hunter2")),
            ..settings("x:1")
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
