//! # art28: the command
//!
//! `art28 serve` runs the server; `art28 agreement check|render|schema` work on agreement
//! files offline; `art28 openapi` prints the API description. Every subcommand is a thin shell
//! over the library crates, so what the CLI does is what the server does.

mod admin_cmd;
mod agreement_cmd;
mod bench;
mod bench_http;
mod bench_peers;
mod bench_pg;
mod bench_vault;
mod log_cmd;

use art28_server::config::{ConfigLayer, LogFormat};
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(name = "art28", version, about = "GDPR Article 28 processor agreements, as data", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP server.
    Serve(ServeArgs),
    /// Check and render processor agreements.
    #[command(subcommand)]
    Agreement(agreement_cmd::AgreementCommand),
    /// Verify the access log offline: evidence bundles and checkpoints.
    #[command(subcommand)]
    Log(log_cmd::LogCommand),
    /// Administration on a data directory (no server running on it).
    #[command(subcommand)]
    Admin(admin_cmd::AdminCommand),
    /// Measure performance against baselines from the same run.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Print the OpenAPI document of the HTTP API.
    Openapi,
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Configuration file (TOML); also ART28_CONFIG.
    #[arg(long, env = "ART28_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory, created on first start [default: art28-data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The database: a postgres:// URL; without it, SQLite in the data directory. Also
    /// ART28_DATABASE (better for a URL with a password: flags show in process lists).
    #[arg(long)]
    database: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8028].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Load a fictional processor with example customers.
    #[arg(long)]
    demo: bool,
    /// Log format.
    #[arg(long, value_enum)]
    log_format: Option<LogFormatArg>,
    /// Let customers' webhooks reach this machine's loopback (127.0.0.0/8, ::1), also by plain
    /// http, e.g. for a local relay; off by default.
    #[arg(long)]
    webhook_allow_loopback: bool,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long)]
    tls_key: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum LogFormatArg {
    Text,
    Json,
}

// glibc's allocator showed lock contention between the runtime's threads and the SQLite writer
// in profiles (`art28 bench log`, `art28 bench vault`); mimalloc keeps per-thread heaps.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Agreement(cmd) => agreement_cmd::run(cmd),
        Command::Log(cmd) => log_cmd::run(cmd),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Admin(cmd) => admin_cmd::run(cmd),
        Command::Openapi => print_json(&art28_server::api::openapi()),
    }
}

/// Print a JSON document, pretty, on standard output.
pub(crate) fn print_json(value: &serde_json::Value) -> ExitCode {
    match serde_json::to_string_pretty(value) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Print an art28 error for a person.
pub(crate) fn report(e: &art28_core::Error) {
    eprintln!("error: {} [{}]", e.message, e.code);
    for d in &e.details {
        eprintln!("  {d}");
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let config = match resolve_config(&args) {
        Ok(c) => c,
        Err(e) => {
            report(&e);
            return ExitCode::from(2);
        }
    };
    init_tracing(config.log_format, &config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let bound = art28_server::bind(&config, Arc::new(art28_service::clock::SystemClock)).await?;
        let demo = bound.populate_demo().await?;
        let addr = bound.local_addr()?;
        tracing::info!(%addr, "listening");
        // One line on stdout for people and scripts; logs go to stderr.
        println!(
            "art28 listening on {}://{addr} (data directory: {}{})",
            if bound.tls() { "https" } else { "http" },
            config.data_dir.display(),
            match &config.database {
                Some(url) => format!(", database: {url:?}"),
                None => String::new(),
            }
        );
        if let Some(setup) = &demo {
            let scheme = if bound.tls() { "https" } else { "http" };
            demo_block(setup, &format!("{scheme}://{addr}/login"), config.smtp_relay.is_some());
        }
        bound.run(art28_server::shutdown_signal()).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

/// What `serve --demo` tells a person on standard output (never in the log): the demo's
/// accounts with their passwords, once, when they are made; afterwards one line. Write
/// errors are ignored: whoever started the server may have stopped reading.
fn demo_block(setup: &art28_service::demo::Setup, login: &str, relay: bool) {
    use art28_service::demo::Setup;
    use secrecy::ExposeSecret;
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let mut text = String::new();
    match setup {
        Setup::Created(accounts) => {
            text.push_str(&format!(
                "\nDemo accounts, shown only now / Demo-accounts, alleen nu getoond\n\
                 Log in at / Log in op: {login}\n\
                 Change the password at the first login / Wijzig het wachtwoord bij de eerste keer inloggen.\n\n"
            ));
            text.push_str(&format!(
                "  {:<36} {:<18} {:<29} {}\n",
                "username", "role", "customer", "password"
            ));
            for a in accounts {
                let customer = a.customer.as_ref().map_or("-", |c| c.as_str());
                text.push_str(&format!(
                    "  {:<36} {:<18} {:<29} {}\n",
                    a.username,
                    a.role.as_str(),
                    customer,
                    a.password.expose_secret()
                ));
            }
            if !relay {
                text.push_str(
                    "\nNo smtp_relay: breach notices wait in the outbox / Geen smtp_relay: meldingen wachten in de outbox.\n",
                );
            }
            text.push_str("End of demo accounts / Einde demo-accounts\n");
        }
        Setup::Present => text.push_str(
            "Demo accounts exist; remove the data directory for new passwords / \
             Demo-accounts bestaan al; verwijder de datamap voor nieuwe wachtwoorden.\n",
        ),
        Setup::Incomplete => text.push_str(
            "The demo in this data directory is incomplete; remove the data directory for a whole demo / \
             De demo in deze datamap is onvolledig; verwijder de datamap voor een volledige demo.\n",
        ),
    }
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn resolve_config(args: &ServeArgs) -> art28_core::Result<art28_server::config::Config> {
    let file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                art28_core::Error::new(
                    art28_core::ErrorCode::ConfigInvalid,
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            ConfigLayer::from_toml(&path.display().to_string(), &text)?
        }
        None => ConfigLayer::default(),
    };
    let env = ConfigLayer::from_env(std::env::vars())?;
    let flags = ConfigLayer {
        data_dir: args.data_dir.clone(),
        database: args
            .database
            .clone()
            .map(|d| art28_server::config::DatabaseUrl(secrecy::SecretString::from(d))),
        listen: args.listen,
        demo: args.demo.then_some(true),
        log_format: args.log_format.map(|f| match f {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }),
        webhook_allow_loopback: args.webhook_allow_loopback.then_some(true),
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        ..ConfigLayer::default()
    };
    file.then(env).then(flags).resolve()
}

fn init_tracing(format: LogFormat, filter: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
