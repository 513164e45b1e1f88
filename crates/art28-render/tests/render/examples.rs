//! The example agreements in `examples/agreements` are valid, together.

use super::*;
use art28_core::agreement::{AgreementKind, Role};

#[test]
fn every_example_passes_check_set() {
    let sources: Vec<Source> = EXAMPLES.iter().map(|(name, text)| Source::new(*name, *text)).collect();
    let results = check_set(&sources);
    assert_eq!(results.len(), EXAMPLES.len());
    for checked in results {
        if let Err(diagnostics) = &checked.result {
            let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
            panic!("{} is not valid:\n{}", checked.name, lines.join("\n"));
        }
    }
}

#[test]
fn the_customer_file_needs_its_standard() {
    let (name, text) = EXAMPLES[1];
    let alone = check_set(&[Source::new(name, text)]);
    let diagnostics = alone[0]
        .result
        .as_ref()
        .expect_err("a customer deviation cannot stand alone");
    assert!(diagnostics.iter().any(|d| d.code == "base_missing"), "{diagnostics:?}");
}

#[test]
fn the_customer_file_inherits_from_the_standard() {
    let standard = example("saas-standard.toml");
    let bakkerij = example("bakkerij-de-vries.toml");
    assert_eq!(standard.kind, AgreementKind::Standard);
    assert!(standard.customer.is_none());
    assert_eq!(bakkerij.kind, AgreementKind::Customer);
    let customer = bakkerij.customer.as_ref().unwrap();
    assert_eq!(customer.name, "Bakkerij de Vries V.O.F.");
    // Everything the customer file does not say comes from the standard.
    assert_eq!(bakkerij.breach, standard.breach);
    assert_eq!(bakkerij.subprocessors, standard.subprocessors);
    assert_eq!(bakkerij.end, standard.end);
    assert_eq!(bakkerij.precedence, standard.precedence);
    assert_eq!(bakkerij.annexes.len(), 1);
    assert!(standard.annexes.is_empty());
    // Two contacts receive breach notices.
    let breach_contacts = customer
        .contacts
        .iter()
        .filter(|c| c.roles.contains(&art28_core::agreement::ContactRole::BreachNotice))
        .count();
    assert_eq!(breach_contacts, 2);
}

#[test]
fn the_examples_carry_the_terms_of_their_source_profiles() {
    let saas = example("saas-standard.toml");
    assert_eq!(saas.breach.notice.to_string(), "PT48H");
    assert_eq!(
        saas.breach.complete_information.map(|d| d.to_string()).as_deref(),
        Some("PT72H")
    );
    assert_eq!(saas.subprocessors.notice.to_string(), "P4W");
    assert_eq!(saas.end.retention.to_string(), "P1Y");
    assert_eq!(
        saas.changes
            .old_terms_after_termination
            .map(|d| d.to_string())
            .as_deref(),
        Some("P2M")
    );

    let erp = example("erp-integrator-klant.toml");
    assert_eq!(erp.end.retention.to_string(), "P3M");
    assert_eq!(
        erp.changes.termination_right.map(|d| d.to_string()).as_deref(),
        Some("P30D")
    );
    assert!(erp.audit.certificate_first);
    assert!(erp.processing.special_categories_allowed.is_empty());
    assert_eq!(erp.subprocessors.list.len(), 1);

    let be = example("belgisch-addendum.toml");
    assert_eq!(be.role, Role::SubProcessor);
    assert_eq!(be.customer.as_ref().unwrap().country, "BE");
    assert_eq!(
        be.subprocessors.list_on_request.map(|d| d.to_string()).as_deref(),
        Some("P30D")
    );
    assert_eq!(be.transfers.len(), 1);
    assert_eq!(be.transfers[0].country, "IN");
    assert_eq!(be.confidentiality.after_end, art28_core::duration::OpenTerm::Indefinite);
}
