//! # art28-service: the doors
//!
//! The one place where agreement rules, the store, the crypto and the access log are composed.
//! Each aggregate has a door, a struct over the store and the clock: every call authorizes with
//! its [`art28_core::operation::Operation`], applies core's rules, and leaves exactly one access
//! entry for the customer it concerns, granted or refused. The HTTP server, the CLI and the jobs
//! call these and nothing below them, so a rule is enforced the same way whichever way a
//! request comes in.
//!
//! - [`agreements`]: [`agreements::Agreements`], agreement versions (a customer's deviations
//!   resolved against the stored standard) and customers ([`customers`] onboards them).
//! - [`access_log`]: [`access_log::AccessLog`], the log for its readers: checkpoints, a
//!   customer's entries with proofs, bundles, consistency proofs, refusals at the door.
//! - [`access`]: making access entries; [`ledger`]: folding the log into its Merkle tree and
//!   signing checkpoints.
//! - [`accounts`] ([`accounts::Accounts`]): logins, sessions, machine tokens and the
//!   permission register; [`staff_access`] ([`staff_access::StaffAccess`]): staff's time-bound
//!   access grants. Each call that concerns a customer leaves one entry in its access log.
//! - [`passwords`]: argon2id hashing in `spawn_blocking`, a dummy hash for unknown users, and
//!   the strength rule for new passwords.
//! - [`vault`]: [`vault::Vault`], customers' personal data: judge, seal, log.
//! - [`incidents`]: the incident register, scoping from the access log, breach notices and
//!   their outbox; [`mail`] delivers them over SMTP, [`webhook`] as signed HTTPS posts.
//! - [`deadlines`]: [`deadlines::Deadlines`], the one deadlines view over every register with
//!   terms (breach notices so far), overdue first.
//! - [`clock`]: time comes from a [`clock::Clock`] the caller hands in; tests use a manual one.
//! - [`demo`]: the fictional processor and example customers behind `art28 serve --demo`.
//! - [`records`]: the stored types the doors take and return.

pub mod access;
pub mod access_log;
pub mod accounts;
pub mod agreements;
pub mod clock;
pub mod cluster;
pub mod customers;
pub mod deadlines;
pub mod demo;
mod door;
pub mod incidents;
pub mod ledger;
pub mod mail;
pub mod passwords;
pub mod staff_access;
pub mod subprocessors;
pub mod vault;
pub mod webhook;

/// The records the services take and hand out, as the store keeps them. The server and the CLI
/// name them from here: they reach the store only through the services.
pub mod records {
    pub use art28_store::model::*;
}
