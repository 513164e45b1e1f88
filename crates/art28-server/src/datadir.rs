//! The data directory: `art28.sqlite` (the store), `operator.token` (the API credential) and
//! `lock` (held while a server runs, so two servers never share one directory), `vault.keys`
//! (the vault's master keys) and `erasures.journal` (erasures, replayed after a restore).

use crate::auth::TokenDigest;
use art28_core::{Error, ErrorCode, Result};
use art28_ledger::checkpoint::LogSigner;
use art28_store::postgres::PgStore;
use art28_store::prelude::*;
use art28_store::sqlite::SqliteStore;
use secrecy::ExposeSecret;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Whether the client can read a `postgres://` URL (`config_invalid` if not), checked with the
/// rest of the configuration before anything starts.
pub fn check_database_url(url: &str) -> Result<()> {
    PgStore::parse_url(url).map(drop)
}

/// Where the data is kept.
#[derive(Debug)]
enum Backend {
    /// `art28.sqlite` in the data directory, the default.
    Sqlite(SqliteStore),
    /// A PostgreSQL database (`database = "postgres://…"`).
    Postgres(PgStore),
}

/// An open data directory. The lock is released when this is dropped.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    /// The log's signing key file.
    log_key: PathBuf,
    /// The vault's keyring file.
    vault_keys: PathBuf,
    _lock: File,
    store: Backend,
    operator: TokenDigest,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::new(ErrorCode::ConfigInvalid, format!("{what} {}: {e}", path.display()))
}

impl DataDir {
    /// Open, creating the directory, database and token on first use; the store is
    /// `art28.sqlite` in the directory unless `database` names a PostgreSQL database.
    pub async fn open(path: &Path, database: Option<&crate::config::DatabaseUrl>, keys: &KeyFiles) -> Result<Self> {
        create_private_dir(path)?;
        let lock_path = path.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_err("cannot open", &lock_path, e))?;
        if lock.try_lock().is_err() {
            return Err(Error::new(
                ErrorCode::Unavailable,
                format!(
                    "the data directory {} is in use by another art28 process",
                    path.display()
                ),
            ));
        }
        let store = match database {
            None => Backend::Sqlite(SqliteStore::open(&path.join("art28.sqlite"))?),
            Some(url) => {
                let store = PgStore::connect(url.0.expose_secret()).await?;
                tracing::info!(database = %store.database(), "PostgreSQL database open");
                Backend::Postgres(store)
            }
        };
        let operator = operator_token(path)?;
        tracing::info!(data_dir = %path.display(), "data directory open");
        Ok(Self {
            path: path.to_path_buf(),
            log_key: keys
                .log_signing_key
                .clone()
                .unwrap_or_else(|| path.join("log-signing.key")),
            vault_keys: keys.vault_keys.clone().unwrap_or_else(|| path.join("vault.keys")),
            _lock: lock,
            store,
            operator,
        })
    }

    /// The store.
    pub fn store(&self) -> Arc<dyn Store> {
        match &self.store {
            Backend::Sqlite(s) => Arc::new(s.clone()),
            Backend::Postgres(s) => Arc::new(s.clone()),
        }
    }

    /// Digest of the operator token.
    pub fn operator_digest(&self) -> TokenDigest {
        self.operator.clone()
    }

    /// The access log's signing key, made on first start and kept in `log-signing.key`
    /// (mode 0600). Losing it means new checkpoints cannot be checked against old ones.
    pub fn log_signer(&self, origin: &str) -> Result<LogSigner> {
        let path = self.log_key.clone();
        let key_err = |e: art28_ledger::checkpoint::KeyError| {
            Error::new(ErrorCode::ConfigInvalid, format!("log signing key: {e}"))
        };
        match fs::read_to_string(&path) {
            Ok(text) => {
                let bytes: [u8; 32] = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| {
                        Error::new(
                            ErrorCode::ConfigInvalid,
                            format!("{} is damaged: expected 64 hex digits", path.display()),
                        )
                    })?;
                LogSigner::from_bytes(origin, &bytes).map_err(key_err)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let signer = LogSigner::generate(origin).map_err(key_err)?;
                write_secret_at(&path, &hex::encode(*signer.secret_bytes()))?;
                tracing::info!(path = %path.display(), "access log signing key created");
                Ok(signer)
            }
            Err(e) => Err(io_err("cannot read", &path, e)),
        }
    }
}

impl DataDir {
    /// The vault's master keys, made on first start and kept in `vault.keys` (mode 0600).
    /// Without this file the vault's data cannot be read: back it up, apart from the database.
    pub fn keyring(&self) -> Result<art28_crypto::Keyring> {
        read_keyring_at(&self.vault_keys)
    }

    /// A function that writes the keyring durably to `vault.keys`.
    pub fn keyring_saver(&self) -> impl Fn(&art28_crypto::Keyring) -> Result<()> + Send + Sync + 'static {
        let path = self.vault_keys.clone();
        move |ring: &art28_crypto::Keyring| write_secret_at(&path, &ring.to_text())
    }

    /// The erasure journal, `erasures.journal`: kept apart from the database so a restored
    /// backup cannot bring erased data back.
    pub fn erasure_journal(&self) -> art28_service::vault::ErasureJournal {
        art28_service::vault::ErasureJournal::new(self.path.join("erasures.journal"))
    }
}

/// Where the keys are kept when not in the data directory.
#[derive(Debug, Clone, Default)]
pub struct KeyFiles {
    /// The log's signing key (`log_signing_key_file`).
    pub log_signing_key: Option<PathBuf>,
    /// The vault's master keys (`vault_keys_file`).
    pub vault_keys: Option<PathBuf>,
}

/// Read the vault's keyring from a data directory, making one on first use.
pub fn read_keyring(dir: &Path) -> Result<art28_crypto::Keyring> {
    read_keyring_at(&dir.join("vault.keys"))
}

/// Read the vault's keyring from its file, making one on first use.
pub fn read_keyring_at(path: &Path) -> Result<art28_crypto::Keyring> {
    let path = path.to_path_buf();
    match fs::read_to_string(&path) {
        Ok(text) => art28_crypto::Keyring::parse(&text)
            .map_err(|e| Error::new(ErrorCode::ConfigInvalid, format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let ring =
                art28_crypto::Keyring::new(art28_crypto::MasterKey::new(art28_crypto::Key::generate()), Vec::new());
            write_secret_at(&path, &ring.to_text())?;
            tracing::info!(path = %path.display(), key = %ring.active().id, "vault master key created");
            Ok(ring)
        }
        Err(e) => Err(io_err("cannot read", &path, e)),
    }
}

fn create_private_dir(path: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(path)
        .map_err(|e| io_err("cannot create the data directory", path, e))
}

/// Write a secret file readable by its owner only: to a temporary file, synced, then renamed,
/// so a crash never leaves a half-written secret.
/// Write a secret file durably and atomically (a temporary file beside it, synced, renamed),
/// readable by its owner only.
fn write_secret_at(path: &Path, contents: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut options = OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&tmp).map_err(|e| io_err("cannot write", &tmp, e))?;
    f.write_all(contents.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| io_err("cannot write", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| io_err("cannot write", path, e))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Read the operator token, or make one on first start. It is written to a temporary file,
/// synced and renamed, so a crash never leaves a half-written token.
fn operator_token(dir: &Path) -> Result<TokenDigest> {
    let path = dir.join("operator.token");
    match fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => return Ok(TokenDigest::of(s.trim())),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("cannot read", &path, e)),
    }
    let bytes: [u8; 32] = rand::random();
    let token = format!("art28_op_{}", hex::encode(bytes));
    let tmp = dir.join("operator.token.tmp");
    let mut options = OpenOptions::new();
    options.create(true).truncate(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&tmp).map_err(|e| io_err("cannot write", &tmp, e))?;
    f.write_all(token.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| io_err("cannot write", &tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| io_err("cannot write", &path, e))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    tracing::info!(path = %path.display(), "operator token created; it is shown nowhere else");
    Ok(TokenDigest::of(&token))
}
