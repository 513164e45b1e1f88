//! The vault over HTTP. Handlers take an authenticated [`Caller`] and hand everything to
//! [`art28_service::vault::Vault`], which judges the operation against the customer's
//! agreement and writes exactly one access entry for it, granted or refused; the entry's id is
//! returned in `x-art28-access-id`. The purpose of an operation on data is given as the
//! `purpose` query parameter (an id from the agreement's purposes).

use crate::api::WithAccess;
use crate::auth::{Authorized, Caller, perm};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::extract::{Path, Query};
use crate::state::AppState;
use art28_core::ErrorCode;
use art28_core::ids::CustomerId;
use art28_core::number::{List, PageSize, RowId, Version};
use art28_core::vault::{CollectionDef, IdentifierKind, Values};
use art28_service::access::RequestContext;
use art28_service::records::LegalHoldRecord;
use art28_service::vault::{Export, Lookup, Record, Rotation};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Path with a customer.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CustomerPath {
    /// Customer id.
    pub customer: String,
}

/// Path with a customer and a collection.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CollectionPath {
    /// Customer id.
    pub customer: String,
    /// Collection name.
    pub collection: String,
}

/// Path with a customer, a collection and a record.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RecordPath {
    /// Customer id.
    pub customer: String,
    /// Collection name.
    pub collection: String,
    /// Record id.
    pub id: String,
}

/// Path with a customer and a legal hold.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct HoldPath {
    /// Customer id.
    pub customer: String,
    /// Hold id.
    pub id: RowId,
}

/// The purpose of an operation on personal data.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurposeQuery {
    /// Purpose id from the customer's agreement, e.g. `payroll`.
    pub purpose: Option<String>,
}

/// Paging through a collection.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Purpose id from the customer's agreement.
    pub purpose: Option<String>,
    /// Return records after this id.
    pub after: Option<String>,
    /// At most this many (1–1000, default 100).
    pub limit: Option<PageSize>,
}

/// A new record.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRecordBody {
    /// The customer's reference to the data subject (e.g. an employee number).
    pub subject: String,
    /// Values by field name.
    pub values: Values,
}

/// Records to import in one go.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// The records (at most 10,000).
    pub records: List<NewRecordBody, 10_000>,
}

/// A change to a record.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    /// The version the change is based on.
    pub version: Version,
    /// The fields to change; others stay.
    pub values: Values,
}

/// Which data subject: exactly one of the fields.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupBody {
    /// The customer's reference to the subject.
    pub subject: Option<String>,
    /// An e-mail address in an identifying field.
    pub email: Option<String>,
    /// A phone number in an identifying field.
    pub phone: Option<String>,
    /// An identifier of the customer's own in an identifying field.
    pub id: Option<String>,
}

/// A data subject to erase.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseSubjectBody {
    /// The customer's reference to the subject.
    pub subject: String,
}

/// A legal hold to place.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    /// One subject, or the whole customer when absent.
    pub subject: Option<String>,
    /// The legal ground.
    pub reason: String,
}

/// What to export.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportBody {
    /// Replace direct identifiers by keyed pseudonyms and special categories by dummy values.
    #[serde(default)]
    pub pseudonymise: bool,
    /// Return the pseudonyms' key (once); otherwise it is destroyed.
    #[serde(default)]
    pub keep_key: bool,
}

/// A record's id and version after a change.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Written {
    /// Record id.
    pub id: String,
    /// Its version now.
    pub version: u64,
    /// The access entry of the change.
    pub access_id: String,
}

/// Several records.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Records {
    /// The records.
    pub records: Vec<Record>,
    /// The access entry of the read.
    pub access_id: String,
}

/// Ids of imported records.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Imported {
    /// Their ids, in the order given.
    pub ids: Vec<String>,
    /// The access entry of the import.
    pub access_id: String,
}

/// The result of an erasure.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Erased {
    /// Records erased (for a subject); for a customer, its key is destroyed and rows are purged
    /// in the background.
    pub records: Option<u64>,
    /// The access entry of the erasure.
    pub access_id: String,
}

/// A legal hold.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HoldView {
    /// Id.
    pub id: u64,
    /// Whether it covers one subject (else the whole customer).
    pub one_subject: bool,
    /// Legal ground.
    pub reason: String,
    /// Placed by.
    pub placed_by: String,
    /// Placed at (RFC 3339).
    pub placed_at: String,
    /// Lifted by.
    pub lifted_by: Option<String>,
    /// Lifted at (RFC 3339).
    pub lifted_at: Option<String>,
}

impl From<LegalHoldRecord> for HoldView {
    fn from(h: LegalHoldRecord) -> Self {
        Self {
            id: h.id,
            one_subject: h.subject_index.is_some(),
            reason: h.reason,
            placed_by: h.placed_by,
            placed_at: h.placed_at.to_string(),
            lifted_by: h.lifted_by,
            lifted_at: h.lifted_at.map(|t| t.to_string()),
        }
    }
}

fn tenant(s: &str) -> ApiResult<CustomerId> {
    Ok(s.parse()?)
}

fn ctx(caller: &Caller, purpose: Option<String>) -> RequestContext {
    let mut ctx = caller.ctx.clone();
    ctx.purpose = purpose.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
    ctx
}

/// A customer's collections.
pub async fn list_collections(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
) -> ApiResult<WithAccess<Json<Vec<CollectionDef>>>> {
    let t = tenant(&p.customer)?;
    let (list, receipt) = state.vault.collections(&caller.ctx, &caller.principal, &t).await?;
    Ok(WithAccess(
        receipt.access_id,
        Json(list.into_iter().map(|c| c.def).collect()),
    ))
}

/// Define a collection.
pub async fn define_collection(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    ApiJson(def): ApiJson<CollectionDef>,
) -> ApiResult<WithAccess<(StatusCode, Json<CollectionDef>)>> {
    let t = tenant(&p.customer)?;
    let receipt = state
        .vault
        .define_collection(&caller.ctx, &caller.principal, &t, &def)
        .await?;
    Ok(WithAccess(receipt.access_id, (StatusCode::CREATED, Json(def))))
}

/// Add a record.
pub async fn create_record(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CollectionPath>,
    Query(q): Query<PurposeQuery>,
    ApiJson(body): ApiJson<NewRecordBody>,
) -> ApiResult<WithAccess<(StatusCode, Json<Written>)>> {
    let t = tenant(&p.customer)?;
    let (id, receipt) = state
        .vault
        .create(
            &ctx(&caller, q.purpose),
            &caller.principal,
            &t,
            &p.collection,
            &body.subject,
            &body.values,
        )
        .await?;
    let written = Written {
        id,
        version: 1,
        access_id: receipt.access_id.clone(),
    };
    Ok(WithAccess(receipt.access_id, (StatusCode::CREATED, Json(written))))
}

/// Import records into a collection under one access entry.
pub async fn import_records(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CollectionPath>,
    Query(q): Query<PurposeQuery>,
    ApiJson(body): ApiJson<ImportBody>,
) -> ApiResult<WithAccess<(StatusCode, Json<Imported>)>> {
    let t = tenant(&p.customer)?;
    let records: Vec<(String, Values)> = body.records.into_iter().map(|r| (r.subject, r.values)).collect();
    let (ids, receipt) = state
        .vault
        .import(&ctx(&caller, q.purpose), &caller.principal, &t, &p.collection, &records)
        .await?;
    let access_id = receipt.access_id.clone();
    Ok(WithAccess(
        receipt.access_id,
        (StatusCode::CREATED, Json(Imported { ids, access_id })),
    ))
}

/// A page of a collection's records.
pub async fn list_records(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CollectionPath>,
    Query(q): Query<ListQuery>,
) -> ApiResult<WithAccess<Json<Records>>> {
    let t = tenant(&p.customer)?;
    let (records, receipt) = state
        .vault
        .list(
            &ctx(&caller, q.purpose),
            &caller.principal,
            &t,
            &p.collection,
            q.after.as_deref().unwrap_or(""),
            q.limit.map_or(100, PageSize::count),
        )
        .await?;
    let access_id = receipt.access_id.clone();
    Ok(WithAccess(receipt.access_id, Json(Records { records, access_id })))
}

/// One record.
pub async fn read_record(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<RecordPath>,
    Query(q): Query<PurposeQuery>,
) -> ApiResult<WithAccess<Json<Record>>> {
    let t = tenant(&p.customer)?;
    let (record, receipt) = state
        .vault
        .read(&ctx(&caller, q.purpose), &caller.principal, &t, &p.collection, &p.id)
        .await?;
    Ok(WithAccess(receipt.access_id, Json(record)))
}

/// Change a record.
pub async fn update_record(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<RecordPath>,
    Query(q): Query<PurposeQuery>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> ApiResult<WithAccess<Json<Written>>> {
    let t = tenant(&p.customer)?;
    let (version, receipt) = state
        .vault
        .update(
            &ctx(&caller, q.purpose),
            &caller.principal,
            &t,
            &p.collection,
            &p.id,
            body.version.unsigned(),
            &body.values,
        )
        .await?;
    let written = Written {
        id: p.id,
        version,
        access_id: receipt.access_id.clone(),
    };
    Ok(WithAccess(receipt.access_id, Json(written)))
}

/// Delete a record.
pub async fn delete_record(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<RecordPath>,
    Query(q): Query<PurposeQuery>,
) -> ApiResult<WithAccess<StatusCode>> {
    let t = tenant(&p.customer)?;
    let receipt = state
        .vault
        .delete(&ctx(&caller, q.purpose), &caller.principal, &t, &p.collection, &p.id)
        .await?;
    Ok(WithAccess(receipt.access_id, StatusCode::NO_CONTENT))
}

/// All records of one data subject. The identifier travels in the body, never in a URL.
pub async fn lookup(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    Query(q): Query<PurposeQuery>,
    ApiJson(body): ApiJson<LookupBody>,
) -> ApiResult<WithAccess<Json<Records>>> {
    let t = tenant(&p.customer)?;
    let given: Vec<Lookup> = [
        body.subject.map(Lookup::Subject),
        body.email.map(|v| Lookup::Identifier(IdentifierKind::Email, v)),
        body.phone.map(|v| Lookup::Identifier(IdentifierKind::Phone, v)),
        body.id.map(|v| Lookup::Identifier(IdentifierKind::Id, v)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let [lookup] = given.as_slice() else {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "give exactly one of subject, email, phone or id",
        ));
    };
    let (records, receipt) = state
        .vault
        .query(&ctx(&caller, q.purpose), &caller.principal, &t, lookup)
        .await?;
    let access_id = receipt.access_id.clone();
    Ok(WithAccess(receipt.access_id, Json(Records { records, access_id })))
}

/// Erase a data subject (crypto-shredding).
pub async fn erase_subject(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    ApiJson(body): ApiJson<EraseSubjectBody>,
) -> ApiResult<WithAccess<Json<Erased>>> {
    let t = tenant(&p.customer)?;
    let (n, receipt) = state
        .vault
        .erase_subject(&caller.ctx, &caller.principal, &t, &body.subject)
        .await?;
    let access_id = receipt.access_id.clone();
    Ok(WithAccess(
        receipt.access_id,
        Json(Erased {
            records: Some(n),
            access_id,
        }),
    ))
}

/// Erase all of a customer's data (crypto-shredding; rows purged in the background).
pub async fn erase_tenant(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
) -> ApiResult<WithAccess<Json<Erased>>> {
    let t = tenant(&p.customer)?;
    let receipt = state.vault.erase_tenant(&caller.ctx, &caller.principal, &t).await?;
    let access_id = receipt.access_id.clone();
    Ok(WithAccess(
        receipt.access_id,
        Json(Erased {
            records: None,
            access_id,
        }),
    ))
}

/// A customer's legal holds.
pub async fn list_holds(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
) -> ApiResult<WithAccess<Json<Vec<HoldView>>>> {
    let t = tenant(&p.customer)?;
    let (holds, receipt) = state.vault.legal_holds(&caller.ctx, &caller.principal, &t).await?;
    Ok(WithAccess(
        receipt.access_id,
        Json(holds.into_iter().map(Into::into).collect()),
    ))
}

/// Place a legal hold.
pub async fn place_hold(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    ApiJson(body): ApiJson<HoldBody>,
) -> ApiResult<(StatusCode, Json<HoldView>)> {
    let t = tenant(&p.customer)?;
    let h = state
        .vault
        .place_legal_hold(
            &caller.ctx,
            &caller.principal,
            &t,
            body.subject.as_deref(),
            &body.reason,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(h.into())))
}

/// Lift a legal hold.
pub async fn lift_hold(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<HoldPath>,
) -> ApiResult<StatusCode> {
    let t = tenant(&p.customer)?;
    state
        .vault
        .lift_legal_hold(&caller.ctx, &caller.principal, &t, p.id.unsigned())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Export the customer's data, whole or pseudonymised.
pub async fn export(
    caller: Caller,
    State(state): State<AppState>,
    Path(p): Path<CustomerPath>,
    Query(q): Query<PurposeQuery>,
    ApiJson(body): ApiJson<ExportBody>,
) -> ApiResult<WithAccess<Json<Export>>> {
    let t = tenant(&p.customer)?;
    let (export, receipt) = state
        .vault
        .export(
            &ctx(&caller, q.purpose),
            &caller.principal,
            &t,
            body.pseudonymise,
            body.keep_key,
        )
        .await?;
    Ok(WithAccess(receipt.access_id, Json(export)))
}

/// Rotate the master key while serving: customer keys are rewrapped, the old key dropped.
pub async fn rotate_master_key(
    _: Authorized<perm::KeysManage>,
    State(state): State<AppState>,
) -> ApiResult<Json<Rotation>> {
    let save = state.save_keyring.clone();
    Ok(Json(state.vault.rotate_master_key(save.as_ref()).await?))
}
