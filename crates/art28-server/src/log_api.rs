//! The access log over HTTP: checkpoints, a customer's own entries with inclusion proofs,
//! evidence bundles for offline verification, and consistency proofs between checkpoints.
//!
//! A customer's view holds only its own entries; proofs carry sibling hashes, never other
//! customers' entries. Entries newer than the latest checkpoint are listed once the next fold
//! (at most a second or so later) has signed a checkpoint that covers them.

use crate::api::WithAccess;
use crate::auth::{Authorized, Caller, perm};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use art28_core::ErrorCode;
use art28_core::access::AccessEntry;
use art28_core::auth::Permission;
use art28_core::ids::CustomerId;
use art28_ledger::bundle::{Bundle, BundleEntry, ConsistencyStep};
use art28_service::access::{Access, log_read};
use axum::Json;
use axum::extract::{Path, Query, State};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Most entries per page.
const MAX_PAGE: usize = 1000;

/// A signed checkpoint.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckpointView {
    /// Number of entries in the tree.
    pub size: u64,
    /// Root hash, hex.
    pub root: String,
    /// The signed note (C2SP tlog-checkpoint), to keep and verify offline.
    pub note: String,
    /// When it was signed (RFC 3339, UTC).
    pub signed_at: String,
}

impl From<art28_store::StoredCheckpoint> for CheckpointView {
    fn from(c: art28_store::StoredCheckpoint) -> Self {
        Self {
            size: c.size,
            root: hex::encode(c.root),
            note: c.note,
            signed_at: c.signed_at.to_string(),
        }
    }
}

/// One entry with its inclusion proof.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EntryView {
    /// Leaf index in the log.
    pub index: u64,
    /// The entry.
    pub entry: AccessEntry,
    /// Inclusion proof against the page's checkpoint, hex hashes.
    pub proof: Vec<String>,
}

/// A page of a customer's log.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LogPage {
    /// The checkpoint the proofs lead to.
    pub checkpoint: CheckpointView,
    /// Entries, oldest first.
    pub entries: Vec<EntryView>,
    /// Index to ask for the next page from, if there may be more.
    pub next: Option<u64>,
}

/// Paging.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PageQuery {
    /// First leaf index to include (default 0).
    pub from: Option<u64>,
    /// Most entries (default and maximum 1000).
    pub limit: Option<usize>,
    /// For a bundle: the size of an earlier checkpoint you hold, to include a consistency proof
    /// from it to the current one.
    pub since: Option<u64>,
}

/// Two tree sizes.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ConsistencyQuery {
    /// The earlier size.
    pub old: u64,
    /// The later size (default: the latest checkpoint).
    pub new: Option<u64>,
}

/// A consistency proof between two checkpoints.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConsistencyView {
    /// The earlier checkpoint.
    pub old: CheckpointView,
    /// The later checkpoint.
    pub new: CheckpointView,
    /// The proof, hex hashes.
    pub proof: Vec<String>,
}

/// Path with a customer id.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CustomerPath {
    /// Customer id.
    pub customer: String,
}

async fn checkpoint_at(state: &AppState, size: u64) -> ApiResult<art28_store::StoredCheckpoint> {
    state.store.checkpoint_at(size).await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("no checkpoint was signed at size {size}"),
        )
    })
}

async fn tenant_page(
    state: &AppState,
    op: &Caller,
    customer: &str,
    q: &PageQuery,
) -> ApiResult<(
    CustomerId,
    art28_store::StoredCheckpoint,
    Vec<(u64, Vec<u8>, Vec<[u8; 32]>)>,
    String,
)> {
    let tenant: CustomerId = customer.parse()?;
    if state.store.customer(&tenant).await?.is_none() {
        return Err(ApiError::new(
            ErrorCode::CustomerNotFound,
            format!("customer `{tenant}` does not exist"),
        ));
    }
    // Folded first, so the view includes everything logged up to now.
    let cp = state.ledger.latest(state.store.as_ref(), state.clock.as_ref()).await?;
    let limit = q.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let from = q.from.unwrap_or(0);
    let entries = state.store.tenant_log(&tenant, from, cp.size, limit).await?;
    let indices: Vec<u64> = entries.iter().map(|e| e.index).collect();
    let proofs = state.store.inclusion_proofs(&indices, cp.size).await?;
    let out: Vec<_> = entries
        .into_iter()
        .zip(proofs)
        .map(|(e, p)| (e.index, e.bytes, p))
        .collect();
    // Reading the log is itself an access; its entry lands after this page's checkpoint.
    let access = Access {
        tenant: Some(&tenant),
        operation: "log.read",
        resource: format!("log/{tenant}?from={from}&limit={limit}"),
    };
    let access_id = log_read(state.store.as_ref(), state.clock.as_ref(), &op.ctx, access)
        .await?
        .access_id;
    Ok((tenant, cp, out, access_id))
}

/// The latest signed checkpoint.
pub async fn latest_checkpoint(op: Caller, State(state): State<AppState>) -> ApiResult<Json<CheckpointView>> {
    op.holds_anywhere(Permission::LogRead)?;
    Ok(Json(
        state
            .ledger
            .latest(state.store.as_ref(), state.clock.as_ref())
            .await?
            .into(),
    ))
}

/// The log's public key in the C2SP verifier-key form.
pub async fn public_key(State(state): State<AppState>) -> String {
    format!("{}\n", state.ledger.verifier().to_vkey())
}

/// A customer's entries with inclusion proofs.
pub async fn customer_log(
    op: Authorized<perm::LogRead>,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    Query(q): Query<PageQuery>,
) -> ApiResult<WithAccess<Json<LogPage>>> {
    let limit = q.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let (_, cp, rows, access_id) = tenant_page(&state, &op, &p.customer, &q).await?;
    let next = if rows.len() == limit {
        rows.last().map(|(i, _, _)| i + 1)
    } else {
        None
    };
    let entries = rows
        .into_iter()
        .map(|(index, bytes, proof)| {
            let entry = AccessEntry::from_bytes(&bytes).map_err(|m| ApiError::new(ErrorCode::Internal, m))?;
            Ok(EntryView {
                index,
                entry,
                proof: proof.iter().map(hex::encode).collect(),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(WithAccess(
        access_id,
        Json(LogPage {
            checkpoint: cp.into(),
            entries,
            next,
        }),
    ))
}

/// An evidence bundle for `art28 log verify`.
pub async fn customer_bundle(
    op: Authorized<perm::LogRead>,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    Query(q): Query<PageQuery>,
) -> ApiResult<WithAccess<Json<serde_json::Value>>> {
    let (_, cp, rows, access_id) = tenant_page(&state, &op, &p.customer, &q).await?;
    let origin = state.ledger.verifier().name().to_string();
    let mut bundle = Bundle::new(&origin, &cp.note);
    bundle.entries = rows
        .iter()
        .map(|(i, bytes, proof)| BundleEntry::new(*i, bytes, proof))
        .collect();
    if let Some(since) = q.since.filter(|s| *s < cp.size) {
        let old = checkpoint_at(&state, since).await?;
        let proof = state.store.consistency_proof(since, cp.size).await?;
        bundle.consistency.push(ConsistencyStep::new(&old.note, &proof));
    }
    // The bundle is the ledger crate's format (`art28/log-bundle/v1`), documented there.
    let value = serde_json::to_value(&bundle).map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    Ok(WithAccess(access_id, Json(value)))
}

/// A consistency proof between two signed checkpoints.
pub async fn consistency(
    op: Caller,
    State(state): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<Json<ConsistencyView>> {
    op.holds_anywhere(Permission::LogRead)?;
    let new = match q.new {
        Some(n) => checkpoint_at(&state, n).await?,
        None => state.ledger.latest(state.store.as_ref(), state.clock.as_ref()).await?,
    };
    if q.old > new.size {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "the old size must not exceed the new size",
        ));
    }
    let old = checkpoint_at(&state, q.old).await?;
    let proof = state.store.consistency_proof(old.size, new.size).await?;
    Ok(Json(ConsistencyView {
        old: old.into(),
        new: new.into(),
        proof: proof.iter().map(hex::encode).collect(),
    }))
}
