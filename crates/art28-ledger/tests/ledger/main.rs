#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Integration tests of art28-ledger: independent oracles (Go-port `tlog_tiles` and
//! `signed_note`, `ct-merkle`, published test vectors), tamper detection and the frontier.

mod common;
mod frontier;
mod known_answers;
mod merkle_oracles;
mod notes;
mod proofs;
mod tamper;
