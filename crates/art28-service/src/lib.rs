//! # art28-service: the use cases
//!
//! The one place where agreement rules, the store and (as they arrive) the crypto and the
//! access log are composed. The HTTP server and the CLI call these functions and nothing
//! below them, so a rule is enforced the same way whichever door a request comes through.
//!
//! - [`clock`]: time comes from a [`clock::Clock`] the caller hands in; tests use a manual one.
//! - [`agreements`]: recording agreement versions (resolving a customer's deviations against
//!   the stored standard agreement) and reading what is in force.
//! - [`access`]: access entries for every read and refusal; state changes carry theirs
//!   into the store's transaction.
//! - [`accounts`] ([`accounts::Accounts`]): logins, sessions, machine tokens and the
//!   permission register; [`staff_access`] ([`staff_access::StaffAccess`]): staff's time-bound
//!   access grants. Each call that concerns a customer leaves one entry in its access log.
//! - [`ledger`]: folding the access log into its Merkle tree and signing checkpoints.
//! - [`passwords`]: argon2id hashing in `spawn_blocking`, a dummy hash for unknown users,
//!   and the strength rule for new passwords.
//! - [`incidents`]: the incident register, scoping from the access log, breach notices and
//!   their outbox; [`mail`] delivers them over SMTP, [`webhook`] as signed HTTPS posts.
//! - [`demo`]: the fictional processor and example customers behind `art28 serve --demo`.

pub mod access;
pub mod accounts;
pub mod agreements;
pub mod clock;
pub mod customers;
pub mod demo;
mod door;
pub mod incidents;
pub mod ledger;
pub mod mail;
pub mod passwords;
pub mod staff_access;
pub mod vault;
pub mod webhook;
