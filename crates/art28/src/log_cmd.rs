//! `art28 log …`: offline verification of the access log, for a customer or its auditor who
//! has only this binary, a bundle downloaded from the portal or API, and the log's public key.

use art28_ledger::bundle::{Bundle, verify_bundle, verify_consistency_notes};
use art28_ledger::checkpoint::LogVerifier;
use art28_ledger::merkle::Hash;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum LogCommand {
    /// Verify an evidence bundle: the checkpoint's signature, every entry's inclusion proof,
    /// and (with --checkpoint) that the log still extends a checkpoint you saved earlier.
    Verify {
        /// Bundle file (JSON, from /api/v1/customers/{customer}/log/bundle).
        bundle: PathBuf,
        /// A signed checkpoint saved earlier, which the bundle's checkpoint must extend.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The log's public key: the verifier-key text, or a file holding it.
        #[arg(long)]
        key: String,
    },
    /// Check that the checkpoint NEW extends the checkpoint OLD, with a consistency proof.
    Consistency {
        /// The earlier signed checkpoint (file).
        old: PathBuf,
        /// The later signed checkpoint (file).
        new: PathBuf,
        /// The consistency proof: JSON from /api/v1/log/consistency, or a JSON list of hex hashes.
        #[arg(long)]
        proof: PathBuf,
        /// The log's public key: the verifier-key text, or a file holding it.
        #[arg(long)]
        key: String,
    },
}

pub fn run(cmd: LogCommand) -> ExitCode {
    let result = match cmd {
        LogCommand::Verify {
            bundle,
            checkpoint,
            key,
        } => verify(&bundle, checkpoint.as_deref(), &key),
        LogCommand::Consistency { old, new, proof, key } => consistency(&old, &new, &proof, &key),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Invalid(lines)) => {
            println!("FAIL");
            for l in lines {
                println!("  {l}");
            }
            ExitCode::from(1)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

enum Failure {
    /// The evidence does not verify.
    Invalid(Vec<String>),
    /// The files could not be read.
    Usage(String),
}

fn read(path: &Path, what: &str) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::Usage(format!("cannot read the {what} {}: {e}", path.display())))
}

fn key(arg: &str) -> Result<LogVerifier, Failure> {
    let text = if Path::new(arg).is_file() {
        read(Path::new(arg), "key file")?
    } else {
        arg.to_string()
    };
    text.trim()
        .parse()
        .map_err(|e| Failure::Usage(format!("the key is not a valid log verifier key: {e}")))
}

fn verify(bundle: &Path, checkpoint: Option<&Path>, key_arg: &str) -> Result<(), Failure> {
    let key = key(key_arg)?;
    let bundle = Bundle::from_json(&read(bundle, "bundle")?)
        .map_err(|e| Failure::Usage(format!("the bundle is not valid JSON of the bundle format: {e}")))?;
    let trusted = checkpoint.map(|p| read(p, "checkpoint")).transpose()?;
    match verify_bundle(&bundle, &key, trusted.as_deref()) {
        Ok(report) => {
            println!(
                "OK  {} entries verified against checkpoint {} of size {} (root {})",
                report.entries_verified,
                report.checkpoint.origin,
                report.checkpoint.size,
                hex::encode(report.checkpoint.root)
            );
            if trusted.is_some() {
                println!("    the log extends the checkpoint you trusted");
            }
            Ok(())
        }
        Err(failures) => Err(Failure::Invalid(failures.iter().map(ToString::to_string).collect())),
    }
}

fn consistency(old: &Path, new: &Path, proof: &Path, key_arg: &str) -> Result<(), Failure> {
    let key = key(key_arg)?;
    let old_note = read(old, "old checkpoint")?;
    let new_note = read(new, "new checkpoint")?;
    let proof = parse_proof(&read(proof, "proof")?)?;
    match verify_consistency_notes(&old_note, &new_note, &proof, &key) {
        Ok((o, n)) => {
            println!(
                "OK  checkpoint of size {} extends checkpoint of size {}",
                n.size, o.size
            );
            Ok(())
        }
        Err(e) => Err(Failure::Invalid(vec![e.to_string()])),
    }
}

fn parse_proof(text: &str) -> Result<Vec<Hash>, Failure> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Failure::Usage(format!("the proof is not JSON: {e}")))?;
    let list = value.get("proof").unwrap_or(&value);
    let items = list
        .as_array()
        .ok_or_else(|| Failure::Usage("the proof must be a list of hex hashes".into()))?;
    items
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(hex_decode)
                .ok_or_else(|| Failure::Usage(format!("`{h}` is not a 32-byte hex hash")))
        })
        .collect()
}

fn hex_decode(s: &str) -> Option<Hash> {
    hex::decode(s).ok()?.try_into().ok()
}
