//! The PostgreSQL peer: a throwaway cluster from Debian's packages with pgcrypto, in three
//! variants of audit trail: (a) an audit row in the same transaction as every operation, (b)
//! pgaudit's session log, (c) none (the ceiling); and (d), (a) with pgcrypto's key derivation
//! tuned to one hash, for reference.
//!
//! Every record is encrypted field by field in SQL with `pgp_sym_encrypt` under its
//! customer's key (held by the client, passed as a bind parameter), and found by a keyed blind
//! index of its e-mail, `hmac(lower(email), index_key, 'sha256')`. The server keeps
//! PostgreSQL's durable defaults (`fsync = on`, `synchronous_commit = on`).

use super::{Figures, LOOKUPS, Sizes, WRITERS, free_port, timed};
use crate::bench::bar;
use crate::bench_vault::{email, err, subject, tenant, values};
use art28_core::vault::Values;
use serde_json::{Value, json};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Statement};

/// pgcrypto's options for every field (the other options keep their documented defaults).
const OPTIONS: &str = "cipher-algo=aes256";
/// The same with a single salted hash as the key derivation (`s2k-mode=1`) instead of the
/// default iterated one: a tuned deployment, variant (d), for reference. With a random 32-byte
/// key as the "password", iterating the hash adds no strength.
const FAST_OPTIONS: &str = "cipher-algo=aes256, s2k-mode=1";
/// The five fields, in column order.
const FIELDS: [&str; 5] = ["name", "email", "iban", "address", "salary"];
/// Records per multi-row INSERT while filling.
const BATCH: u64 = 200;
/// Connections filling at once.
const FILLERS: u64 = 4;
/// Who the audit rows name, and why.
const ACTOR: &str = "bench-app";
const PURPOSE: &str = "payroll";

fn pg_err(e: tokio_postgres::Error) -> String {
    crate::bench_pg::pg_err(&e)
}

/// `initdb`'s directory: the highest version under /usr/lib/postgresql with both `initdb`
/// and `pg_ctl`.
fn find_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// The `postgres` account's uid and gid when this process runs as root (PostgreSQL refuses
/// to run as root), else `None`: the cluster runs as the current user.
fn owner() -> Result<Option<(u32, u32)>, String> {
    let euid = std::fs::metadata("/proc/self").map_err(err)?.uid();
    if euid != 0 {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(err)?;
    let line = passwd
        .lines()
        .find(|l| l.starts_with("postgres:"))
        .ok_or("running as root, and there is no postgres account to run PostgreSQL as")?;
    let f: Vec<&str> = line.split(':').collect();
    let id = |i: usize| {
        f.get(i)
            .and_then(|s| s.parse::<u32>().ok())
            .ok_or("bad /etc/passwd entry")
    };
    Ok(Some((id(2)?, id(3)?)))
}

/// A throwaway cluster in `dir`; dropping it stops the server (`pg_ctl stop -m fast`).
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    log: PathBuf,
    owner: Option<(u32, u32)>,
    port: u16,
}

impl Cluster {
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.owner {
            c.uid(uid).gid(gid);
        }
        c.env("LC_ALL", "C");
        c
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let out = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{program}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }

    /// `initdb` and start the server; the returned guard stops it, also when starting failed.
    fn start(dir: &Path, bin: PathBuf, pgaudit: bool) -> Result<Self, String> {
        let owner = owner()?;
        let cluster = Self {
            bin,
            data: dir.join("data"),
            log: dir.join("log"),
            owner,
            port: free_port()?,
        };
        if let Some((uid, gid)) = owner {
            // The run's directory (made by this run, 0700) must be traversable by postgres.
            if let Some(parent) = dir.parent() {
                let mode = std::fs::metadata(parent).map_err(err)?.permissions().mode();
                std::fs::set_permissions(parent, std::fs::Permissions::from_mode(mode | 0o001)).map_err(err)?;
            }
            std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(err)?;
        }
        let data = cluster.data.to_string_lossy().into_owned();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "bench",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        )?;
        let dir_s = dir.to_string_lossy();
        let mut conf = format!(
            "\n# art28 bench peers\nlisten_addresses = '127.0.0.1'\nport = {}\n\
             unix_socket_directories = '{dir_s}'\nmax_connections = 100\n\
             fsync = on\nsynchronous_commit = on\n\
             logging_collector = on\nlog_directory = '{}'\nlog_filename = 'postgresql.log'\n",
            cluster.port,
            cluster.log.display()
        );
        if pgaudit {
            conf.push_str("shared_preload_libraries = 'pgaudit'\n");
        }
        let path = cluster.data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&path).map_err(err)?;
        text.push_str(&conf);
        std::fs::write(&path, text).map_err(err)?;
        let server_log = dir.join("pg_ctl.log").to_string_lossy().into_owned();
        cluster.run("pg_ctl", &["-D", &data, "-l", &server_log, "-w", "-t", "60", "start"])?;
        Ok(cluster)
    }

    async fn connect(&self, db: &str) -> Result<Client, String> {
        let url = format!("host=127.0.0.1 port={} user=bench dbname={db}", self.port);
        let (client, conn) = tokio_postgres::connect(&url, NoTls).await.map_err(pg_err)?;
        tokio::spawn(conn);
        Ok(client)
    }

    /// Bytes in the server's log directory (where pgaudit writes).
    fn log_bytes(&self) -> u64 {
        std::fs::read_dir(&self.log)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data.to_string_lossy().into_owned();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-w", "-t", "60", "stop", "-m", "fast"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// `{"variants": {"a_audit_row": Figures, "b_pgaudit": Figures, "c_no_audit": Figures,
/// "d_audit_row_s2k1": Figures},
/// "version": …, "settings": {…}}`, or `{"skipped": why}` when PostgreSQL is not installed.
pub(crate) async fn peer(dir: &Path, sizes: Sizes, show: bool) -> Result<Value, String> {
    let Some(bin) = find_bin() else {
        return Ok(json!({ "skipped": "PostgreSQL is not installed (apt-get install postgresql)" }));
    };
    let pgaudit = bin.parent().is_some_and(|v| v.join("lib/pgaudit.so").is_file());
    let cluster = Cluster::start(dir, bin, pgaudit)?;
    // `cluster` is dropped (the server stopped) on every path out of here.
    measure(&cluster, sizes, show, pgaudit).await
}

/// The client's keys: one per customer, one for the blind index (hex text).
struct Keys {
    customers: Vec<String>,
    index: String,
}

impl Keys {
    fn new() -> Self {
        let key = || hex::encode(art28_crypto::Key::generate().expose());
        Self {
            customers: (0..100).map(|_| key()).collect(),
            index: key(),
        }
    }
}

const SCHEMA: &str = "
    CREATE EXTENSION pgcrypto;
    CREATE TABLE records (
        id bigserial PRIMARY KEY,
        tenant text NOT NULL,
        subject text NOT NULL,
        email_index bytea NOT NULL,
        name bytea NOT NULL,
        email bytea NOT NULL,
        iban bytea NOT NULL,
        address bytea NOT NULL,
        salary bytea NOT NULL
    );
    CREATE INDEX records_tenant_email ON records (tenant, email_index);
    CREATE INDEX records_tenant_subject ON records (tenant, subject);
";

const AUDIT_TABLE: &str = "
    CREATE TABLE audit (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        tenant text NOT NULL,
        operation text NOT NULL,
        resource text NOT NULL,
        purpose text NOT NULL
    );
";

fn insert_sql(options: &str) -> String {
    let enc: Vec<String> = (0..5)
        .map(|i| format!("pgp_sym_encrypt(${}::text, $10::text, '{options}')", i + 5))
        .collect();
    format!(
        "INSERT INTO records (tenant, subject, email_index, {}) \
         VALUES ($1::text, $2::text, hmac(lower($3::text), $4::text, 'sha256'), {})",
        FIELDS.join(", "),
        enc.join(", ")
    )
}

fn fill_sql(options: &str) -> String {
    let enc: Vec<String> = (1..=5)
        .map(|i| format!("pgp_sym_encrypt(v{i}, k, '{options}')"))
        .collect();
    format!(
        "INSERT INTO records (tenant, subject, email_index, {}) \
         SELECT t, s, hmac(lower(e), $1::text, 'sha256'), {} \
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], \
                     $6::text[], $7::text[], $8::text[], $9::text[], $10::text[]) \
              AS u(t, s, e, k, v1, v2, v3, v4, v5)",
        FIELDS.join(", "),
        enc.join(", ")
    )
}

fn lookup_sql() -> String {
    let dec: Vec<String> = FIELDS
        .iter()
        .map(|f| format!("pgp_sym_decrypt({f}, $3::text)"))
        .collect();
    format!(
        "SELECT subject, {} FROM records \
         WHERE tenant = $1::text AND email_index = hmac(lower($2::text), $4::text, 'sha256')",
        dec.join(", ")
    )
}

const AUDIT_SQL: &str = "INSERT INTO audit (actor, tenant, operation, resource, purpose) \
                         VALUES ($1::text, $2::text, $3::text, $4::text, $5::text)";

fn field<'a>(v: &'a Values, name: &str) -> &'a str {
    v.get(name).map(String::as_str).unwrap_or_default()
}

/// Fill `sizes.records` records into `db`, [`BATCH`] per INSERT from [`FILLERS`] connections.
async fn fill(
    cluster: &Cluster,
    db: &str,
    sizes: Sizes,
    keys: &Arc<Keys>,
    options: &str,
    show: bool,
) -> Result<(), String> {
    let mut conns = Vec::new();
    for _ in 0..FILLERS {
        let c = cluster.connect(db).await?;
        let st = c.prepare(&fill_sql(options)).await.map_err(pg_err)?;
        conns.push((c, st));
    }
    let conns = Arc::new(conns);
    let batches = sizes.records.div_ceil(BATCH);
    let pb = bar(show, sizes.records, "postgres: fill");
    let keys = keys.clone();
    let pb2 = pb.clone();
    timed(batches, FILLERS, move |w, b| {
        let conns = conns.clone();
        let keys = keys.clone();
        let pb = pb2.clone();
        async move {
            let (client, st) = conns.get(w as usize).ok_or("no connection")?;
            let ks: Vec<u64> = (b * BATCH..((b + 1) * BATCH).min(sizes.records)).collect();
            let mut cols: Vec<Vec<String>> = (0..9).map(|_| Vec::with_capacity(ks.len())).collect();
            for &k in &ks {
                let ti = (k / sizes.per_tenant()) as usize;
                let v = values(k);
                let row = [
                    tenant(ti).to_string(),
                    subject(k),
                    email(k),
                    keys.customers[ti % 100].clone(),
                ];
                for (c, x) in cols
                    .iter_mut()
                    .zip(row.into_iter().chain(FIELDS.iter().map(|f| field(&v, f).to_string())))
                {
                    c.push(x);
                }
            }
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![&keys.index];
            params.extend(cols.iter().map(|c| c as &(dyn ToSql + Sync)));
            client.execute(st, &params).await.map_err(pg_err)?;
            pb.inc(ks.len() as u64);
            Ok(())
        }
    })
    .await?;
    pb.finish_and_clear();
    Ok(())
}

/// One connection of a measurement, with its prepared statements.
struct Conn {
    client: Client,
    insert: Statement,
    lookup: Statement,
    audit: Option<Statement>,
}

/// How a variant keeps its trail.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Trail {
    /// An audit row in every operation's transaction.
    Row,
    /// pgaudit's log (or nothing): single statements in autocommit.
    None,
}

async fn open(cluster: &Cluster, db: &str, trail: Trail, options: &str) -> Result<Conn, String> {
    let client = cluster.connect(db).await?;
    let insert = client.prepare(&insert_sql(options)).await.map_err(pg_err)?;
    let lookup = client.prepare(&lookup_sql()).await.map_err(pg_err)?;
    let audit = match trail {
        Trail::Row => Some(client.prepare(AUDIT_SQL).await.map_err(pg_err)?),
        Trail::None => None,
    };
    Ok(Conn {
        client,
        insert,
        lookup,
        audit,
    })
}

impl Conn {
    async fn audit(&self, tenant: &str, operation: &str, resource: &str) -> Result<(), String> {
        if let Some(st) = &self.audit {
            self.client
                .execute(st, &[&ACTOR, &tenant, &operation, &resource, &PURPOSE])
                .await
                .map_err(pg_err)?;
        }
        Ok(())
    }

    async fn begin(&self) -> Result<(), String> {
        if self.audit.is_some() {
            self.client.batch_execute("BEGIN").await.map_err(pg_err)?;
        }
        Ok(())
    }

    async fn commit(&self) -> Result<(), String> {
        if self.audit.is_some() {
            self.client.batch_execute("COMMIT").await.map_err(pg_err)?;
        }
        Ok(())
    }

    async fn write(&self, keys: &Keys, ti: usize, k: u64) -> Result<(), String> {
        let t = tenant(ti).to_string();
        let s = subject(k);
        let e = email(k);
        let v = values(k);
        let f: Vec<&str> = FIELDS.iter().map(|n| field(&v, n)).collect();
        let key = &keys.customers[ti % 100];
        self.begin().await?;
        self.client
            .execute(
                &self.insert,
                &[&t, &s, &e, &keys.index, &f[0], &f[1], &f[2], &f[3], &f[4], key],
            )
            .await
            .map_err(pg_err)?;
        self.audit(&t, "record.create", &s).await?;
        self.commit().await
    }

    /// The decrypted records with this e-mail address in customer `ti`: (subject, name).
    async fn find(&self, keys: &Keys, ti: usize, e: &str) -> Result<Vec<(String, String)>, String> {
        let t = tenant(ti).to_string();
        let rows = self
            .client
            .query(&self.lookup, &[&t, &e, &keys.customers[ti % 100], &keys.index])
            .await
            .map_err(pg_err)?;
        rows.iter()
            .map(|r| Ok((r.try_get(0).map_err(pg_err)?, r.try_get(1).map_err(pg_err)?)))
            .collect()
    }

    async fn lookup(&self, keys: &Keys, ti: usize, k: u64) -> Result<(), String> {
        self.begin().await?;
        let found = self.find(keys, ti, &email(k)).await?;
        let [(s, name)] = found.as_slice() else {
            return Err(format!("postgres: {} records for email({k}), not one", found.len()));
        };
        self.audit(&tenant(ti).to_string(), "record.read", s).await?;
        self.commit().await?;
        if *name != field(&values(k), "name") {
            return Err(format!("postgres: wrong name for email({k})"));
        }
        Ok(())
    }

    async fn count(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<i64, String> {
        let row = self.client.query_one(sql, params).await.map_err(pg_err)?;
        row.try_get(0).map_err(pg_err)
    }
}

/// Measure one variant on database `db` (already filled).
async fn variant(
    cluster: &Cluster,
    db: &str,
    sizes: Sizes,
    keys: &Arc<Keys>,
    trail: Trail,
    options: &str,
    show: bool,
) -> Result<Figures, String> {
    let mut conns = Vec::new();
    for _ in 0..LOOKUPS.max(WRITERS) {
        conns.push(open(cluster, db, trail, options).await?);
    }
    let conns = Arc::new(conns);
    conns[0].client.batch_execute("CHECKPOINT").await.map_err(pg_err)?;

    let pb = bar(show, sizes.writes, &format!("postgres {db}: writes"));
    let (c, k, p) = (conns.clone(), keys.clone(), pb.clone());
    let writes = timed(sizes.writes, WRITERS, move |w, s| {
        let (conns, keys, pb) = (c.clone(), k.clone(), p.clone());
        async move {
            let conn = conns.get(w as usize).ok_or("no connection")?;
            conn.write(&keys, w as usize, sizes.records + s).await?;
            pb.inc(1);
            Ok(())
        }
    })
    .await?;
    pb.finish_and_clear();

    let pb = bar(show, sizes.lookups, &format!("postgres {db}: lookups"));
    let (c, k, p) = (conns.clone(), keys.clone(), pb.clone());
    let lookups = timed(sizes.lookups, LOOKUPS, move |w, s| {
        let (conns, keys, pb) = (c.clone(), k.clone(), p.clone());
        async move {
            let conn = conns.get(w as usize).ok_or("no connection")?;
            let (k, ti) = sizes.lookup(s);
            conn.lookup(&keys, ti, k).await?;
            pb.inc(1);
            Ok(())
        }
    })
    .await?;
    pb.finish_and_clear();

    let conn = &conns[0];
    // One data subject: record 1 of the fill.
    let (k, ti) = (1, (1 / sizes.per_tenant()) as usize);
    let (t, s) = (tenant(ti).to_string(), subject(k));
    let start = Instant::now();
    conn.begin().await?;
    conn.client
        .execute("DELETE FROM records WHERE tenant = $1 AND subject = $2", &[&t, &s])
        .await
        .map_err(pg_err)?;
    conn.audit(&t, "subject.erase", &s).await?;
    conn.commit().await?;
    let erase_subject_ms = start.elapsed().as_secs_f64() * 1000.0;
    let left = conn
        .count(
            "SELECT count(*) FROM records WHERE tenant = $1 AND subject = $2",
            &[&t, &s],
        )
        .await?;
    if left != 0 || !conn.find(keys, ti, &email(k)).await?.is_empty() {
        return Err(format!("postgres {db}: subject {s} still there after its erasure"));
    }

    // One whole customer: tenant(99), never written to by the writers.
    let t = tenant(99).to_string();
    let before = conn
        .count("SELECT count(*) FROM records WHERE tenant = $1", &[&t])
        .await?;
    if before as u64 != sizes.per_tenant() {
        return Err(format!(
            "postgres {db}: {t} has {before} records, not {}",
            sizes.per_tenant()
        ));
    }
    let start = Instant::now();
    conn.begin().await?;
    conn.client
        .execute("DELETE FROM records WHERE tenant = $1", &[&t])
        .await
        .map_err(pg_err)?;
    conn.audit(&t, "customer.erase", &t).await?;
    conn.commit().await?;
    let erase_customer_ms = start.elapsed().as_secs_f64() * 1000.0;
    if conn
        .count("SELECT count(*) FROM records WHERE tenant = $1", &[&t])
        .await?
        != 0
    {
        return Err(format!("postgres {db}: {t} still has records after its erasure"));
    }
    Ok(Figures {
        writes,
        lookups,
        erase_subject_ms,
        erase_customer_ms,
    })
}

async fn measure(cluster: &Cluster, sizes: Sizes, show: bool, pgaudit: bool) -> Result<Value, String> {
    let admin = cluster.connect("postgres").await?;
    let mut settings = serde_json::Map::new();
    for name in [
        "server_version",
        "fsync",
        "synchronous_commit",
        "wal_level",
        "wal_sync_method",
        "full_page_writes",
        "shared_preload_libraries",
        "shared_buffers",
        "max_connections",
    ] {
        let row = admin.query_one(&format!("SHOW {name}"), &[]).await.map_err(pg_err)?;
        let v: String = row.try_get(0).map_err(pg_err)?;
        settings.insert(name.into(), json!(v));
    }
    let version = settings.remove("server_version").unwrap_or_default();
    settings.insert(
        "pgcrypto".into(),
        json!({
            "encrypt": format!("pgp_sym_encrypt(field, customer_key, '{OPTIONS}') per field, five fields per record"),
            "decrypt": "pgp_sym_decrypt(field, customer_key) per field",
            "defaults_kept": "s2k-mode=3 (iterated, salted), s2k-digest-algo=sha1, s2k-count random 65536..253952 per message, compress-algo=0",
            "blind_index": "hmac(lower(email), index_key, 'sha256')",
            "keys": "a random 32-byte key per customer and one index key, held by the client, sent as hex bind parameters",
        }),
    );
    settings.insert(
        "fill".into(),
        json!(format!("one database filled ({BATCH} records per INSERT … SELECT FROM unnest, {FILLERS} connections), copied per variant with CREATE DATABASE … TEMPLATE")),
    );
    settings.insert(
        "connections".into(),
        json!(format!(
            "tokio-postgres over TCP 127.0.0.1, NoTls, prepared statements; {WRITERS} writing, {LOOKUPS} looking up"
        )),
    );

    let keys = Arc::new(Keys::new());
    admin.batch_execute("CREATE DATABASE fill").await.map_err(pg_err)?;
    {
        let fill_db = cluster.connect("fill").await?;
        fill_db.batch_execute(SCHEMA).await.map_err(pg_err)?;
        fill(cluster, "fill", sizes, &keys, OPTIONS, show).await?;
        fill_db.batch_execute("ANALYZE records").await.map_err(pg_err)?;
    }
    for db in ["a_audit_row", "b_pgaudit", "c_no_audit"] {
        if db == "b_pgaudit" && !pgaudit {
            continue;
        }
        admin
            .batch_execute(&format!("CREATE DATABASE {db} TEMPLATE fill"))
            .await
            .map_err(pg_err)?;
    }
    admin.batch_execute("DROP DATABASE fill").await.map_err(pg_err)?;

    let mut variants = serde_json::Map::new();

    cluster
        .connect("a_audit_row")
        .await?
        .batch_execute(AUDIT_TABLE)
        .await
        .map_err(pg_err)?;
    let a = variant(cluster, "a_audit_row", sizes, &keys, Trail::Row, OPTIONS, show).await?;
    let rows = cluster
        .connect("a_audit_row")
        .await?
        .query_one("SELECT count(*) FROM audit", &[])
        .await
        .map_err(pg_err)?
        .try_get::<_, i64>(0)
        .map_err(pg_err)?;
    let mut a = a.json();
    a["audit_rows"] = json!(rows);
    variants.insert("a_audit_row".into(), a);

    if pgaudit {
        let b = cluster.connect("b_pgaudit").await?;
        b.batch_execute("CREATE EXTENSION pgaudit; ALTER DATABASE b_pgaudit SET pgaudit.log = 'read, write'")
            .await
            .map_err(pg_err)?;
        drop(b);
        let before = cluster.log_bytes();
        let f = variant(cluster, "b_pgaudit", sizes, &keys, Trail::None, OPTIONS, show).await?;
        let mut f = f.json();
        f["pgaudit_log"] = json!("read, write");
        f["pgaudit_log_bytes"] = json!(cluster.log_bytes().saturating_sub(before));
        variants.insert("b_pgaudit".into(), f);
    } else {
        variants.insert(
            "b_pgaudit".into(),
            json!({ "skipped": "pgaudit is not installed (apt-get install postgresql-15-pgaudit)" }),
        );
    }

    let c = variant(cluster, "c_no_audit", sizes, &keys, Trail::None, OPTIONS, show).await?;
    variants.insert("c_no_audit".into(), c.json());

    // (d): as (a), with the records sealed under the single-hash key derivation.
    admin
        .batch_execute("CREATE DATABASE d_audit_row_s2k1")
        .await
        .map_err(pg_err)?;
    {
        let d = cluster.connect("d_audit_row_s2k1").await?;
        d.batch_execute(SCHEMA).await.map_err(pg_err)?;
        fill(cluster, "d_audit_row_s2k1", sizes, &keys, FAST_OPTIONS, show).await?;
        d.batch_execute("ANALYZE records").await.map_err(pg_err)?;
        d.batch_execute(AUDIT_TABLE).await.map_err(pg_err)?;
    }
    let d = variant(
        cluster,
        "d_audit_row_s2k1",
        sizes,
        &keys,
        Trail::Row,
        FAST_OPTIONS,
        show,
    )
    .await?;
    let mut d = d.json();
    d["pgcrypto_options"] = json!(FAST_OPTIONS);
    variants.insert("d_audit_row_s2k1".into(), d);

    Ok(json!({
        "version": version,
        "settings": settings,
        "variants": variants,
    }))
}
