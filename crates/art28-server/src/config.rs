//! Server configuration: one struct, read from a TOML file, then `ART28_*` environment
//! variables, then command-line flags, each overriding the one before. Unknown keys are refused
//! in every layer, naming the layer, so a typo never silently falls back to a default.

use art28_core::duration::IsoDuration;
use art28_core::{Error, ErrorCode, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Directory with the database and the server's own secrets; created on first start.
    pub data_dir: PathBuf,
    /// The database: absent for SQLite in the data directory, or a `postgres://` URL.
    pub database: Option<DatabaseUrl>,
    /// The access log's signing key; `log-signing.key` in the data directory when unset.
    /// Every node on one database needs the same file.
    pub log_signing_key_file: Option<PathBuf>,
    /// The vault's master keys; `vault.keys` in the data directory when unset. Every node on
    /// one database needs the same file.
    pub vault_keys_file: Option<PathBuf>,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Load the demo processor and example customers at start.
    pub demo: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter, as for `RUST_LOG` (e.g. `info`, `art28=debug`).
    pub log: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Name of the access log in its checkpoints (C2SP origin), e.g. `art28.example.nl/log`.
    pub log_origin: String,
    /// Staff credentials unused this long are disabled (customers' follow their agreement).
    pub staff_credential_expiry: IsoDuration,
    /// SMTP relay for breach notices, saying how to connect: `host:port` or `smtp://host:port`
    /// (plain), `smtp://host:port?tls=required` (STARTTLS), `smtps://host:port` (implicit TLS).
    /// Without one, notices wait in the outbox.
    pub smtp_relay: Option<String>,
    /// Login at the relay (TLS relays only).
    pub smtp_username: Option<String>,
    /// The login's password, from `ART28_SMTP_PASSWORD` only (never the file or a flag).
    pub smtp_password: Option<SmtpPassword>,
    /// File holding the login's password.
    pub smtp_password_file: Option<PathBuf>,
    /// PEM file with the CA that alone is trusted for the relay's certificate; without one,
    /// the webpki roots.
    pub smtp_ca_file: Option<PathBuf>,
    /// Sender of breach notices, `Name <address>`.
    pub mail_from: String,
    /// Let customers' webhooks reach this machine's loopback (127.0.0.0/8, ::1), also by plain
    /// http: for a local relay or tests. Off by default, since it lets a customer make the
    /// server post to its own loopback services; other private ranges stay refused either way.
    pub webhook_allow_loopback: bool,
    /// Seconds a client has to send a request's headers: from the connection's start (the TLS
    /// handshake included) or from the first byte of a later request on it.
    pub header_read_timeout_secs: u64,
    /// Seconds a kept-alive connection may wait for its next request before it is closed.
    pub idle_timeout_secs: u64,
    /// Open connections allowed from one client address (IPv6: one /64); more are closed at once.
    pub max_connections_per_client: usize,
    /// Open connections allowed in all; more are closed at once.
    pub max_connections: usize,
    /// Certificate chain (PEM) to serve HTTPS with; together with [`Config::tls_key`].
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1) of [`Config::tls_cert`].
    pub tls_key: Option<PathBuf>,
}

/// A password given in the environment: hidden from `Debug`, compared only in tests of the
/// configuration's layering.
#[derive(Debug, Clone)]
pub struct SmtpPassword(pub SecretString);

impl PartialEq for SmtpPassword {
    fn eq(&self, other: &Self) -> bool {
        self.0.expose_secret() == other.0.expose_secret()
    }
}

impl Eq for SmtpPassword {}

impl<'de> Deserialize<'de> for SmtpPassword {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(|s| SmtpPassword(SecretString::from(s)))
    }
}

/// A `postgres://` URL, which may hold a password: `Debug` shows only where it leads.
#[derive(Clone)]
pub struct DatabaseUrl(pub SecretString);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(self.0.expose_secret()))
    }
}

impl PartialEq for DatabaseUrl {
    fn eq(&self, other: &Self) -> bool {
        self.0.expose_secret() == other.0.expose_secret()
    }
}

impl Eq for DatabaseUrl {}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(|s| DatabaseUrl(SecretString::from(s)))
    }
}

/// A URL with its password (if any) replaced by `***`.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(not a URL)".to_string(),
    }
}

/// Keys whose values are secrets: never read as TOML from the environment (a password `12345`
/// stays a string) and never accepted from the configuration file.
const SECRET_KEYS: &[&str] = &["smtp_password"];

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("art28-data"),
            database: None,
            log_signing_key_file: None,
            vault_keys_file: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8028)),
            demo: false,
            log_format: LogFormat::Text,
            log: "info".into(),
            max_body_bytes: 1024 * 1024,
            log_origin: "art28.localhost/log".into(),
            staff_credential_expiry: IsoDuration::months(6),
            smtp_relay: None,
            smtp_username: None,
            smtp_password: None,
            smtp_password_file: None,
            smtp_ca_file: None,
            mail_from: "art28 <noreply@art28.localhost>".into(),
            webhook_allow_loopback: false,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections_per_client: 64,
            max_connections: 1024,
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// One layer of configuration; every field optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    /// See [`Config::data_dir`].
    pub data_dir: Option<PathBuf>,
    /// See [`Config::database`].
    pub database: Option<DatabaseUrl>,
    /// See [`Config::log_signing_key_file`].
    pub log_signing_key_file: Option<PathBuf>,
    /// See [`Config::vault_keys_file`].
    pub vault_keys_file: Option<PathBuf>,
    /// See [`Config::listen`].
    pub listen: Option<SocketAddr>,
    /// See [`Config::demo`].
    pub demo: Option<bool>,
    /// See [`Config::log_format`].
    pub log_format: Option<LogFormat>,
    /// See [`Config::log`].
    pub log: Option<String>,
    /// See [`Config::max_body_bytes`].
    pub max_body_bytes: Option<usize>,
    /// See [`Config::log_origin`].
    pub log_origin: Option<String>,
    /// See [`Config::staff_credential_expiry`].
    pub staff_credential_expiry: Option<IsoDuration>,
    /// See [`Config::smtp_relay`].
    pub smtp_relay: Option<String>,
    /// See [`Config::smtp_username`].
    pub smtp_username: Option<String>,
    /// See [`Config::smtp_password`]; refused in a file.
    pub smtp_password: Option<SmtpPassword>,
    /// See [`Config::smtp_password_file`].
    pub smtp_password_file: Option<PathBuf>,
    /// See [`Config::smtp_ca_file`].
    pub smtp_ca_file: Option<PathBuf>,
    /// See [`Config::mail_from`].
    pub mail_from: Option<String>,
    /// See [`Config::webhook_allow_loopback`].
    pub webhook_allow_loopback: Option<bool>,
    /// See [`Config::header_read_timeout_secs`].
    pub header_read_timeout_secs: Option<u64>,
    /// See [`Config::idle_timeout_secs`].
    pub idle_timeout_secs: Option<u64>,
    /// See [`Config::max_connections_per_client`].
    pub max_connections_per_client: Option<usize>,
    /// See [`Config::max_connections`].
    pub max_connections: Option<usize>,
    /// See [`Config::tls_cert`].
    pub tls_cert: Option<PathBuf>,
    /// See [`Config::tls_key`].
    pub tls_key: Option<PathBuf>,
}

impl ConfigLayer {
    /// Parse a TOML configuration file's text.
    pub fn from_toml(name: &str, text: &str) -> Result<Self> {
        let de = toml::Deserializer::parse(text).map_err(|e| config_err(format!("{name}: {}", e.message().trim())))?;
        let layer = ConfigLayer::deserialize(de).map_err(|e| config_err(format!("{name}: {e}")))?;
        if layer.smtp_password.is_some() {
            return Err(config_err(format!(
                "{name}: smtp_password does not belong in a configuration file: use smtp_password_file or \
                 ART28_SMTP_PASSWORD"
            )));
        }
        Ok(layer)
    }

    /// Read the `ART28_*` variables (`ART28_DATA_DIR`, `ART28_LISTEN`, …). `ART28_CONFIG`
    /// names the file and is not a key itself.
    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self> {
        let mut table = toml::Table::new();
        for (k, v) in vars {
            let Some(key) = k.strip_prefix("ART28_") else {
                continue;
            };
            if key == "CONFIG" {
                continue;
            }
            let key = key.to_ascii_lowercase();
            if SECRET_KEYS.contains(&key.as_str()) {
                table.insert(key, toml::Value::String(v));
                continue;
            }
            // Typed values (`true`, `1048576`) are read as TOML; anything else is a string.
            let value = format!("v = {v}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .filter(|v| !v.is_str())
                .unwrap_or(toml::Value::String(v));
            table.insert(key, value);
        }
        table.try_into().map_err(|e: toml::de::Error| {
            config_err(format!(
                "environment: {} (variables are ART28_ followed by a key in upper case)",
                e.message().trim()
            ))
        })
    }

    /// Overlay `over` on this layer.
    #[must_use]
    pub fn then(self, over: ConfigLayer) -> Self {
        Self {
            data_dir: over.data_dir.or(self.data_dir),
            database: over.database.or(self.database),
            log_signing_key_file: over.log_signing_key_file.or(self.log_signing_key_file),
            vault_keys_file: over.vault_keys_file.or(self.vault_keys_file),
            listen: over.listen.or(self.listen),
            demo: over.demo.or(self.demo),
            log_format: over.log_format.or(self.log_format),
            log: over.log.or(self.log),
            max_body_bytes: over.max_body_bytes.or(self.max_body_bytes),
            log_origin: over.log_origin.or(self.log_origin),
            staff_credential_expiry: over.staff_credential_expiry.or(self.staff_credential_expiry),
            smtp_relay: over.smtp_relay.or(self.smtp_relay),
            smtp_username: over.smtp_username.or(self.smtp_username),
            smtp_password: over.smtp_password.or(self.smtp_password),
            smtp_password_file: over.smtp_password_file.or(self.smtp_password_file),
            smtp_ca_file: over.smtp_ca_file.or(self.smtp_ca_file),
            mail_from: over.mail_from.or(self.mail_from),
            webhook_allow_loopback: over.webhook_allow_loopback.or(self.webhook_allow_loopback),
            header_read_timeout_secs: over.header_read_timeout_secs.or(self.header_read_timeout_secs),
            idle_timeout_secs: over.idle_timeout_secs.or(self.idle_timeout_secs),
            max_connections_per_client: over.max_connections_per_client.or(self.max_connections_per_client),
            max_connections: over.max_connections.or(self.max_connections),
            tls_cert: over.tls_cert.or(self.tls_cert),
            tls_key: over.tls_key.or(self.tls_key),
        }
    }

    /// Fill what is unset with defaults and check the result.
    pub fn resolve(self) -> Result<Config> {
        let d = Config::default();
        let config = Config {
            data_dir: self.data_dir.unwrap_or(d.data_dir),
            database: self.database.filter(|u| !u.0.expose_secret().trim().is_empty()),
            log_signing_key_file: self.log_signing_key_file.filter(|p| !p.as_os_str().is_empty()),
            vault_keys_file: self.vault_keys_file.filter(|p| !p.as_os_str().is_empty()),
            listen: self.listen.unwrap_or(d.listen),
            demo: self.demo.unwrap_or(d.demo),
            log_format: self.log_format.unwrap_or(d.log_format),
            log: self.log.unwrap_or(d.log),
            max_body_bytes: self.max_body_bytes.unwrap_or(d.max_body_bytes),
            log_origin: self.log_origin.unwrap_or(d.log_origin),
            staff_credential_expiry: self.staff_credential_expiry.unwrap_or(d.staff_credential_expiry),
            smtp_relay: self.smtp_relay.filter(|s| !s.trim().is_empty()),
            smtp_username: self.smtp_username.filter(|s| !s.trim().is_empty()),
            smtp_password: self.smtp_password,
            smtp_password_file: self.smtp_password_file,
            smtp_ca_file: self.smtp_ca_file,
            mail_from: self.mail_from.unwrap_or(d.mail_from),
            webhook_allow_loopback: self.webhook_allow_loopback.unwrap_or(d.webhook_allow_loopback),
            header_read_timeout_secs: self.header_read_timeout_secs.unwrap_or(d.header_read_timeout_secs),
            idle_timeout_secs: self.idle_timeout_secs.unwrap_or(d.idle_timeout_secs),
            max_connections_per_client: self.max_connections_per_client.unwrap_or(d.max_connections_per_client),
            max_connections: self.max_connections.unwrap_or(d.max_connections),
            tls_cert: self.tls_cert.filter(|p| !p.as_os_str().is_empty()),
            tls_key: self.tls_key.filter(|p| !p.as_os_str().is_empty()),
        };
        if config.max_body_bytes < 1024 {
            return Err(config_err("max_body_bytes must be at least 1024".into()));
        }
        if config.data_dir.as_os_str().is_empty() {
            return Err(config_err("data_dir must not be empty".into()));
        }
        if let Some(url) = &config.database {
            let url = url.0.expose_secret();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(config_err(format!(
                    "database must be a postgres:// URL (got {}); leave it out for SQLite in the data directory",
                    redact(url)
                )));
            }
            crate::datadir::check_database_url(url)?;
        }
        for (key, value) in [
            ("header_read_timeout_secs", config.header_read_timeout_secs),
            ("idle_timeout_secs", config.idle_timeout_secs),
        ] {
            if value == 0 || value > 3600 {
                return Err(config_err(format!("{key} must be from 1 to 3600 seconds")));
            }
        }
        if config.max_connections_per_client == 0 || config.max_connections == 0 {
            return Err(config_err(
                "max_connections_per_client and max_connections must be at least 1".into(),
            ));
        }
        if config.tls_cert.is_some() != config.tls_key.is_some() {
            return Err(config_err(
                "tls_cert and tls_key go together: name both files or neither".into(),
            ));
        }
        if config.smtp_relay.is_none() {
            let set: Vec<&str> = [
                ("smtp_username", config.smtp_username.is_some()),
                ("ART28_SMTP_PASSWORD", config.smtp_password.is_some()),
                ("smtp_password_file", config.smtp_password_file.is_some()),
                ("smtp_ca_file", config.smtp_ca_file.is_some()),
            ]
            .into_iter()
            .filter_map(|(k, on)| on.then_some(k))
            .collect();
            if !set.is_empty() {
                return Err(config_err(format!("{} set but no smtp_relay", set.join(", "))));
            }
        }
        Ok(config)
    }
}

fn config_err(message: String) -> Error {
    Error::new(ErrorCode::ConfigInvalid, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn flags_beat_env_beat_file_beat_defaults() {
        let file = ConfigLayer::from_toml(
            "f.toml",
            "listen = \"127.0.0.1:1\"\ndata_dir = \"from-file\"\ndemo = true\n",
        )
        .unwrap();
        let env = ConfigLayer::from_env(env(&[
            ("ART28_LISTEN", "127.0.0.1:2"),
            ("ART28_MAX_BODY_BYTES", "4096"),
            ("PATH", "/bin"),
            ("ART28_CONFIG", "x.toml"),
        ]))
        .unwrap();
        let flags = ConfigLayer {
            listen: Some("127.0.0.1:3".parse().unwrap()),
            ..ConfigLayer::default()
        };
        let c = file.then(env).then(flags).resolve().unwrap();
        assert_eq!(c.listen.port(), 3);
        assert_eq!(c.data_dir, PathBuf::from("from-file"));
        assert!(c.demo);
        assert_eq!(c.max_body_bytes, 4096);
        assert_eq!(c.log, "info");
    }

    #[test]
    fn webhooks_reach_loopback_only_when_the_operator_says_so() {
        assert!(!ConfigLayer::default().resolve().unwrap().webhook_allow_loopback);
        let on = ConfigLayer::from_env(env(&[("ART28_WEBHOOK_ALLOW_LOOPBACK", "true")]))
            .unwrap()
            .resolve()
            .unwrap();
        assert!(on.webhook_allow_loopback);
        let off = ConfigLayer::from_toml("f.toml", "webhook_allow_loopback = true\n")
            .unwrap()
            .then(ConfigLayer {
                webhook_allow_loopback: Some(false),
                ..ConfigLayer::default()
            })
            .resolve()
            .unwrap();
        assert!(!off.webhook_allow_loopback);
    }

    #[test]
    fn unknown_or_mistyped_keys_are_refused_naming_the_layer() {
        let e = ConfigLayer::from_toml("f.toml", "lisen = \"127.0.0.1:1\"\n").unwrap_err();
        assert_eq!(e.code, ErrorCode::ConfigInvalid);
        assert!(
            e.message.starts_with("f.toml") && e.message.contains("lisen"),
            "{}",
            e.message
        );
        let e = ConfigLayer::from_env(env(&[("ART28_DEMO", "perhaps")])).unwrap_err();
        assert!(e.message.starts_with("environment"), "{}", e.message);
        let e = ConfigLayer::from_toml("f.toml", "listen = 8028\n").unwrap_err();
        assert!(
            e.message.contains("listen") || e.message.contains("invalid type"),
            "{}",
            e.message
        );
        let e = ConfigLayer::from_toml("f.toml", "tls_cert = \"c.pem\"\n")
            .unwrap()
            .resolve()
            .unwrap_err();
        assert!(e.message.contains("tls_key"), "{}", e.message);
        let e = ConfigLayer::from_toml("f.toml", "header_read_timeout_secs = 0\n")
            .unwrap()
            .resolve()
            .unwrap_err();
        assert!(e.message.contains("header_read_timeout_secs"), "{}", e.message);
        let e = ConfigLayer::from_toml("f.toml", "max_body_bytes = 10\n")
            .unwrap()
            .resolve()
            .unwrap_err();
        assert!(e.message.contains("max_body_bytes"));
    }

    #[test]
    fn the_smtp_password_comes_from_the_environment_as_text_and_never_from_the_file() {
        let env = ConfigLayer::from_env(env(&[
            ("ART28_SMTP_RELAY", "smtps://mail.example.nl"),
            ("ART28_SMTP_USERNAME", "art28"),
            ("ART28_SMTP_PASSWORD", "12345"),
        ]))
        .unwrap();
        let c = env.resolve().unwrap();
        assert_eq!(c.smtp_password.as_ref().map(|p| p.0.expose_secret()), Some("12345"));
        assert!(!format!("{c:?}").contains("12345"));
        let e = ConfigLayer::from_toml("f.toml", "smtp_password = \"hunter2\"\n").unwrap_err();
        assert!(
            e.message.contains("smtp_password_file") && !e.message.contains("hunter2"),
            "{}",
            e.message
        );
        let e = ConfigLayer::from_toml("f.toml", "smtp_ca_file = \"ca.pem\"\n")
            .unwrap()
            .resolve()
            .unwrap_err();
        assert!(e.message.contains("no smtp_relay"), "{}", e.message);
    }
}
