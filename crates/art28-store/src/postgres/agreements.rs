//! Agreements and customers in PostgreSQL: the processor's profile, customers and their
//! contacts, and every version of every agreement with the text exactly as submitted.

use super::{PgStore, Tx, col, db_err, from_micros, is_unique_violation, micros, parse};
use crate::AgreementStore;
use crate::model::*;
use crate::sqlite::log::Prepared;
use art28_core::access::AccessEntry;
use art28_core::agreement::{AgreementKind, ProcessorAgreement};
use art28_core::date::Date;
use art28_core::ids::{AgreementId, CustomerId};
use art28_core::{Error, ErrorCode, Result};
use deadpool_postgres::ClientWrapper;
use sha2::{Digest, Sha256};
use tokio_postgres::Row;

pub(crate) const CUSTOMER_COLS: &str = "id, name, language, status, created_at, created_by";

pub(crate) fn customer_row(r: &Row) -> Result<CustomerRecord> {
    customer_at(r, 0)
}

/// A customer from [`CUSTOMER_COLS`] starting at column `o` (of a wider row).
pub(crate) fn customer_at(r: &Row, o: usize) -> Result<CustomerRecord> {
    let status: String = col(r, o + 3)?;
    Ok(CustomerRecord {
        id: parse(col::<&str>(r, o)?)?,
        name: col(r, o + 1)?,
        language: parse(col::<&str>(r, o + 2)?)?,
        status: CustomerStatus::parse(&status).ok_or_else(|| db_err(format!("customer status `{status}`")))?,
        created_at: from_micros(col(r, o + 4)?)?,
        created_by: col(r, o + 5)?,
    })
}

pub(crate) const META_COLS: &str = "agreement_id, version, kind, customer_id, effective_from, based_on_id, based_on_version, sha256, recorded_by, recorded_at";

fn version_no(v: i64) -> Result<u32> {
    u32::try_from(v).map_err(db_err)
}

pub(crate) fn meta_row(r: &Row) -> Result<AgreementVersionMeta> {
    meta_at(r, 0)
}

/// Agreement metadata from [`META_COLS`] starting at column `o` (of a wider row).
pub(crate) fn meta_at(r: &Row, o: usize) -> Result<AgreementVersionMeta> {
    let kind: &str = col(r, o + 2)?;
    let customer: Option<&str> = col(r, o + 3)?;
    let base_id: Option<&str> = col(r, o + 5)?;
    let base_version: Option<i64> = col(r, o + 6)?;
    Ok(AgreementVersionMeta {
        id: parse(col::<&str>(r, o)?)?,
        version: version_no(col(r, o + 1)?)?,
        kind: if kind == "standard" {
            AgreementKind::Standard
        } else {
            AgreementKind::Customer
        },
        customer: customer.map(parse).transpose()?,
        effective_from: parse(col::<&str>(r, o + 4)?)?,
        based_on: match (base_id, base_version) {
            (Some(id), Some(v)) => Some((parse(id)?, version_no(v)?)),
            _ => None,
        },
        sha256: col(r, o + 7)?,
        recorded_by: col(r, o + 8)?,
        recorded_at: from_micros(col(r, o + 9)?)?,
    })
}

fn version_row(r: &Row) -> Result<AgreementVersion> {
    let resolved: &str = col(r, 11)?;
    Ok(AgreementVersion {
        meta: meta_row(r)?,
        agreement: serde_json::from_str::<ProcessorAgreement>(resolved).map_err(db_err)?,
        source: col(r, 10)?,
    })
}

async fn insert_customer(c: &ClientWrapper, new: NewCustomer) -> Result<CustomerRecord> {
    let st = c
        .prepare_cached(
            "INSERT INTO customers (id, name, language, status, created_at, created_by) VALUES ($1, $2, $3, 'active', $4, $5)",
        )
        .await
        .map_err(db_err)?;
    let res = c
        .execute(
            &st,
            &[
                &new.id.as_str(),
                &new.name,
                &new.language.tag(),
                &micros(new.created_at),
                &new.created_by,
            ],
        )
        .await;
    match res {
        Err(e) if is_unique_violation(&e) => Err(Error::new(
            ErrorCode::CustomerExists,
            format!("customer `{}` already exists (ids are never reused)", new.id),
        )),
        Err(e) => Err(db_err(e)),
        Ok(_) => Ok(CustomerRecord {
            id: new.id,
            name: new.name,
            language: new.language,
            status: CustomerStatus::Active,
            created_at: new.created_at,
            created_by: new.created_by,
        }),
    }
}

/// Record an agreement version in the writer's transaction (see the trait).
async fn put_version(tx: &mut Tx, v: NewAgreementVersion, entry: Prepared) -> Result<Logged<AgreementVersion>> {
    let c = tx.c();
    if let Some(new) = v.onboard.clone() {
        insert_customer(c, new).await?;
    }
    let a = &v.agreement;
    let kind = match a.kind {
        AgreementKind::Standard => "standard",
        AgreementKind::Customer => "customer",
    };
    let customer = a.customer.as_ref().map(|c| c.id.clone());
    if let Some(cid) = &customer {
        let st = c
            .prepare_cached("SELECT id FROM customers WHERE id = $1")
            .await
            .map_err(db_err)?;
        if c.query_opt(&st, &[&cid.as_str()]).await.map_err(db_err)?.is_none() {
            return Err(Error::new(
                ErrorCode::CustomerNotFound,
                format!("customer `{cid}` does not exist"),
            ));
        }
    }
    // The succession rule (art28_core::agreement::check_succession) was checked against
    // `follows`; another version recorded since means it must be checked again.
    let st = c
        .prepare_cached("SELECT MAX(version) FROM agreement_versions WHERE agreement_id = $1")
        .await
        .map_err(db_err)?;
    let latest: Option<i64> = c
        .query_one(&st, &[&a.id.as_str()])
        .await
        .map_err(db_err)
        .and_then(|r| col(&r, 0))?;
    if latest != v.follows.map(i64::from) {
        return Err(Error::new(
            ErrorCode::AgreementVersionConflict,
            format!(
                "agreement `{}` changed while this version was being recorded; try again",
                a.id
            ),
        ));
    }
    let sha256 = hex::encode(Sha256::digest(v.source.as_bytes()));
    let resolved = serde_json::to_string(a).map_err(db_err)?;
    let (base_id, base_version) = match &a.based_on {
        Some(b) => (Some(b.id.as_str().to_string()), Some(i64::from(b.version))),
        None => (None, None),
    };
    let st = c
        .prepare_cached(
            "INSERT INTO agreement_versions (agreement_id, version, kind, customer_id, effective_from, based_on_id, based_on_version, source, resolved, sha256, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .await
        .map_err(db_err)?;
    let inserted = c
        .execute(
            &st,
            &[
                &a.id.as_str(),
                &i64::from(a.version),
                &kind,
                &customer.as_ref().map(|c| c.as_str()),
                &a.effective_from.to_string(),
                &base_id,
                &base_version,
                &v.source,
                &resolved,
                &sha256,
                &v.recorded_by,
                &micros(v.recorded_at),
            ],
        )
        .await;
    match inserted {
        // A version number recorded twice: the caller did not check the succession.
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::new(
                ErrorCode::AgreementVersionConflict,
                format!("agreement `{}` already has version {}", a.id, a.version),
            ));
        }
        Err(e) => return Err(db_err(e)),
        Ok(_) => {}
    }
    if let (Some(cid), Some(party)) = (&customer, &a.customer) {
        let st = c
            .prepare_cached("DELETE FROM customer_contacts WHERE customer_id = $1")
            .await
            .map_err(db_err)?;
        c.execute(&st, &[&cid.as_str()]).await.map_err(db_err)?;
        let st = c
            .prepare_cached(
                "INSERT INTO customer_contacts (customer_id, position, name, email, phone, language, roles) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .await
            .map_err(db_err)?;
        for (i, k) in party.contacts.iter().enumerate() {
            let roles = serde_json::to_string(&k.roles).map_err(db_err)?;
            c.execute(
                &st,
                &[
                    &cid.as_str(),
                    &i64::try_from(i).map_err(db_err)?,
                    &k.name,
                    &k.email,
                    &k.phone,
                    &k.language.unwrap_or(a.language).tag(),
                    &roles,
                ],
            )
            .await
            .map_err(db_err)?;
        }
    }
    let receipt = tx.append(&entry)?;
    let a = &v.agreement;
    let value = AgreementVersion {
        meta: AgreementVersionMeta {
            id: a.id.clone(),
            version: a.version,
            kind: a.kind,
            customer,
            effective_from: a.effective_from,
            based_on: a.based_on.as_ref().map(|b| (b.id.clone(), b.version)),
            sha256,
            recorded_by: v.recorded_by.clone(),
            recorded_at: v.recorded_at,
        },
        agreement: v.agreement.clone(),
        source: v.source.clone(),
    };
    Ok(Logged { value, receipt })
}

impl PgStore {
    /// Rows of a read with parameters, each made into a `T`.
    pub(crate) async fn rows<T>(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
        row: impl Fn(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql).await.map_err(db_err)?;
        c.query(&st, params).await.map_err(db_err)?.iter().map(row).collect()
    }

    /// The one row of a read, if any, made into a `T`.
    pub(crate) async fn row<T>(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
        row: impl Fn(&Row) -> Result<T>,
    ) -> Result<Option<T>> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql).await.map_err(db_err)?;
        c.query_opt(&st, params)
            .await
            .map_err(db_err)?
            .as_ref()
            .map(row)
            .transpose()
    }
}

#[async_trait::async_trait]
impl AgreementStore for PgStore {
    async fn processor(&self) -> Result<Option<ProcessorProfile>> {
        self.row(
            "SELECT name, registration, country FROM processor WHERE id = 1",
            &[],
            |r| {
                Ok(ProcessorProfile {
                    name: col(r, 0)?,
                    registration: col(r, 1)?,
                    country: col(r, 2)?,
                })
            },
        )
        .await
    }

    async fn set_processor(&self, p: &ProcessorProfile) -> Result<()> {
        let p = p.clone();
        self.write(move |tx| {
            Box::pin(async move {
                let c = tx.c();
                let st = c
                    .prepare_cached(
                        "INSERT INTO processor (id, name, registration, country) VALUES (1, $1, $2, $3)
                         ON CONFLICT (id) DO UPDATE SET name = excluded.name, registration = excluded.registration, country = excluded.country",
                    )
                    .await
                    .map_err(db_err)?;
                c.execute(&st, &[&p.name, &p.registration, &p.country])
                    .await
                    .map_err(db_err)?;
                Ok(())
            })
        })
        .await
    }

    async fn create_customer(&self, c: &NewCustomer, entry: &AccessEntry) -> Result<Logged<CustomerRecord>> {
        let (new, entry) = (c.clone(), Prepared::new(entry));
        self.write(move |tx| {
            Box::pin(async move {
                let value = insert_customer(tx.c(), new).await?;
                let receipt = tx.append(&entry)?;
                Ok(Logged { value, receipt })
            })
        })
        .await
    }

    async fn customer(&self, id: &CustomerId) -> Result<Option<CustomerRecord>> {
        self.row(
            &format!("SELECT {CUSTOMER_COLS} FROM customers WHERE id = $1"),
            &[&id.as_str()],
            customer_row,
        )
        .await
    }

    async fn customers(&self) -> Result<Vec<CustomerRecord>> {
        self.rows(
            &format!("SELECT {CUSTOMER_COLS} FROM customers ORDER BY id"),
            &[],
            customer_row,
        )
        .await
    }

    async fn contacts(&self, id: &CustomerId) -> Result<Vec<ContactRecord>> {
        self.rows(
            "SELECT name, email, phone, language, roles FROM customer_contacts WHERE customer_id = $1 ORDER BY position",
            &[&id.as_str()],
            |r| {
                let roles: &str = col(r, 4)?;
                Ok(ContactRecord {
                    name: col(r, 0)?,
                    email: col(r, 1)?,
                    phone: col(r, 2)?,
                    language: parse(col::<&str>(r, 3)?)?,
                    roles: serde_json::from_str(roles).map_err(db_err)?,
                })
            },
        )
        .await
    }

    async fn put_agreement_version(
        &self,
        v: &NewAgreementVersion,
        entry: &AccessEntry,
    ) -> Result<Logged<AgreementVersion>> {
        let (v, entry) = (v.clone(), Prepared::new(entry));
        self.write(move |tx| Box::pin(put_version(tx, v, entry))).await
    }

    async fn agreement_version(&self, id: &AgreementId, version: u32) -> Result<Option<AgreementVersion>> {
        self.row(
            &format!(
                "SELECT {META_COLS}, source, resolved FROM agreement_versions WHERE agreement_id = $1 AND version = $2"
            ),
            &[&id.as_str(), &i64::from(version)],
            version_row,
        )
        .await
    }

    async fn agreement_versions(&self, id: &AgreementId) -> Result<Vec<AgreementVersionMeta>> {
        self.rows(
            &format!("SELECT {META_COLS} FROM agreement_versions WHERE agreement_id = $1 ORDER BY version"),
            &[&id.as_str()],
            meta_row,
        )
        .await
    }

    async fn customer_agreement_history(&self, customer: &CustomerId) -> Result<Vec<AgreementVersionMeta>> {
        self.rows(
            &format!(
                "SELECT {META_COLS} FROM agreement_versions WHERE customer_id = $1 ORDER BY recorded_at, agreement_id, version"
            ),
            &[&customer.as_str()],
            meta_row,
        )
        .await
    }

    async fn agreement_in_force(&self, customer: &CustomerId, on: Date) -> Result<Option<AgreementVersion>> {
        // ISO dates compare correctly as text (in the C collation the column is declared with).
        self.row(
            &format!(
                "SELECT {META_COLS}, source, resolved FROM agreement_versions
                 WHERE customer_id = $1 AND effective_from <= $2
                 ORDER BY effective_from DESC, version DESC LIMIT 1"
            ),
            &[&customer.as_str(), &on.to_string()],
            version_row,
        )
        .await
    }

    async fn standard_agreements(&self) -> Result<Vec<AgreementVersionMeta>> {
        self.rows(
            &format!(
                "SELECT {META_COLS} FROM agreement_versions v WHERE kind = 'standard'
                 AND version = (SELECT MAX(version) FROM agreement_versions w WHERE w.agreement_id = v.agreement_id)
                 ORDER BY agreement_id"
            ),
            &[],
            meta_row,
        )
        .await
    }
}
