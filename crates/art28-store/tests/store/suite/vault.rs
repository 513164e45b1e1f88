//! VaultStore: sealed records, key rows, blind indexes, legal holds, erasures, recoveries.
//!
//! The store never sees plaintext: records here are fake sealed bytes and 32-byte blind
//! indexes. Every operation on records writes its access entry with its change; one whose
//! precondition fails writes nothing, not even its entry (the service logs the refusal).

use super::*;
use art28_core::ErrorCode;
use art28_core::vault::{CollectionDef, FieldDef, IdentifierKind};
use art28_store::{
    BlindChange, ContextQuery, ErasureRecord, NewSubject, NewVaultRecord, PurgeProgress, QueryKey, RecordChange,
    RecoveryRecord, SubjectRef, TenantKeyRow, VaultReach, VaultRecordRow,
};

const AT: &str = "2026-02-01T10:00:00Z";

fn key_row(n: u8) -> TenantKeyRow {
    TenantKeyRow {
        master_key_id: format!("mk-{n}"),
        wrapped: vec![n; 40],
    }
}

/// The reference index of subject `n`.
fn subject(n: u8) -> [u8; 32] {
    [n; 32]
}

/// A blind index of an identifying value `n` (distinct from every subject index).
fn blind(n: u8) -> [u8; 32] {
    let mut b = [0xB1; 32];
    b[0] = n;
    b
}

fn new_subject(n: u8) -> SubjectRef {
    SubjectRef::New(NewSubject {
        ref_index: subject(n),
        wrapped_key: vec![n, 0x5B, 0x1E, 0xC7],
    })
}

fn record(id: &str, collection: &str, subject: SubjectRef, blinds: &[u8]) -> NewVaultRecord {
    NewVaultRecord {
        id: id.into(),
        collection: collection.into(),
        subject,
        sealed: format!("sealed:{id}").into_bytes(),
        blind: blinds.iter().map(|n| blind(*n)).collect(),
    }
}

fn collection(name: &str) -> CollectionDef {
    CollectionDef {
        name: name.into(),
        fields: vec![
            FieldDef {
                name: "email".into(),
                category: "contact_details".into(),
                identifier: Some(IdentifierKind::Email),
                required: true,
            },
            FieldDef {
                name: "salary".into(),
                category: "financial".into(),
                identifier: None,
                required: false,
            },
        ],
    }
}

fn vault_entry(tenant: &CustomerId, operation: &str) -> AccessEntry {
    next_entry(Some(tenant), operation)
}

/// A customer with an agreement, a key and the collections `employees` and `contracts`.
async fn vault_customer(store: &dyn Store) -> CustomerId {
    let customer = seed(store).await;
    prepare(store, &customer).await;
    customer
}

/// Give an existing customer a key and the two collections.
async fn prepare(store: &dyn Store, customer: &CustomerId) {
    store.put_tenant_key(customer, &key_row(1), ts(AT)).await.expect("key");
    for name in ["employees", "contracts"] {
        store
            .define_collection(
                customer,
                &collection(name),
                ts(AT),
                "anke",
                &vault_entry(customer, "collection.define"),
            )
            .await
            .expect("collection");
    }
}

async fn create(store: &dyn Store, tenant: &CustomerId, records: Vec<NewVaultRecord>) -> art28_store::LogReceipt {
    store
        .vault_create(tenant, records, ts(AT), &vault_entry(tenant, "record.create"))
        .await
        .expect("create")
}

/// Every current record of a customer, by id.
async fn all_records(store: &dyn Store, tenant: &CustomerId) -> Vec<VaultRecordRow> {
    store.vault_list(tenant, None, "", 10_000, None).await.expect("list").0
}

async fn ids_of(store: &dyn Store, tenant: &CustomerId) -> Vec<String> {
    all_records(store, tenant).await.into_iter().map(|r| r.id).collect()
}

async fn size(store: &dyn Store) -> u64 {
    store.log_size().await.expect("size")
}

/// The internal id of a known subject.
async fn subject_id(store: &dyn Store, tenant: &CustomerId, n: u8) -> u64 {
    store
        .vault_context(
            tenant,
            ContextQuery {
                subjects: vec![subject(n)],
                ..ContextQuery::default()
            },
        )
        .await
        .expect("context")
        .subjects
        .get(&subject(n))
        .expect("known subject")
        .id
}

async fn query(store: &dyn Store, tenant: &CustomerId, key: QueryKey) -> Vec<String> {
    store
        .vault_query(tenant, key, &vault_entry(tenant, "record.query"))
        .await
        .expect("query")
        .0
        .into_iter()
        .map(|r| r.id)
        .collect()
}

pub async fn the_context_reads_customer_agreement_key_collection_subjects_and_record(store: &dyn Store) {
    let nobody = store
        .vault_context(
            &id("nobody-here"),
            ContextQuery {
                on: Some("2026-06-01".parse().expect("date")),
                collection: Some("employees".into()),
                subjects: vec![subject(1)],
                record: Some("r1".into()),
            },
        )
        .await
        .expect("context of nobody");
    assert!(nobody.customer.is_none() && nobody.agreement.is_none() && nobody.tenant_key.is_none());
    assert!(nobody.collection.is_none() && nobody.subjects.is_empty() && nobody.record.is_none());

    let customer = vault_customer(store).await;
    create(store, &customer, vec![record("r1", "employees", new_subject(1), &[1])]).await;
    let s1 = subject_id(store, &customer, 1).await;
    let before = size(store).await;
    let full = store
        .vault_context(
            &customer,
            ContextQuery {
                on: Some("2026-06-01".parse().expect("date")),
                collection: Some("employees".into()),
                subjects: vec![subject(1), subject(2)],
                record: Some("r1".into()),
            },
        )
        .await
        .expect("context");
    assert_eq!(size(store).await, before, "a context read writes no entry");
    let c = full.customer.expect("customer");
    assert_eq!((c.id.clone(), c.name.as_str()), (customer.clone(), "ERP klant"));
    let meta = full.agreement.expect("agreement in force");
    assert_eq!((meta.id.clone(), meta.version), (erp().id, erp().version));
    assert_eq!(full.tenant_key, Some(key_row(1)));
    let coll = full.collection.expect("collection");
    assert_eq!(
        (coll.def.clone(), coll.created_by.as_str(), coll.created_at),
        (collection("employees"), "anke", ts(AT))
    );
    assert_eq!(full.subjects.len(), 1, "only the known subject");
    let row = &full.subjects[&subject(1)];
    assert_eq!((row.id, row.wrapped_key.clone()), (s1, vec![1, 0x5B, 0x1E, 0xC7]));
    let r = full.record.expect("record");
    assert_eq!(
        (
            r.id.as_str(),
            r.collection.as_str(),
            r.subject,
            r.version,
            r.sealed.clone()
        ),
        ("r1", "employees", s1, 1, b"sealed:r1".to_vec())
    );

    // Only what was asked for.
    let bare = store
        .vault_context(&customer, ContextQuery::default())
        .await
        .expect("context");
    assert!(bare.customer.is_some() && bare.tenant_key.is_some());
    assert!(bare.agreement.is_none() && bare.collection.is_none() && bare.subjects.is_empty() && bare.record.is_none());
    // Nothing in force before the agreement, no such collection, no such record.
    let missing = store
        .vault_context(
            &customer,
            ContextQuery {
                on: Some("2000-01-01".parse().expect("date")),
                collection: Some("nope".into()),
                subjects: vec![subject(9)],
                record: Some("nope".into()),
            },
        )
        .await
        .expect("context");
    assert!(missing.agreement.is_none() && missing.collection.is_none());
    assert!(missing.subjects.is_empty() && missing.record.is_none());
    // Many subjects at once (an import) are read the same way.
    let many: Vec<[u8; 32]> = (1..=40).map(subject).collect();
    let ctx = store
        .vault_context(
            &customer,
            ContextQuery {
                subjects: many,
                ..ContextQuery::default()
            },
        )
        .await
        .expect("context");
    assert_eq!(ctx.subjects.keys().copied().collect::<Vec<_>>(), vec![subject(1)]);
}

pub async fn a_tenant_key_is_kept_once_and_refused_for_unknown_or_erased_customers(store: &dyn Store) {
    let customer = seed(store).await;
    assert_eq!(store.tenant_keys().await.expect("none"), vec![]);
    let first = store.put_tenant_key(&customer, &key_row(1), ts(AT)).await.expect("key");
    assert_eq!(first, key_row(1));
    let second = store
        .put_tenant_key(&customer, &key_row(2), ts(AT))
        .await
        .expect("again");
    assert_eq!(second, key_row(1), "the first key stays and is returned");
    assert_eq!(
        store.tenant_keys().await.expect("keys"),
        vec![(customer.clone(), key_row(1))]
    );

    let err = store
        .put_tenant_key(&id("nobody-here"), &key_row(3), ts(AT))
        .await
        .expect_err("unknown");
    assert_eq!(err.code, ErrorCode::CustomerNotFound);

    store
        .vault_erase_tenant(&customer, &vault_entry(&customer, "tenant.erase"))
        .await
        .expect("erase");
    assert_eq!(
        store.tenant_keys().await.expect("keys"),
        vec![],
        "destroyed with the erasure"
    );
    let err = store
        .put_tenant_key(&customer, &key_row(4), ts(AT))
        .await
        .expect_err("erased");
    assert_eq!(err.code, ErrorCode::TenantErased);
    assert_eq!(store.tenant_keys().await.expect("keys"), vec![], "no key comes back");
}

pub async fn tenant_keys_are_rewrapped_only_from_the_current_row(store: &dyn Store) {
    let a = seed(store).await;
    let b = id("andere-klant");
    add_customer(store, &b).await;
    store.put_tenant_key(&b, &key_row(2), ts(AT)).await.expect("key b");
    store.put_tenant_key(&a, &key_row(1), ts(AT)).await.expect("key a");
    assert_eq!(
        store.tenant_keys().await.expect("keys"),
        vec![(b.clone(), key_row(2)), (a.clone(), key_row(1))],
        "ordered by customer"
    );
    assert!(
        store
            .rewrap_tenant_key(&a, &key_row(1), &key_row(11))
            .await
            .expect("rewrap")
    );
    assert!(
        !store
            .rewrap_tenant_key(&a, &key_row(1), &key_row(12))
            .await
            .expect("stale"),
        "the old row is not current any more"
    );
    assert!(
        !store
            .rewrap_tenant_key(&b, &key_row(1), &key_row(12))
            .await
            .expect("other's"),
        "another customer's row"
    );
    assert!(
        !store
            .rewrap_tenant_key(&id("nobody-here"), &key_row(1), &key_row(12))
            .await
            .expect("none"),
    );
    let mut same_id = key_row(2);
    same_id.wrapped = vec![0; 40];
    assert!(
        !store
            .rewrap_tenant_key(&b, &same_id, &key_row(12))
            .await
            .expect("other bytes"),
        "the wrapped bytes are compared, not only the master key id"
    );
    assert_eq!(
        store.tenant_keys().await.expect("keys"),
        vec![(b, key_row(2)), (a.clone(), key_row(11))]
    );
    assert_eq!(
        store
            .vault_context(&a, ContextQuery::default())
            .await
            .expect("ctx")
            .tenant_key,
        Some(key_row(11))
    );
}

pub async fn collections_are_defined_once(store: &dyn Store) {
    let customer = seed(store).await;
    let other = id("andere-klant");
    add_customer(store, &other).await;
    assert_eq!(store.collections(&customer).await.expect("none"), vec![]);
    let before = size(store).await;
    let e = vault_entry(&customer, "collection.define");
    let receipt = store
        .define_collection(&customer, &collection("employees"), ts(AT), "anke", &e)
        .await
        .expect("define");
    assert_eq!(
        (receipt.index, receipt.access_id.clone()),
        (before, e.access_id.clone())
    );
    store
        .define_collection(
            &customer,
            &collection("contracts"),
            ts("2026-02-02T00:00:00Z"),
            "bert",
            &vault_entry(&customer, "collection.define"),
        )
        .await
        .expect("define");
    // The same name for another customer is another collection.
    store
        .define_collection(
            &other,
            &collection("employees"),
            ts(AT),
            "x",
            &vault_entry(&other, "collection.define"),
        )
        .await
        .expect("other's");
    let size_before = size(store).await;
    let mut changed = collection("employees");
    changed.fields.truncate(1);
    let err = store
        .define_collection(
            &customer,
            &changed,
            ts(AT),
            "anke",
            &vault_entry(&customer, "collection.define"),
        )
        .await
        .expect_err("exists");
    assert_eq!(err.code, ErrorCode::CollectionExists);
    assert_eq!(size(store).await, size_before, "the refusal wrote nothing");
    let listed = store.collections(&customer).await.expect("list");
    assert_eq!(
        listed
            .iter()
            .map(|c| (c.def.clone(), c.created_at, c.created_by.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (collection("contracts"), ts("2026-02-02T00:00:00Z"), "bert"),
            (collection("employees"), ts(AT), "anke"),
        ],
        "by name, the first definition kept"
    );
    assert_eq!(store.collections(&other).await.expect("other").len(), 1);
}

pub async fn records_are_created_for_new_and_existing_subjects(store: &dyn Store) {
    let customer = vault_customer(store).await;
    let before = size(store).await;
    let e = vault_entry(&customer, "record.create");
    let receipt = store
        .vault_create(
            &customer,
            vec![record("r1", "employees", new_subject(1), &[1])],
            ts(AT),
            &e,
        )
        .await
        .expect("create");
    assert_eq!((receipt.index, receipt.access_id), (before, e.access_id));
    let s1 = subject_id(store, &customer, 1).await;
    // An existing subject by id; a new subject named twice in one import is added once.
    let receipt = create(
        store,
        &customer,
        vec![
            record("r2", "contracts", SubjectRef::Existing(s1), &[2]),
            record("r3", "employees", new_subject(2), &[3]),
            record("r4", "contracts", new_subject(2), &[4]),
        ],
    )
    .await;
    assert_eq!(receipt.index, before + 1, "one entry for the whole import");
    assert_eq!(size(store).await, before + 2);
    let s2 = subject_id(store, &customer, 2).await;
    assert_ne!(s1, s2);
    let rows = all_records(store, &customer).await;
    assert_eq!(
        rows.iter()
            .map(|r| (r.id.as_str(), r.collection.as_str(), r.subject, r.version))
            .collect::<Vec<_>>(),
        vec![
            ("r1", "employees", s1, 1),
            ("r2", "contracts", s1, 1),
            ("r3", "employees", s2, 1),
            ("r4", "contracts", s2, 1),
        ]
    );
    let r1 = &rows[0];
    assert_eq!(r1.sealed, b"sealed:r1".to_vec());
    assert_eq!(
        r1.subject_key,
        vec![1, 0x5B, 0x1E, 0xC7],
        "with its subject's wrapped key"
    );
    assert_eq!((r1.created_at, r1.updated_at), (ts(AT), ts(AT)));
    assert_eq!(rows[3].subject_key, vec![2, 0x5B, 0x1E, 0xC7]);
}

pub async fn a_conflicting_new_subject_writes_nothing(store: &dyn Store) {
    let customer = vault_customer(store).await;
    create(store, &customer, vec![record("r1", "employees", new_subject(1), &[1])]).await;
    let before = size(store).await;
    // Another writer added subject 1 first (with its own key): this import named it as new.
    let clash = SubjectRef::New(NewSubject {
        ref_index: subject(1),
        wrapped_key: vec![0xEE; 4],
    });
    let err = store
        .vault_create(
            &customer,
            vec![
                record("r2", "employees", new_subject(2), &[2]),
                record("r3", "employees", clash, &[3]),
            ],
            ts(AT),
            &vault_entry(&customer, "record.create"),
        )
        .await
        .expect_err("subject added by another writer");
    assert_eq!(err.code, ErrorCode::RecordVersionConflict);
    assert_eq!(size(store).await, before, "no entry");
    assert_eq!(
        ids_of(store, &customer).await,
        vec!["r1"],
        "none of the import's records"
    );
    let ctx = store
        .vault_context(
            &customer,
            ContextQuery {
                subjects: vec![subject(1), subject(2)],
                ..ContextQuery::default()
            },
        )
        .await
        .expect("ctx");
    assert_eq!(ctx.subjects.len(), 1, "subject 2 was not added either");
    assert_eq!(
        ctx.subjects[&subject(1)].wrapped_key,
        vec![1, 0x5B, 0x1E, 0xC7],
        "the first key stays"
    );
    assert_eq!(
        query(store, &customer, QueryKey::Identifier(blind(2))).await,
        Vec::<String>::new()
    );
}

pub async fn a_record_for_a_subject_that_is_gone_writes_nothing(store: &dyn Store) {
    let customer = vault_customer(store).await;
    let other = id("andere-klant");
    add_customer(store, &other).await;
    prepare(store, &other).await;
    create(store, &customer, vec![record("r1", "employees", new_subject(1), &[1])]).await;
    create(store, &other, vec![record("o1", "employees", new_subject(7), &[7])]).await;
    let s1 = subject_id(store, &customer, 1).await;
    let theirs = subject_id(store, &other, 7).await;
    // Read as existing, then erased before the write: the write must not add records that
    // nothing can open (the service reads again and retries).
    store
        .vault_erase_subject(&customer, subject(1), &vault_entry(&customer, "subject.erase"))
        .await
        .expect("erase");
    let before = size(store).await;
    for gone in [s1, theirs, 999_999] {
        let err = store
            .vault_create(
                &customer,
                vec![record("r2", "employees", SubjectRef::Existing(gone), &[2])],
                ts(AT),
                &vault_entry(&customer, "record.create"),
            )
            .await
            .expect_err("no such subject of this customer");
        assert_eq!(err.code, ErrorCode::RecordVersionConflict, "subject {gone}");
    }
    assert_eq!(size(store).await, before, "no entries");
    assert_eq!(ids_of(store, &customer).await, Vec::<String>::new());
    assert_eq!(
        store
            .vault_reach(&customer, &[], &["employees".into()])
            .await
            .expect("reach"),
        VaultReach::default(),
        "no record kept, not even one that cannot be listed"
    );
    assert_eq!(ids_of(store, &other).await, vec!["o1"]);
}

pub async fn a_read_of_a_missing_record_writes_nothing(store: &dyn Store) {
    let customer = vault_customer(store).await;
    create(store, &customer, vec![record("r1", "employees", new_subject(1), &[1])]).await;
    let before = size(store).await;
    let e = vault_entry(&customer, "record.read");
    let (row, receipt) = store.vault_read(&customer, "employees", "r1", &e).await.expect("read");
    assert_eq!(
        (row.id.as_str(), row.sealed.clone(), row.version),
        ("r1", b"sealed:r1".to_vec(), 1)
    );
    assert_eq!((receipt.index, receipt.access_id), (before, e.access_id));
    let before = size(store).await;
    for (coll, rid) in [("employees", "nope"), ("contracts", "r1"), ("nope", "r1")] {
        let err = store
            .vault_read(&customer, coll, rid, &vault_entry(&customer, "record.read"))
            .await
            .expect_err("no such record");
        assert_eq!(err.code, ErrorCode::RecordNotFound, "{coll}/{rid}");
    }
    let other = id("andere-klant");
    let err = store
        .vault_read(&other, "employees", "r1", &vault_entry(&other, "record.read"))
        .await
        .expect_err("another customer's record");
    assert_eq!(err.code, ErrorCode::RecordNotFound);
    assert_eq!(size(store).await, before, "refusals write nothing");
}

pub async fn an_update_applies_only_at_the_version_it_read(store: &dyn Store) {
    let customer = vault_customer(store).await;
    create(
        store,
        &customer,
        vec![record("r1", "employees", new_subject(1), &[1, 2])],
    )
    .await;
    let before = size(store).await;
    let change = |version: u64, sealed: &str, blinds: &[u8]| RecordChange {
        id: "r1".into(),
        collection: "employees".into(),
        version,
        sealed: sealed.as_bytes().to_vec(),
        blind: blinds.iter().map(|n| blind(*n)).collect(),
    };
    let later = ts("2026-02-02T10:00:00Z");
    let e = vault_entry(&customer, "record.update");
    let (version, receipt) = store
        .vault_update(&customer, change(1, "sealed:v2", &[2, 3]), later, &e)
        .await
        .expect("update");
    assert_eq!((version, receipt.index, receipt.access_id), (2, before, e.access_id));
    let (row, _) = store
        .vault_read(&customer, "employees", "r1", &vault_entry(&customer, "record.read"))
        .await
        .expect("read");
    assert_eq!(
        (row.version, row.sealed.clone(), row.created_at, row.updated_at),
        (2, b"sealed:v2".to_vec(), ts(AT), later)
    );
    // The blind indexes are the new ones.
    assert_eq!(
        query(store, &customer, QueryKey::Identifier(blind(1))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        query(store, &customer, QueryKey::Identifier(blind(2))).await,
        vec!["r1"]
    );
    assert_eq!(
        query(store, &customer, QueryKey::Identifier(blind(3))).await,
        vec!["r1"]
    );

    let before = size(store).await;
    let stale = store
        .vault_update(
            &customer,
            change(1, "sealed:lost", &[9]),
            later,
            &vault_entry(&customer, "record.update"),
        )
        .await
        .expect_err("stale");
    assert_eq!(stale.code, ErrorCode::RecordVersionConflict);
    let missing = store
        .vault_update(
            &customer,
            RecordChange {
                id: "nope".into(),
                ..change(2, "x", &[])
            },
            later,
            &vault_entry(&customer, "record.update"),
        )
        .await
        .expect_err("missing");
    assert_eq!(missing.code, ErrorCode::RecordNotFound);
    let elsewhere = store
        .vault_update(
            &customer,
            RecordChange {
                collection: "contracts".into(),
                ..change(2, "x", &[])
            },
            later,
            &vault_entry(&customer, "record.update"),
        )
        .await
        .expect_err("other collection");
    assert_eq!(elsewhere.code, ErrorCode::RecordNotFound);
    assert_eq!(size(store).await, before, "refusals write nothing");
    let row = &all_records(store, &customer).await[0];
    assert_eq!(
        (row.version, row.sealed.clone()),
        (2, b"sealed:v2".to_vec()),
        "unchanged"
    );
    assert_eq!(
        query(store, &customer, QueryKey::Identifier(blind(9))).await,
        Vec::<String>::new()
    );
}

pub async fn a_delete_removes_the_record_and_its_blind_indexes(store: &dyn Store) {
    let customer = vault_customer(store).await;
    create(
        store,
        &customer,
        vec![
            record("r1", "employees", new_subject(1), &[1, 5]),
            record("r2", "employees", new_subject(1), &[2, 5]),
        ],
    )
    .await;
    let before = size(store).await;
    let e = vault_entry(&customer, "record.delete");
    let receipt = store
        .vault_delete(&customer, "employees", "r1", &e)
        .await
        .expect("delete");
    assert_eq!((receipt.index, receipt.access_id), (before, e.access_id));
    assert_eq!(ids_of(store, &customer).await, vec!["r2"]);
    assert_eq!(
        query(store, &customer, QueryKey::Identifier(blind(1))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        query(store, &customer, QueryKey::Identifier(blind(5))).await,
        vec!["r2"],
        "a shared digest keeps pointing at the other record"
    );
    assert_eq!(query(store, &customer, QueryKey::Subject(subject(1))).await, vec!["r2"]);
    let before = size(store).await;
    for (coll, rid) in [("employees", "r1"), ("contracts", "r2")] {
        let err = store
            .vault_delete(&customer, coll, rid, &vault_entry(&customer, "record.delete"))
            .await
            .expect_err("no such record");
        assert_eq!(err.code, ErrorCode::RecordNotFound);
    }
    assert_eq!(size(store).await, before, "refusals write nothing");
    assert_eq!(ids_of(store, &customer).await, vec!["r2"]);
}

pub async fn records_are_queried_by_subject_and_by_identifier(store: &dyn Store) {
    let customer = vault_customer(store).await;
    let other = id("andere-klant");
    add_customer(store, &other).await;
    prepare(store, &other).await;
    create(
        store,
        &customer,
        vec![
            record("r3", "employees", new_subject(1), &[1]),
            record("r1", "contracts", new_subject(1), &[2]),
            record("r2", "employees", new_subject(2), &[1, 3]),
        ],
    )
    .await;
    // The same indexes in another customer's vault.
    create(store, &other, vec![record("o1", "employees", new_subject(1), &[1])]).await;
    assert_eq!(
        query(store, &customer, QueryKey::Subject(subject(1))).await,
        vec!["r1", "r3"],
        "the subject's records, by id, across collections"
    );
    assert_eq!(
        query(store, &customer, QueryKey::Identifier(blind(1))).await,
        vec!["r2", "r3"]
    );
    assert_eq!(
        query(store, &customer, QueryKey::Identifier(blind(3))).await,
        vec!["r2"]
    );
    assert_eq!(query(store, &other, QueryKey::Subject(subject(1))).await, vec!["o1"]);
    let before = size(store).await;
    let e = vault_entry(&customer, "record.query");
    let (rows, receipt) = store
        .vault_query(&customer, QueryKey::Subject(subject(9)), &e)
        .await
        .expect("query");
    assert!(rows.is_empty());
    assert_eq!(
        (receipt.index, receipt.access_id),
        (before, e.access_id),
        "an empty answer is logged too"
    );
    let (rows, _) = store
        .vault_query(
            &customer,
            QueryKey::Subject(subject(2)),
            &vault_entry(&customer, "record.query"),
        )
        .await
        .expect("query");
    assert_eq!(
        (
            rows[0].sealed.clone(),
            rows[0].subject_key.clone(),
            rows[0].collection.as_str()
        ),
        (b"sealed:r2".to_vec(), vec![2, 0x5B, 0x1E, 0xC7], "employees")
    );
}

pub async fn records_are_listed_in_pages_with_or_without_an_entry(store: &dyn Store) {
    let customer = vault_customer(store).await;
    let recs: Vec<NewVaultRecord> = (0..7)
        .map(|i| {
            let coll = if i % 2 == 0 { "employees" } else { "contracts" };
            record(&format!("r{i}"), coll, new_subject(1), &[])
        })
        .collect();
    create(store, &customer, recs).await;
    let before = size(store).await;
    // Without an entry: nothing written, no receipt.
    let (page, receipt) = store.vault_list(&customer, None, "", 3, None).await.expect("list");
    assert_eq!(
        page.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec!["r0", "r1", "r2"]
    );
    assert_eq!(receipt, None);
    assert_eq!(size(store).await, before);
    let (page, _) = store.vault_list(&customer, None, "r2", 3, None).await.expect("list");
    assert_eq!(
        page.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec!["r3", "r4", "r5"]
    );
    let (page, _) = store.vault_list(&customer, None, "r5", 3, None).await.expect("list");
    assert_eq!(page.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), vec!["r6"]);
    let (page, _) = store.vault_list(&customer, None, "r6", 3, None).await.expect("list");
    assert!(page.is_empty());
    // One collection, paged.
    let mut seen = Vec::new();
    let mut after = String::new();
    loop {
        let (page, _) = store
            .vault_list(&customer, Some("employees"), &after, 2, None)
            .await
            .expect("list");
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        seen.extend(page.into_iter().map(|r| (r.id, r.collection)));
    }
    assert_eq!(
        seen,
        ["r0", "r2", "r4", "r6"]
            .map(|i| (i.to_string(), "employees".to_string()))
            .to_vec()
    );
    assert_eq!(size(store).await, before, "no entries without one given");
    // With an entry: logged, once per call.
    let e = vault_entry(&customer, "record.export");
    let (page, receipt) = store
        .vault_list(&customer, Some("contracts"), "", 100, Some(&e))
        .await
        .expect("list");
    assert_eq!(
        page.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec!["r1", "r3", "r5"]
    );
    let receipt = receipt.expect("logged");
    assert_eq!((receipt.index, receipt.access_id), (before, e.access_id));
    assert_eq!(size(store).await, before + 1);
    let (page, _) = store
        .vault_list(&customer, Some("nope"), "", 100, None)
        .await
        .expect("list");
    assert!(page.is_empty());
    assert!(
        store
            .vault_list(&id("andere-klant"), None, "", 100, None)
            .await
            .expect("list")
            .0
            .is_empty()
    );
}

pub async fn erasing_a_subject_removes_its_key_records_and_indexes(store: &dyn Store) {
    let customer = vault_customer(store).await;
    create(
        store,
        &customer,
        vec![
            record("r1", "employees", new_subject(1), &[1, 9]),
            record("r2", "contracts", new_subject(1), &[2]),
            record("r3", "employees", new_subject(2), &[3, 9]),
        ],
    )
    .await;
    let before = size(store).await;
    let e = vault_entry(&customer, "subject.erase");
    let (n, receipt) = store
        .vault_erase_subject(&customer, subject(1), &e)
        .await
        .expect("erase");
    assert_eq!(
        (n, receipt.index, receipt.access_id.clone()),
        (2, before, e.access_id.clone())
    );
    let ctx = store
        .vault_context(
            &customer,
            ContextQuery {
                subjects: vec![subject(1), subject(2)],
                ..ContextQuery::default()
            },
        )
        .await
        .expect("ctx");
    assert_eq!(
        ctx.subjects.keys().copied().collect::<Vec<_>>(),
        vec![subject(2)],
        "its key is gone"
    );
    assert_eq!(ids_of(store, &customer).await, vec!["r3"]);
    assert_eq!(
        query(store, &customer, QueryKey::Subject(subject(1))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        query(store, &customer, QueryKey::Identifier(blind(1))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        query(store, &customer, QueryKey::Identifier(blind(9))).await,
        vec!["r3"]
    );
    assert_eq!(
        store.erasures(Some(&customer)).await.expect("erasures"),
        vec![ErasureRecord {
            tenant: customer.clone(),
            subject_index: Some(hex_of(&subject(1))),
            erased_at: e.time,
            erased_by: e.actor.id.clone(),
            access_id: e.access_id.clone(),
        }]
    );
    assert_eq!(store.erasures(None).await.expect("all").len(), 1);
    assert_eq!(store.erasures(Some(&id("andere-klant"))).await.expect("none"), vec![]);
    // The customer keeps its key and is not erased.
    assert_eq!(
        store.tenant_keys().await.expect("keys"),
        vec![(customer.clone(), key_row(1))]
    );
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub async fn an_unknown_or_held_subject_is_not_erased_and_nothing_is_written(store: &dyn Store) {
    let customer = vault_customer(store).await;
    create(
        store,
        &customer,
        vec![
            record("r1", "employees", new_subject(1), &[1]),
            record("r2", "employees", new_subject(2), &[2]),
        ],
    )
    .await;
    let before = size(store).await;
    let err = store
        .vault_erase_subject(&customer, subject(9), &vault_entry(&customer, "subject.erase"))
        .await
        .expect_err("unknown subject");
    assert_eq!(err.code, ErrorCode::RecordNotFound);
    assert_eq!(size(store).await, before, "no entry");
    assert_eq!(store.erasures(None).await.expect("erasures"), vec![]);

    let hold = store
        .place_legal_hold(
            &customer,
            Some(subject(1)),
            "tax audit",
            "dpo",
            &vault_entry(&customer, "hold.place"),
        )
        .await
        .expect("hold");
    let before = size(store).await;
    let err = store
        .vault_erase_subject(&customer, subject(1), &vault_entry(&customer, "subject.erase"))
        .await
        .expect_err("held");
    assert_eq!(err.code, ErrorCode::LegalHold);
    assert_eq!(size(store).await, before, "no entry");
    assert_eq!(store.erasures(None).await.expect("erasures"), vec![]);
    assert_eq!(ids_of(store, &customer).await, vec!["r1", "r2"], "nothing erased");
    // A hold on one subject does not keep another.
    store
        .vault_erase_subject(&customer, subject(2), &vault_entry(&customer, "subject.erase"))
        .await
        .expect("not held");
    // A hold on the whole customer keeps every subject.
    store
        .lift_legal_hold(&customer, hold.id, &vault_entry(&customer, "hold.lift"))
        .await
        .expect("lift");
    let whole = store
        .place_legal_hold(
            &customer,
            None,
            "litigation",
            "dpo",
            &vault_entry(&customer, "hold.place"),
        )
        .await
        .expect("hold");
    let before = size(store).await;
    let err = store
        .vault_erase_subject(&customer, subject(1), &vault_entry(&customer, "subject.erase"))
        .await
        .expect_err("customer held");
    assert_eq!(err.code, ErrorCode::LegalHold);
    assert_eq!(size(store).await, before);
    store
        .lift_legal_hold(&customer, whole.id, &vault_entry(&customer, "hold.lift"))
        .await
        .expect("lift");
    let (n, _) = store
        .vault_erase_subject(&customer, subject(1), &vault_entry(&customer, "subject.erase"))
        .await
        .expect("lifted: erased");
    assert_eq!(n, 1);
    assert_eq!(ids_of(store, &customer).await, Vec::<String>::new());
}

pub async fn erasing_a_customer_destroys_its_key_and_the_purge_removes_its_rows(store: &dyn Store) {
    assert_eq!(
        store.vault_purge(10, ts(AT)).await.expect("nothing to purge"),
        PurgeProgress { removed: 0, done: true }
    );
    let customer = vault_customer(store).await;
    let other = id("andere-klant");
    add_customer(store, &other).await;
    prepare(store, &other).await;
    let recs: Vec<NewVaultRecord> = (0..12)
        .map(|i| record(&format!("r{i:02}"), "employees", new_subject(i % 4), &[i, 100 + i]))
        .collect();
    create(store, &customer, recs).await;
    create(store, &other, vec![record("o1", "employees", new_subject(1), &[1])]).await;

    // Held: refused, nothing written.
    let hold = store
        .place_legal_hold(
            &customer,
            Some(subject(3)),
            "audit",
            "dpo",
            &vault_entry(&customer, "hold.place"),
        )
        .await
        .expect("hold");
    let before = size(store).await;
    let err = store
        .vault_erase_tenant(&customer, &vault_entry(&customer, "tenant.erase"))
        .await
        .expect_err("a subject is held");
    assert_eq!(err.code, ErrorCode::LegalHold);
    assert_eq!(size(store).await, before, "no entry");
    assert_eq!(store.erasures(None).await.expect("none"), vec![]);
    assert_eq!(store.tenant_keys().await.expect("keys").len(), 2, "the key stays");
    store
        .lift_legal_hold(&customer, hold.id, &vault_entry(&customer, "hold.lift"))
        .await
        .expect("lift");

    let e = vault_entry(&customer, "tenant.erase");
    let receipt = store.vault_erase_tenant(&customer, &e).await.expect("erase");
    assert_eq!(
        (receipt.index, receipt.access_id.clone()),
        (size(store).await - 1, e.access_id.clone())
    );
    assert_eq!(
        store.tenant_keys().await.expect("keys"),
        vec![(other.clone(), key_row(1))],
        "its key at once"
    );
    let c = store.customer(&customer).await.expect("get").expect("kept");
    assert_eq!(c.status, art28_store::CustomerStatus::Erased);
    let ctx = store
        .vault_context(&customer, ContextQuery::default())
        .await
        .expect("ctx");
    assert_eq!(ctx.tenant_key, None);
    assert_eq!(
        store.erasures(Some(&customer)).await.expect("erasures"),
        vec![ErasureRecord {
            tenant: customer.clone(),
            subject_index: None,
            erased_at: e.time,
            erased_by: e.actor.id.clone(),
            access_id: e.access_id.clone(),
        }]
    );

    // The purge removes the rows in steps of at most `limit`, until it says it is done.
    let mut steps = 0;
    loop {
        let p = store.vault_purge(5, ts("2026-03-01T00:00:00Z")).await.expect("purge");
        assert!(p.removed <= 5, "at most the limit per step: {p:?}");
        steps += 1;
        if p.done {
            assert_eq!(p.removed, 0, "done once nothing is left");
            break;
        }
        assert!(p.removed > 0, "a step that is not done makes progress");
        assert!(steps < 100, "the purge ends");
    }
    assert!(steps > 2, "12 records (and their indexes) take more than one step of 5");
    assert_eq!(ids_of(store, &customer).await, Vec::<String>::new());
    assert_eq!(
        store
            .vault_reach(&customer, &[], &["employees".into()])
            .await
            .expect("reach"),
        VaultReach::default()
    );
    assert_eq!(store.collections(&customer).await.expect("collections"), vec![]);
    assert_eq!(
        store.vault_purge(5, ts("2026-03-01T00:00:00Z")).await.expect("again"),
        PurgeProgress { removed: 0, done: true }
    );
    // Another customer's data is untouched.
    assert_eq!(ids_of(store, &other).await, vec!["o1"]);
    assert_eq!(store.collections(&other).await.expect("collections").len(), 2);
}

pub async fn a_replayed_erasure_destroys_what_came_back_once(store: &dyn Store) {
    let customer = vault_customer(store).await;
    create(store, &customer, vec![record("r1", "employees", new_subject(1), &[1])]).await;
    let (_, _) = store
        .vault_erase_subject(&customer, subject(1), &vault_entry(&customer, "subject.erase"))
        .await
        .expect("erase");
    let journal = store.erasures(None).await.expect("erasures");
    assert_eq!(journal.len(), 1);
    assert!(
        !store.vault_replay_erasure(&journal[0]).await.expect("replay"),
        "nothing came back"
    );
    // A restore brings the subject back (here: written again under the same index).
    create(store, &customer, vec![record("r1", "employees", new_subject(1), &[1])]).await;
    let before = size(store).await;
    assert!(
        store.vault_replay_erasure(&journal[0]).await.expect("replay"),
        "it came back"
    );
    assert_eq!(ids_of(store, &customer).await, Vec::<String>::new());
    assert_eq!(
        query(store, &customer, QueryKey::Identifier(blind(1))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        size(store).await,
        before + 1,
        "a replay writes no entry (the query above did)"
    );
    assert_eq!(
        store.erasures(None).await.expect("erasures"),
        journal,
        "known: not recorded twice"
    );

    // An erasure the store does not know (the backup is older than it) is recorded.
    let other = id("andere-klant");
    add_customer(store, &other).await;
    prepare(store, &other).await;
    create(store, &other, vec![record("o1", "employees", new_subject(4), &[4])]).await;
    let from_journal = ErasureRecord {
        tenant: other.clone(),
        subject_index: None,
        erased_at: ts("2026-02-03T00:00:00Z"),
        erased_by: "dpo".into(),
        access_id: "acc_from_the_journal".into(),
    };
    assert!(store.vault_replay_erasure(&from_journal).await.expect("replay"));
    assert_eq!(
        store.tenant_keys().await.expect("keys"),
        vec![(customer.clone(), key_row(1))],
        "the other customer's key is destroyed again"
    );
    assert_eq!(
        store.customer(&other).await.expect("get").expect("kept").status,
        art28_store::CustomerStatus::Erased
    );
    assert_eq!(
        store.erasures(Some(&other)).await.expect("erasures"),
        vec![from_journal.clone()]
    );
    assert!(
        !store.vault_replay_erasure(&from_journal).await.expect("again"),
        "nothing left to do"
    );
    assert_eq!(store.erasures(Some(&other)).await.expect("erasures").len(), 1);
    // The purge then removes its rows.
    while !store.vault_purge(100, ts(AT)).await.expect("purge").done {}
    assert_eq!(ids_of(store, &other).await, Vec::<String>::new());
}

pub async fn legal_holds_are_placed_lifted_once_and_listed(store: &dyn Store) {
    let customer = vault_customer(store).await;
    let other = id("andere-klant");
    add_customer(store, &other).await;
    assert_eq!(store.legal_holds(&customer).await.expect("none"), vec![]);
    let before = size(store).await;
    let e = vault_entry(&customer, "hold.place");
    let h1 = store
        .place_legal_hold(&customer, Some(subject(1)), "tax audit", "dpo", &e)
        .await
        .expect("hold");
    assert_eq!(size(store).await, before + 1, "logged with its change");
    assert_eq!(
        (
            &h1.tenant,
            h1.subject_index,
            h1.reason.as_str(),
            h1.placed_by.as_str(),
            h1.placed_at,
            h1.lifted_by.clone(),
            h1.lifted_at
        ),
        (&customer, Some(subject(1)), "tax audit", "dpo", e.time, None, None)
    );
    let h2 = store
        .place_legal_hold(
            &customer,
            None,
            "litigation",
            "legal",
            &vault_entry(&customer, "hold.place"),
        )
        .await
        .expect("hold");
    store
        .place_legal_hold(&other, None, "other", "legal", &vault_entry(&other, "hold.place"))
        .await
        .expect("other's");
    let lift = vault_entry(&customer, "hold.lift");
    let before = size(store).await;
    store.lift_legal_hold(&customer, h1.id, &lift).await.expect("lift");
    assert_eq!(size(store).await, before + 1);
    let before = size(store).await;
    let twice = store
        .lift_legal_hold(&customer, h1.id, &vault_entry(&customer, "hold.lift"))
        .await
        .expect_err("lifted already");
    assert_eq!(twice.code, ErrorCode::LegalHoldNotFound);
    let theirs = store
        .lift_legal_hold(&other, h2.id, &vault_entry(&other, "hold.lift"))
        .await
        .expect_err("another customer's hold");
    assert_eq!(theirs.code, ErrorCode::LegalHoldNotFound);
    assert_eq!(size(store).await, before, "refusals write nothing");
    let holds = store.legal_holds(&customer).await.expect("holds");
    let mut lifted = h1.clone();
    lifted.lifted_by = Some(lift.actor.id.clone());
    lifted.lifted_at = Some(lift.time);
    assert_eq!(holds, vec![lifted, h2], "lifted ones included, oldest first");
    assert_eq!(store.legal_holds(&other).await.expect("holds").len(), 1);
}

pub async fn recoveries_are_recorded_and_listed(store: &dyn Store) {
    assert_eq!(store.recoveries().await.expect("none"), vec![]);
    let r = |n: u64| RecoveryRecord {
        started_at: ts(&format!("2026-04-0{n}T03:00:00Z")),
        responsible: "ops".into(),
        backup: format!("art28-{n}.sqlite"),
        backup_sha256: "ab".repeat(32),
        erasures_replayed: n,
        manual_steps: "none".into(),
        outcome: "restored".into(),
    };
    store.record_recovery(&r(2)).await.expect("record");
    store.record_recovery(&r(1)).await.expect("record");
    assert_eq!(
        store.recoveries().await.expect("list"),
        vec![r(2), r(1)],
        "in the order recorded"
    );
}

pub async fn reach_counts_current_records_and_their_subjects(store: &dyn Store) {
    let customer = vault_customer(store).await;
    let other = id("andere-klant");
    add_customer(store, &other).await;
    prepare(store, &other).await;
    create(
        store,
        &customer,
        vec![
            record("r1", "employees", new_subject(1), &[]),
            record("r2", "employees", new_subject(1), &[]),
            record("r3", "employees", new_subject(2), &[]),
            record("c1", "contracts", new_subject(3), &[]),
            record("c2", "contracts", new_subject(1), &[]),
        ],
    )
    .await;
    create(store, &other, vec![record("r1", "employees", new_subject(1), &[])]).await;
    let customer = &customer;
    let named = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(c, i)| (c.to_string(), i.to_string()))
            .collect::<Vec<_>>()
    };
    let reach = |records: Vec<(String, String)>, collections: &[&str]| {
        let collections: Vec<String> = collections.iter().map(|c| c.to_string()).collect();
        async move {
            store
                .vault_reach(customer, &records, &collections)
                .await
                .expect("reach")
        }
    };
    assert_eq!(reach(vec![], &[]).await, VaultReach::default());
    assert_eq!(
        reach(named(&[("employees", "r1")]), &[]).await,
        VaultReach {
            records: 1,
            subjects: 1
        }
    );
    assert_eq!(
        reach(
            named(&[("employees", "r1"), ("employees", "r2"), ("employees", "r1")]),
            &[]
        )
        .await,
        VaultReach {
            records: 2,
            subjects: 1
        },
        "distinct records and subjects"
    );
    assert_eq!(
        reach(named(&[("contracts", "r1"), ("employees", "nope")]), &[]).await,
        VaultReach::default(),
        "a record is named with its own collection"
    );
    assert_eq!(
        reach(vec![], &["employees"]).await,
        VaultReach {
            records: 3,
            subjects: 2
        }
    );
    assert_eq!(
        reach(named(&[("employees", "r1"), ("contracts", "c1")]), &["employees"]).await,
        VaultReach {
            records: 4,
            subjects: 3
        }
    );
    assert_eq!(
        reach(vec![], &["employees", "contracts"]).await,
        VaultReach {
            records: 5,
            subjects: 3
        }
    );
    // Only current records count.
    store
        .vault_delete(customer, "employees", "r3", &vault_entry(customer, "record.delete"))
        .await
        .expect("delete");
    assert_eq!(
        reach(vec![], &["employees"]).await,
        VaultReach {
            records: 2,
            subjects: 1
        }
    );
}

/// Records written now carry the current blind-index version, so none is stale; a re-index
/// of a record that is not stale (or not at the version named) changes nothing of it, and its
/// entry is written all the same (the job's access to the customer's records). Rows from an
/// older version are made by a backend's own upgrade path, tested per backend.
pub async fn fresh_records_are_not_stale_and_a_reindex_leaves_them(store: &dyn Store) {
    let customer = vault_customer(store).await;
    create(
        store,
        &customer,
        vec![
            record("r1", "employees", new_subject(1), &[1]),
            record("r2", "employees", new_subject(2), &[2]),
        ],
    )
    .await;
    assert!(
        store.vault_stale_blind(None, 10).await.expect("stale").is_empty(),
        "new writes are current"
    );
    let after_first = store
        .vault_stale_blind(Some((&customer, "r1")), 10)
        .await
        .expect("stale after a cursor");
    assert!(after_first.is_empty());
    let before = size(store).await;
    let e = vault_entry(&customer, "vault.reindex");
    let changes = vec![
        BlindChange {
            id: "r1".into(),
            version: 1,
            blind: vec![blind(9)],
        },
        BlindChange {
            id: "r2".into(),
            version: 7,
            blind: vec![blind(9)],
        },
    ];
    let n = store
        .vault_reindex_blind(&customer, changes, &e)
        .await
        .expect("reindex");
    assert_eq!(n, 0, "neither record was stale");
    assert_eq!(size(store).await, before + 1, "the job's entry");
    assert_eq!(
        query(store, &customer, QueryKey::Identifier(blind(9))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        query(store, &customer, QueryKey::Identifier(blind(1))).await,
        vec!["r1".to_string()],
        "the record keeps its blind indexes"
    );
}

/// Imports sent at once (which a store may run together) are each answered as if run alone,
/// one after another in the order sent: one naming a subject another adds finds it, a refused
/// one adds nothing (not even the subjects it names), the rest go on.
pub async fn imports_sent_at_once_are_each_answered_as_alone(store: &dyn Store) {
    let a = vault_customer(store).await;
    let b = id("andere-klant");
    add_customer(store, &b).await;
    prepare(store, &b).await;
    create(store, &a, vec![record("r0", "employees", new_subject(1), &[1])]).await;
    create(store, &b, vec![record("b0", "employees", new_subject(9), &[9])]).await;
    let s1 = subject_id(store, &a, 1).await;
    let theirs = subject_id(store, &b, 9).await;
    let keyed = |n: u8, key: u8| {
        SubjectRef::New(NewSubject {
            ref_index: subject(n),
            wrapped_key: vec![key; 4],
        })
    };
    let before = size(store).await;
    let imports: Vec<(&CustomerId, Vec<NewVaultRecord>)> = vec![
        // 0: adds subject 2
        (&a, vec![record("r1", "employees", new_subject(2), &[2])]),
        // 1: names subject 2 with the same key: the one import 0 adds
        (&a, vec![record("r2", "contracts", new_subject(2), &[2])]),
        // 2: names subject 2 with another key: refused
        (&a, vec![record("r3", "employees", keyed(2, 0xEE), &[3])]),
        // 3: an existing subject
        (&a, vec![record("r4", "employees", SubjectRef::Existing(s1), &[4])]),
        // 4: the same reference index, another customer: its own subject
        (&b, vec![record("b1", "employees", keyed(2, 0xBB), &[2])]),
        // 5: no such subject: refused
        (&a, vec![record("r5", "employees", SubjectRef::Existing(999_999), &[5])]),
        // 6: adds subject 3, but its second record names another customer's subject: refused,
        // subject 3 not added
        (
            &a,
            vec![
                record("r6", "employees", keyed(3, 0x66), &[6]),
                record("r6b", "employees", SubjectRef::Existing(theirs), &[6]),
            ],
        ),
        // 7: subject 3 with another key: fine, as import 6 added nothing
        (&a, vec![record("r7", "employees", keyed(3, 0x77), &[7])]),
        // 8: two records, one subject added once
        (
            &a,
            vec![
                record("r8", "employees", new_subject(4), &[8]),
                record("r8b", "contracts", new_subject(4), &[8]),
            ],
        ),
    ];
    let entries: Vec<AccessEntry> = imports.iter().map(|(t, _)| vault_entry(t, "record.create")).collect();
    let results = futures_util::future::join_all(
        imports
            .iter()
            .zip(&entries)
            .map(|((t, records), entry)| store.vault_create(t, records.clone(), ts(AT), entry)),
    )
    .await;
    let refused = [2usize, 5, 6];
    let mut indices = Vec::new();
    for (n, r) in results.iter().enumerate() {
        match r {
            Ok(receipt) => {
                assert!(!refused.contains(&n), "import {n} was refused alone");
                indices.push(receipt.index);
            }
            Err(e) => {
                assert!(refused.contains(&n), "import {n} failed: {e:?}");
                assert_eq!(e.code, ErrorCode::RecordVersionConflict, "import {n}");
            }
        }
    }
    assert_eq!(
        indices,
        (before..before + 6).collect::<Vec<_>>(),
        "one entry each, in order"
    );
    assert_eq!(size(store).await, before + 6);
    assert_eq!(ids_of(store, &a).await, vec!["r0", "r1", "r2", "r4", "r7", "r8", "r8b"]);
    assert_eq!(ids_of(store, &b).await, vec!["b0", "b1"]);
    let by_id = |rows: Vec<VaultRecordRow>| -> std::collections::HashMap<String, VaultRecordRow> {
        rows.into_iter().map(|r| (r.id.clone(), r)).collect()
    };
    let ours = by_id(all_records(store, &a).await);
    let s2 = subject_id(store, &a, 2).await;
    assert_eq!((ours["r1"].subject, ours["r2"].subject), (s2, s2), "one subject 2");
    assert_eq!(ours["r1"].subject_key, vec![2, 0x5B, 0x1E, 0xC7], "the first key");
    assert_eq!(ours["r4"].subject, s1);
    assert_eq!(ours["r7"].subject_key, vec![0x77; 4], "subject 3 as import 7 added it");
    assert_eq!(ours["r8"].subject, ours["r8b"].subject);
    assert_ne!(ours["r8"].subject, s2);
    let theirs_now = by_id(all_records(store, &b).await);
    assert_eq!(theirs_now["b1"].subject_key, vec![0xBB; 4]);
    assert_ne!(theirs_now["b1"].subject, s2);
    assert_eq!(query(store, &a, QueryKey::Identifier(blind(2))).await, vec!["r1", "r2"]);
    assert_eq!(query(store, &b, QueryKey::Identifier(blind(2))).await, vec!["b1"]);
    assert_eq!(
        query(store, &a, QueryKey::Identifier(blind(3))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        query(store, &a, QueryKey::Identifier(blind(6))).await,
        Vec::<String>::new()
    );

    // Two imports of one record id at once: the first is kept, the second fails, and one next
    // to them is not held back by either.
    let before = size(store).await;
    let clash: Vec<(&CustomerId, Vec<NewVaultRecord>)> = vec![
        (&a, vec![record("d1", "employees", new_subject(5), &[10])]),
        (&a, vec![record("d1", "contracts", new_subject(6), &[11])]),
        (&a, vec![record("d2", "employees", new_subject(7), &[12])]),
    ];
    let entries: Vec<AccessEntry> = clash.iter().map(|(t, _)| vault_entry(t, "record.create")).collect();
    let results = futures_util::future::join_all(
        clash
            .iter()
            .zip(&entries)
            .map(|((t, records), entry)| store.vault_create(t, records.clone(), ts(AT), entry)),
    )
    .await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(results[1].is_err(), "a second record d1");
    assert!(results[2].is_ok(), "{:?}", results[2]);
    assert_eq!(size(store).await, before + 2);
    let ours = by_id(all_records(store, &a).await);
    assert_eq!(
        (ours["d1"].collection.as_str(), ours["d2"].collection.as_str()),
        ("employees", "employees")
    );
    let ctx = store
        .vault_context(
            &a,
            ContextQuery {
                subjects: vec![subject(5), subject(6), subject(7)],
                ..ContextQuery::default()
            },
        )
        .await
        .expect("ctx");
    assert!(
        !ctx.subjects.contains_key(&subject(6)),
        "the failed import's subject is not added"
    );
    assert_eq!(ctx.subjects.len(), 2);
    assert_eq!(
        query(store, &a, QueryKey::Identifier(blind(11))).await,
        Vec::<String>::new()
    );
}

/// Lookups sent at once, by subject and by identifier, for two customers, are each answered
/// with what that lookup finds alone, each with its own entry.
pub async fn lookups_sent_at_once_are_each_answered_as_alone(store: &dyn Store) {
    let a = vault_customer(store).await;
    let b = id("andere-klant");
    add_customer(store, &b).await;
    prepare(store, &b).await;
    create(
        store,
        &a,
        vec![
            record("a2", "employees", new_subject(1), &[1, 2]),
            record("a1", "contracts", new_subject(1), &[1]),
            record("a3", "employees", new_subject(2), &[2]),
        ],
    )
    .await;
    create(store, &b, vec![record("b1", "employees", new_subject(1), &[1])]).await;
    let keys: Vec<(&CustomerId, QueryKey)> = vec![
        (&a, QueryKey::Subject(subject(1))),
        (&a, QueryKey::Identifier(blind(2))),
        (&b, QueryKey::Identifier(blind(1))),
        (&a, QueryKey::Identifier(blind(9))),
        (&b, QueryKey::Subject(subject(2))),
        (&a, QueryKey::Identifier(blind(1))),
        (&b, QueryKey::Subject(subject(1))),
    ];
    let mut alone = Vec::new();
    for (t, key) in &keys {
        alone.push(query(store, t, *key).await);
    }
    assert_eq!(
        alone,
        vec![
            vec!["a1", "a2"],
            vec!["a2", "a3"],
            vec!["b1"],
            vec![],
            vec![],
            vec!["a1", "a2"],
            vec!["b1"],
        ]
    );
    let before = size(store).await;
    let entries: Vec<AccessEntry> = keys.iter().map(|(t, _)| vault_entry(t, "record.query")).collect();
    let at_once = futures_util::future::join_all(
        keys.iter()
            .zip(&entries)
            .map(|((t, key), entry)| store.vault_query(t, *key, entry)),
    )
    .await;
    let mut indices = Vec::new();
    for (n, (r, expected)) in at_once.into_iter().zip(&alone).enumerate() {
        let (rows, receipt) = r.expect("query");
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        assert_eq!(&ids, expected, "lookup {n}");
        indices.push(receipt.index);
    }
    assert_eq!(
        indices,
        (before..before + 7).collect::<Vec<_>>(),
        "one entry each, in order"
    );
    assert_eq!(size(store).await, before + 7);
}
