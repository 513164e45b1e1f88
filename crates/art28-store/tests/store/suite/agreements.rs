//! AgreementStore: the processor profile, customers and their contacts, agreement versions.

use super::*;
use art28_core::ErrorCode;
use art28_core::agreement::ContactRole;
use art28_store::ProcessorProfile;

pub async fn the_processor_profile_is_absent_then_set_then_replaced(store: &dyn Store) {
    assert_eq!(store.processor().await.expect("processor"), None);
    let p = ProcessorProfile {
        name: "Noordlicht Systemen B.V.".into(),
        registration: "KvK 1".into(),
        country: "NL".into(),
    };
    store.set_processor(&p).await.expect("set");
    assert_eq!(store.processor().await.expect("processor"), Some(p.clone()));
    let p2 = ProcessorProfile {
        name: "Renamed".into(),
        ..p
    };
    store.set_processor(&p2).await.expect("replace");
    assert_eq!(store.processor().await.expect("processor"), Some(p2));
}

pub async fn customers_are_created_once_and_listed_in_id_order(store: &dyn Store) {
    assert_eq!(store.customers().await.expect("none yet"), vec![]);
    let b = id("bravo");
    let created = store
        .create_customer(&new_customer(&b, "Bravo B.V."), &next_entry(None, "customer.create"))
        .await
        .expect("create");
    assert_eq!(created.receipt.index, 0, "its entry is the log's first");
    assert_eq!(store.log_size().await.expect("size"), 1);
    assert_eq!(
        (created.value.id.as_str(), created.value.name.as_str()),
        ("bravo", "Bravo B.V.")
    );
    assert_eq!(created.value.status, art28_store::CustomerStatus::Active);
    let record = store.customer(&b).await.expect("get").expect("exists");
    assert_eq!(record, created.value, "reads back as created");
    assert_eq!(record.created_at, ts("2026-01-01T09:00:00Z"));
    assert_eq!(record.created_by, "tester");

    // Ids are never reused; the refusal leaves no entry.
    let again = store
        .create_customer(
            &NewCustomer {
                language: Lang::En,
                ..new_customer(&b, "Someone else")
            },
            &next_entry(None, "customer.create"),
        )
        .await
        .expect_err("duplicate id");
    assert_eq!(again.code, ErrorCode::CustomerExists);
    assert_eq!(store.log_size().await.expect("size"), 1, "no entry for the refusal");
    assert_eq!(store.customer(&b).await.expect("get").expect("kept").name, "Bravo B.V.");
    assert_eq!(store.customer(&id("nobody-here")).await.expect("get"), None);

    add_customer(store, &id("alfa")).await;
    add_customer(store, &id("charlie")).await;
    let all = store.customers().await.expect("all");
    assert_eq!(
        all.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec!["alfa", "bravo", "charlie"]
    );
}

pub async fn a_customer_version_replaces_the_contacts_and_reads_back_exactly(store: &dyn Store) {
    let customer = seed(store).await;
    let a1 = erp();
    let contacts = store.contacts(&customer).await.expect("contacts");
    let party = a1.customer.as_ref().expect("customer");
    assert_eq!(
        contacts.iter().map(|c| c.email.as_str()).collect::<Vec<_>>(),
        party.contacts.iter().map(|c| c.email.as_str()).collect::<Vec<_>>(),
        "the agreement's contacts, in order"
    );
    assert!(contacts.iter().any(|c| c.roles.contains(&ContactRole::BreachNotice)));
    assert_eq!(store.contacts(&id("nobody-here")).await.expect("none"), vec![]);

    let mut a2 = erp();
    a2.version = a1.version + 1;
    a2.effective_from = "2026-07-01".parse().expect("date");
    a2.customer.as_mut().expect("customer").contacts.truncate(1);
    let put = store
        .put_agreement_version(
            &next_version(a2.clone(), a1.version, "2026-06-01T00:00:00Z"),
            &next_entry(None, "agreement.record"),
        )
        .await
        .expect("v2");
    assert_eq!(put.value.meta.version, a2.version);
    assert_eq!(put.receipt.index, 2, "after the customer's and v1's entries");
    let contacts = store.contacts(&customer).await.expect("contacts");
    assert_eq!(contacts.len(), 1, "contacts replaced with the new version's");
    assert_eq!(contacts[0].email, a2.customer.as_ref().expect("c").contacts[0].email);

    let v2 = store
        .agreement_version(&a2.id, a2.version)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(v2.agreement, a2, "the agreement reads back exactly");
    assert_eq!(v2.source, format!("# source of {} v{}\n", a2.id, a2.version));
    assert_eq!(v2.meta, put.value.meta, "the metadata as returned when recorded");
    assert_eq!(v2.meta.customer.as_ref(), Some(&customer));
    assert_eq!(v2.meta.recorded_at, ts("2026-06-01T00:00:00Z"));
    assert_eq!(v2.meta.sha256.len(), 64);
    assert_eq!(store.agreement_version(&a2.id, 99).await.expect("get"), None);

    let versions = store.agreement_versions(&a1.id).await.expect("versions");
    assert_eq!(
        versions.iter().map(|m| m.version).collect::<Vec<_>>(),
        vec![a1.version, a2.version],
        "oldest first"
    );
    let history = store.customer_agreement_history(&customer).await.expect("history");
    assert_eq!(history, versions);
    assert_eq!(history[1].recorded_by, "tester");
    assert_eq!(
        store
            .customer_agreement_history(&id("nobody-here"))
            .await
            .expect("none"),
        vec![]
    );
}

pub async fn a_version_is_written_only_if_the_newest_is_still_the_one_it_follows(store: &dyn Store) {
    let customer = seed(store).await;
    let a1 = erp();
    let size = store.log_size().await.expect("size");

    // The same version number again (the caller did not check the succession).
    let same = store
        .put_agreement_version(
            &next_version(erp(), a1.version, "2026-03-01T00:00:00Z"),
            &next_entry(Some(&customer), "agreement.record"),
        )
        .await
        .expect_err("same version");
    assert_eq!(same.code, ErrorCode::AgreementVersionConflict);
    // Checked against an empty history that is not empty any more.
    let mut a2 = erp();
    a2.version = a1.version + 1;
    let stale = store
        .put_agreement_version(
            &new_version(a2.clone(), "2026-03-01T00:00:00Z"),
            &next_entry(Some(&customer), "agreement.record"),
        )
        .await
        .expect_err("stale: follows nothing");
    assert_eq!(stale.code, ErrorCode::AgreementVersionConflict);
    // Checked against a version that is not the newest.
    let mut a3 = erp();
    a3.version = a1.version + 2;
    store
        .put_agreement_version(
            &next_version(a2.clone(), a1.version, "2026-03-01T00:00:00Z"),
            &next_entry(Some(&customer), "agreement.record"),
        )
        .await
        .expect("v2 follows v1");
    let moved_on = store
        .put_agreement_version(
            &next_version(a3.clone(), a1.version, "2026-03-02T00:00:00Z"),
            &next_entry(Some(&customer), "agreement.record"),
        )
        .await
        .expect_err("v1 is not the newest any more");
    assert_eq!(moved_on.code, ErrorCode::AgreementVersionConflict);
    assert_eq!(
        store.log_size().await.expect("size"),
        size + 1,
        "only the version written has an entry"
    );
    assert_eq!(
        store
            .agreement_versions(&a1.id)
            .await
            .expect("versions")
            .iter()
            .map(|m| m.version)
            .collect::<Vec<_>>(),
        vec![a1.version, a2.version]
    );
    assert_eq!(store.agreement_version(&a3.id, a3.version).await.expect("get"), None);

    // Another customer's first version under an id that has a history is refused (the
    // ownership rule itself is core's, `check_succession`).
    let other = id("andere-klant");
    add_customer(store, &other).await;
    let mut stolen = erp();
    stolen.version = 99;
    stolen.customer.as_mut().expect("customer").id = other.clone();
    let err = store
        .put_agreement_version(
            &new_version(stolen, "2026-08-01T00:00:00Z"),
            &next_entry(None, "agreement.record"),
        )
        .await
        .expect_err("stale history");
    assert_eq!(err.code, ErrorCode::AgreementVersionConflict);
    assert_eq!(store.customer_agreement_history(&other).await.expect("history"), vec![]);
}

pub async fn a_version_for_an_unknown_customer_is_refused(store: &dyn Store) {
    let mut orphan = erp();
    orphan.id = "orphan".parse().expect("id");
    orphan.customer.as_mut().expect("customer").id = id("unknown-customer");
    let err = store
        .put_agreement_version(
            &new_version(orphan.clone(), "2026-08-01T00:00:00Z"),
            &next_entry(None, "agreement.record"),
        )
        .await
        .expect_err("unknown");
    assert_eq!(err.code, ErrorCode::CustomerNotFound);
    assert_eq!(store.log_size().await.expect("size"), 0, "no entry");
    assert_eq!(store.agreement_versions(&orphan.id).await.expect("versions"), vec![]);
}

pub async fn onboarding_creates_the_customer_in_the_same_transaction(store: &dyn Store) {
    let a = erp();
    let customer = a.customer.as_ref().expect("customer").id.clone();
    let v = NewAgreementVersion {
        onboard: Some(new_customer(&customer, "ERP klant")),
        ..new_version(a.clone(), "2026-01-01T09:00:00Z")
    };
    let put = store
        .put_agreement_version(&v, &next_entry(None, "agreement.record"))
        .await
        .expect("onboard");
    assert_eq!(put.receipt.index, 0, "one entry for both");
    assert_eq!(store.log_size().await.expect("size"), 1);
    assert_eq!(
        store.customer(&customer).await.expect("get").expect("created").name,
        "ERP klant"
    );
    assert_eq!(store.customer_agreement_history(&customer).await.expect("h").len(), 1);

    // Onboarding a customer that exists fails as a whole: no version, no entry.
    let mut again = erp();
    again.id = "second".parse().expect("id");
    let v = NewAgreementVersion {
        onboard: Some(new_customer(&customer, "twice")),
        ..new_version(again.clone(), "2026-01-02T09:00:00Z")
    };
    let err = store
        .put_agreement_version(&v, &next_entry(None, "agreement.record"))
        .await
        .expect_err("customer exists");
    assert_eq!(err.code, ErrorCode::CustomerExists);
    assert_eq!(store.agreement_versions(&again.id).await.expect("v"), vec![]);
    assert_eq!(store.log_size().await.expect("size"), 1);

    // A version that fails after the onboarding leaves no customer behind.
    let fresh = id("fresh-klant");
    let mut clash = erp();
    clash.customer.as_mut().expect("customer").id = fresh.clone();
    let v = NewAgreementVersion {
        onboard: Some(new_customer(&fresh, "Fresh")),
        ..new_version(clash, "2026-01-03T09:00:00Z")
    };
    let err = store
        .put_agreement_version(&v, &next_entry(None, "agreement.record"))
        .await
        .expect_err("the id has a history");
    assert_eq!(err.code, ErrorCode::AgreementVersionConflict);
    assert_eq!(store.customer(&fresh).await.expect("get"), None, "rolled back with it");
    assert_eq!(store.log_size().await.expect("size"), 1);
}

pub async fn the_version_in_force_depends_on_the_date(store: &dyn Store) {
    let customer = seed(store).await;
    let a1 = erp();
    let mut a2 = erp();
    a2.version = a1.version + 1;
    a2.effective_from = "2026-07-01".parse().expect("date");
    store
        .put_agreement_version(
            &next_version(a2.clone(), a1.version, "2026-06-01T00:00:00Z"),
            &next_entry(None, "agreement.record"),
        )
        .await
        .expect("v2");
    let on = |d: &str| d.parse::<art28_core::date::Date>().expect("date");
    let before = store
        .agreement_in_force(&customer, on("2026-06-30"))
        .await
        .expect("q")
        .expect("some");
    assert_eq!(before.meta.version, a1.version);
    assert_eq!(before.agreement, a1);
    let after = store
        .agreement_in_force(&customer, on("2026-07-01"))
        .await
        .expect("q")
        .expect("some");
    assert_eq!(after.meta.version, a2.version);
    assert_eq!(after.agreement, a2, "the agreement reads back exactly");
    let early = store.agreement_in_force(&customer, on("2000-01-01")).await.expect("q");
    assert!(early.is_none(), "nothing in force before the first version");
    assert!(
        store
            .agreement_in_force(&id("nobody-here"), on("2026-07-01"))
            .await
            .expect("q")
            .is_none()
    );
}

pub async fn standard_agreements_are_listed_at_their_latest_version(store: &dyn Store) {
    assert_eq!(store.standard_agreements().await.expect("none"), vec![]);
    seed(store).await;
    let std1 = standard();
    let mut std2 = std1.clone();
    std2.version += 1;
    store
        .put_agreement_version(
            &new_version(std1.clone(), "2026-01-01T00:00:00Z"),
            &next_entry(None, "agreement.record"),
        )
        .await
        .expect("std1");
    store
        .put_agreement_version(
            &next_version(std2.clone(), std1.version, "2026-02-01T00:00:00Z"),
            &next_entry(None, "agreement.record"),
        )
        .await
        .expect("std2");
    let standards = store.standard_agreements().await.expect("standards");
    assert_eq!(
        standards.iter().map(|m| (m.id.as_str(), m.version)).collect::<Vec<_>>(),
        vec![(std1.id.as_str(), std2.version)],
        "one line per standard, at its latest version, and no customer agreement"
    );
    assert_eq!(standards[0].customer, None);
    assert_eq!(standards[0].kind, art28_core::agreement::AgreementKind::Standard);
}
