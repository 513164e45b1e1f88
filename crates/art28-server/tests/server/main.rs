//! Integration tests of art28-server over real HTTP on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod accounts;
#[path = "../support/aiosmtpd.rs"]
mod aiosmtpd;
mod api;
mod deadlines;
mod hardening;
mod harness;
mod incidents;
mod layering;
mod lifecycle;
mod log;
mod mail_tls;
mod portal;
mod subprocessors;
mod transport;
mod vault;
