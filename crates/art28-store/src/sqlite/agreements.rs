//! Agreements and customers in SQLite: the processor's profile, customers and their contacts,
//! and every version of every agreement with the text exactly as submitted.

use super::{Bad, SqliteStore, conv, db_err, from_micros, is_unique_violation, log, micros, parse_text};
use crate::AgreementStore;
use crate::model::*;
use art28_core::access::AccessEntry;
use art28_core::agreement::{AgreementKind, ProcessorAgreement};
use art28_core::date::Date;
use art28_core::ids::{AgreementId, CustomerId};
use art28_core::{Error, ErrorCode, Result};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

pub(crate) fn customer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CustomerRecord> {
    Ok(CustomerRecord {
        id: parse_text(r.get(0)?)?,
        name: r.get(1)?,
        language: parse_text(r.get(2)?)?,
        status: {
            let s: String = r.get(3)?;
            conv(CustomerStatus::parse(&s).ok_or(Bad(s)))?
        },
        created_at: from_micros(r.get(4)?)?,
        created_by: r.get(5)?,
    })
}

pub(crate) const META_COLS: &str = "agreement_id, version, kind, customer_id, effective_from, based_on_id, based_on_version, sha256, recorded_by, recorded_at";

pub(crate) fn meta_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AgreementVersionMeta> {
    let kind: String = r.get(2)?;
    let customer: Option<String> = r.get(3)?;
    let base_id: Option<String> = r.get(5)?;
    let base_version: Option<u32> = r.get(6)?;
    Ok(AgreementVersionMeta {
        id: parse_text(r.get(0)?)?,
        version: r.get(1)?,
        kind: if kind == "standard" {
            AgreementKind::Standard
        } else {
            AgreementKind::Customer
        },
        customer: customer.map(parse_text).transpose()?,
        effective_from: parse_text(r.get(4)?)?,
        based_on: match (base_id, base_version) {
            (Some(id), Some(v)) => Some((parse_text(id)?, v)),
            _ => None,
        },
        sha256: r.get(7)?,
        recorded_by: r.get(8)?,
        recorded_at: from_micros(r.get(9)?)?,
    })
}

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AgreementVersion> {
    let resolved: String = r.get(11)?;
    Ok(AgreementVersion {
        meta: meta_row(r)?,
        agreement: conv(serde_json::from_str::<ProcessorAgreement>(&resolved))?,
        source: r.get(10)?,
    })
}

fn insert_customer(conn: &Connection, c: NewCustomer) -> Result<CustomerRecord> {
    let res = conn.execute(
        "INSERT INTO customers (id, name, language, status, created_at, created_by) VALUES (?1, ?2, ?3, 'active', ?4, ?5)",
        params![c.id.as_str(), c.name, c.language.tag(), micros(c.created_at), c.created_by],
    );
    match res {
        Err(e) if is_unique_violation(&e) => Err(Error::new(
            ErrorCode::CustomerExists,
            format!("customer `{}` already exists (ids are never reused)", c.id),
        )),
        Err(e) => Err(db_err(e)),
        Ok(_) => Ok(CustomerRecord {
            id: c.id,
            name: c.name,
            language: c.language,
            status: CustomerStatus::Active,
            created_at: c.created_at,
            created_by: c.created_by,
        }),
    }
}

#[async_trait::async_trait]
impl AgreementStore for SqliteStore {
    async fn processor(&self) -> Result<Option<ProcessorProfile>> {
        self.read(|c| {
            c.query_row(
                "SELECT name, registration, country FROM processor WHERE id = 1",
                [],
                |r| {
                    Ok(ProcessorProfile {
                        name: r.get(0)?,
                        registration: r.get(1)?,
                        country: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn set_processor(&self, p: &ProcessorProfile) -> Result<()> {
        let p = p.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO processor (id, name, registration, country) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, registration = excluded.registration, country = excluded.country",
                params![p.name, p.registration, p.country],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn create_customer(&self, c: &NewCustomer, entry: &AccessEntry) -> Result<Logged<CustomerRecord>> {
        let (c, entry) = (c.clone(), log::Prepared::new(entry));
        self.write(move |conn| {
            let value = insert_customer(conn, c)?;
            let receipt = log::append(conn, &entry)?;
            Ok(Logged { value, receipt })
        })
        .await
    }

    async fn customer(&self, id: &CustomerId) -> Result<Option<CustomerRecord>> {
        let id = id.clone();
        self.read(move |c| {
            c.query_row(
                "SELECT id, name, language, status, created_at, created_by FROM customers WHERE id = ?1",
                [id.as_str()],
                customer_row,
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn customers(&self) -> Result<Vec<CustomerRecord>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached("SELECT id, name, language, status, created_at, created_by FROM customers ORDER BY id")
                .map_err(db_err)?;
            let rows = stmt.query_map([], customer_row).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn contacts(&self, id: &CustomerId) -> Result<Vec<ContactRecord>> {
        let id = id.clone();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached("SELECT name, email, phone, language, roles FROM customer_contacts WHERE customer_id = ?1 ORDER BY position")
                .map_err(db_err)?;
            let rows = stmt
                .query_map([id.as_str()], |r| {
                    let roles: String = r.get(4)?;
                    Ok(ContactRecord {
                        name: r.get(0)?,
                        email: r.get(1)?,
                        phone: r.get(2)?,
                        language: parse_text(r.get(3)?)?,
                        roles: conv(serde_json::from_str(&roles))?,
                    })
                })
                .map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn put_agreement_version(
        &self,
        v: &NewAgreementVersion,
        entry: &AccessEntry,
    ) -> Result<Logged<AgreementVersion>> {
        let (v, entry) = (v.clone(), log::Prepared::new(entry));
        self.write(move |tx| {
            if let Some(c) = v.onboard.clone() {
                insert_customer(tx, c)?;
            }
            let a = &v.agreement;
            let kind = match a.kind {
                AgreementKind::Standard => "standard",
                AgreementKind::Customer => "customer",
            };
            let customer = a.customer.as_ref().map(|c| c.id.clone());
            if let Some(cid) = &customer {
                let known: Option<String> = tx
                    .query_row("SELECT id FROM customers WHERE id = ?1", [cid.as_str()], |r| r.get(0))
                    .optional()
                    .map_err(db_err)?;
                if known.is_none() {
                    return Err(Error::new(ErrorCode::CustomerNotFound, format!("customer `{cid}` does not exist")));
                }
            }
            // The succession rule (art28_core::agreement::check_succession) was checked against
            // `follows`; another version recorded since means it must be checked again.
            let latest: Option<u32> = tx
                .query_row(
                    "SELECT MAX(version) FROM agreement_versions WHERE agreement_id = ?1",
                    [a.id.as_str()],
                    |r| r.get(0),
                )
                .map_err(db_err)?;
            if latest != v.follows {
                return Err(Error::new(
                    ErrorCode::AgreementVersionConflict,
                    format!("agreement `{}` changed while this version was being recorded; try again", a.id),
                ));
            }
            let sha256 = hex::encode(Sha256::digest(v.source.as_bytes()));
            let resolved = serde_json::to_string(a).map_err(db_err)?;
            let (base_id, base_version) = match &a.based_on {
                Some(b) => (Some(b.id.as_str().to_string()), Some(b.version)),
                None => (None, None),
            };
            let inserted = tx.execute(
                "INSERT INTO agreement_versions (agreement_id, version, kind, customer_id, effective_from, based_on_id, based_on_version, source, resolved, sha256, recorded_by, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    a.id.as_str(),
                    a.version,
                    kind,
                    customer.as_ref().map(|c| c.as_str()),
                    a.effective_from.to_string(),
                    base_id,
                    base_version,
                    v.source,
                    resolved,
                    sha256,
                    v.recorded_by,
                    micros(v.recorded_at)
                ],
            )
            ;
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
                tx.execute("DELETE FROM customer_contacts WHERE customer_id = ?1", [cid.as_str()]).map_err(db_err)?;
                for (i, k) in party.contacts.iter().enumerate() {
                    tx.execute(
                        "INSERT INTO customer_contacts (customer_id, position, name, email, phone, language, roles) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![
                            cid.as_str(),
                            i as i64,
                            k.name,
                            k.email,
                            k.phone,
                            k.language.unwrap_or(a.language).tag(),
                            serde_json::to_string(&k.roles).map_err(db_err)?
                        ],
                    )
                    .map_err(db_err)?;
                }
            }
            let receipt = log::append(tx, &entry)?;
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
        })
        .await
    }

    async fn agreement_version(&self, id: &AgreementId, version: u32) -> Result<Option<AgreementVersion>> {
        let id = id.clone();
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {META_COLS}, source, resolved FROM agreement_versions WHERE agreement_id = ?1 AND version = ?2"),
                params![id.as_str(), version],
                version_row,
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn agreement_versions(&self, id: &AgreementId) -> Result<Vec<AgreementVersionMeta>> {
        let id = id.clone();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {META_COLS} FROM agreement_versions WHERE agreement_id = ?1 ORDER BY version"
                ))
                .map_err(db_err)?;
            let rows = stmt.query_map([id.as_str()], meta_row).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn customer_agreement_history(&self, customer: &CustomerId) -> Result<Vec<AgreementVersionMeta>> {
        let customer = customer.clone();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {META_COLS} FROM agreement_versions WHERE customer_id = ?1 ORDER BY recorded_at, agreement_id, version"
                ))
                .map_err(db_err)?;
            let rows = stmt.query_map([customer.as_str()], meta_row).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn agreement_in_force(&self, customer: &CustomerId, on: Date) -> Result<Option<AgreementVersion>> {
        let customer = customer.clone();
        self.read(move |c| {
            // ISO dates compare correctly as text.
            c.query_row(
                &format!(
                    "SELECT {META_COLS}, source, resolved FROM agreement_versions
                     WHERE customer_id = ?1 AND effective_from <= ?2
                     ORDER BY effective_from DESC, version DESC LIMIT 1"
                ),
                params![customer.as_str(), on.to_string()],
                version_row,
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn standard_agreements(&self) -> Result<Vec<AgreementVersionMeta>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {META_COLS} FROM agreement_versions v WHERE kind = 'standard'
                     AND version = (SELECT MAX(version) FROM agreement_versions w WHERE w.agreement_id = v.agreement_id)
                     ORDER BY agreement_id"
                ))
                .map_err(db_err)?;
            let rows = stmt.query_map([], meta_row).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }
}
