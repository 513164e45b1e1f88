//! Integration tests of the `art28` binary, run as a user runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod agreement;
#[path = "../../../art28-server/tests/support/aiosmtpd.rs"]
mod aiosmtpd;
mod bench;
mod demo;
mod log;
mod outbox;
#[path = "../../../art28-store/tests/support/pg.rs"]
mod pg;
mod postgres;
mod serve;

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn art28() -> Command {
    Command::new(env!("CARGO_BIN_EXE_art28"))
}

pub fn examples() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/agreements"))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
