//! `art28 admin …`: administration on the data directory itself, while no server runs on it.

use art28_core::auth::LockoutPolicy;
use art28_service::accounts::Accounts;
use art28_service::clock::SystemClock;
use art28_service::passwords::PasswordHasher;
use clap::Subcommand;
use secrecy::SecretString;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create the first processor administrator in a data directory without accounts. The
    /// password is read from ART28_ADMIN_PASSWORD or, if unset, from the first line of
    /// standard input; it is never echoed or logged.
    Bootstrap {
        /// Data directory [default: art28-data].
        #[arg(long, default_value = "art28-data")]
        data_dir: PathBuf,
        /// The database, if not SQLite in the data directory: a postgres:// URL.
        #[arg(long, env = "ART28_DATABASE", hide_env_values = true)]
        database: Option<String>,
        /// User name of the administrator.
        #[arg(long)]
        username: String,
        /// Name shown to people.
        #[arg(long)]
        display_name: String,
    },
}

pub fn run(cmd: AdminCommand) -> ExitCode {
    let AdminCommand::Bootstrap {
        data_dir,
        database,
        username,
        display_name,
    } = cmd;
    let password = match std::env::var("ART28_ADMIN_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let mut line = String::new();
            if std::io::stdin().lock().read_line(&mut line).is_err() {
                eprintln!("error: cannot read the password from standard input");
                return ExitCode::from(2);
            }
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    let password = SecretString::from(password);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let database = database
            .filter(|d| !d.trim().is_empty())
            .map(|d| art28_server::config::DatabaseUrl(SecretString::from(d)));
        let data = art28_server::datadir::DataDir::open(&data_dir, database.as_ref(), &Default::default()).await?;
        let accounts = Accounts::new(
            data.store(),
            Arc::new(SystemClock),
            PasswordHasher::default(),
            LockoutPolicy::default(),
        );
        accounts.bootstrap_admin(&username, &display_name, &password).await
    });
    match result {
        Ok(account) => {
            println!(
                "created processor administrator `{}` (account {})",
                account.username, account.id
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            crate::report(&e);
            ExitCode::from(1)
        }
    }
}
