//! # art28-core: the domain of a GDPR Article 28 processor
//!
//! This crate knows what a processor agreement says and what follows from it, and nothing of
//! how the world reaches art28: no IO, no async, no HTTP types, no clock (time is always passed
//! in). That keeps every rule testable with plain values, and lets the server, the CLI and an
//! auditor's tools share one meaning of the agreement.
//!
//! - [`agreement`]: the agreement model ([`agreement::ProcessorAgreement`]), reading TOML files
//!   with diagnostics that name file, field and line, and the rules an agreement must meet.
//! - [`vocabulary`]: stable ids for categories, purposes and measures, mapped to W3C DPV and
//!   Fideslang, labelled in Dutch and English.
//! - [`duration`], [`date`], [`lang`], [`geo`]: the small value types agreements are made of.
//! - [`error`]: the one error type with stable codes that every layer returns.
//! - [`ids`]: typed identifiers; [`number`]: integers from requests, range-checked as read.
//! - [`access`]: the entries of the access log, one per access granted or refused.
//! - [`auth`]: roles, permissions and their scope; lockout, expiry and block rules.
//! - [`vault`]: collections and records of the vault, checked against the agreement.
//! - [`operation`]: every operation named in the access log, with the permission it needs.
//! - [`policy`]: the one decision every vault operation passes.
//! - [`incident`]: the incident register's fields, workflow, delivery keys and deadlines.
//! - [`subprocessor`]: the sub-processor register, announced changes, each customer's answer
//!   and the list in force on a date (R5).
//! - [`deadline`]: the one deadlines view every register's terms join, and its order.
//! - [`net`]: where an IP address leads (public, loopback, a special-purpose range), for the
//!   connections art28 makes to addresses customers name.

pub mod access;
pub mod agreement;
pub mod auth;
pub mod date;
pub mod deadline;
pub mod duration;
pub mod error;
pub mod geo;
pub mod ids;
pub mod incident;
pub mod lang;
pub mod net;
pub mod number;
pub mod operation;
pub mod policy;
pub mod subprocessor;
pub mod vault;
pub mod vocabulary;

pub use error::{Error, ErrorCode, ErrorKind, Result};
