//! What a document says: every term, name, category, version and date of its agreement,
//! in the language asked for.

use super::*;
use art28_core::vocabulary::Vocabulary;

/// The vocabulary labels an agreement uses, in one language.
fn labels(a: &ProcessorAgreement, lang: Lang) -> Vec<&'static str> {
    let p = &a.processing;
    [
        (Vocabulary::DataSubjects, &p.data_subjects),
        (Vocabulary::PersonalData, &p.personal_data),
        (Vocabulary::Purposes, &p.purposes),
        (Vocabulary::SecurityMeasures, &a.security.measures),
    ]
    .into_iter()
    .flat_map(|(vocabulary, ids)| ids.iter().map(move |id| vocabulary.find(id).unwrap().label(lang)))
    .collect()
}

#[test]
fn the_saas_breach_and_retention_terms_read_in_each_language() {
    let saas = example("saas-standard.toml");
    let nl = markdown(&saas, Lang::Nl);
    let en = markdown(&saas, Lang::En);
    assert!(nl.contains("binnen 48 uur na de ontdekking"), "{nl}");
    assert!(en.contains("within 48 hours after discovering"), "{en}");
    assert!(nl.contains("binnen 72 uur"), "{nl}");
    assert!(en.contains("within 72 hours"), "{en}");
    assert!(nl.contains("gedurende 1 jaar na het einde"), "{nl}");
    assert!(en.contains("for 1 year after the end"), "{en}");
    assert!(nl.contains("ten minste 4 weken van tevoren"), "{nl}");
    assert!(en.contains("at least 4 weeks before"), "{en}");
    assert!(nl.contains("gedurende 2 maanden na de opzegging"), "{nl}");
    assert!(en.contains("for 2 months after termination"), "{en}");
    assert!(!nl.contains("48 hours") && !en.contains("48 uur"));
}

#[test]
fn every_document_states_the_terms_of_its_agreement() {
    for (name, a) in examples() {
        for lang in LANGS {
            let md = markdown(&a, lang);
            let ctx = format!("{name} ({lang})");
            let mut terms = vec![
                a.breach.notice.describe(lang),
                a.end.retention.describe(lang),
                a.subprocessors.notice.describe(lang),
                a.audit.frequency.describe(lang),
                a.accounts.credential_expiry.describe(lang),
                a.accounts.block_max.describe(lang),
                a.changes.terms_notice.describe(lang),
            ];
            terms.extend(a.breach.complete_information.map(|d| d.describe(lang)));
            terms.extend(a.subprocessors.list_on_request.map(|d| d.describe(lang)));
            terms.extend(a.changes.termination_right.map(|d| d.describe(lang)));
            terms.extend(a.changes.old_terms_after_termination.map(|d| d.describe(lang)));
            if let art28_core::duration::OpenTerm::For(d) = a.confidentiality.after_end {
                terms.push(d.describe(lang));
            }
            for term in terms {
                assert!(md.contains(&term), "{ctx}: `{term}` missing");
            }
            for sp in &a.subprocessors.list {
                assert!(md.contains(&sp.name), "{ctx}: sub-processor {} missing", sp.name);
                assert!(
                    md.contains(sp.service.get(lang)),
                    "{ctx}: service of {} missing",
                    sp.name
                );
            }
            for t in &a.transfers {
                assert!(md.contains(&t.recipient), "{ctx}: transfer to {} missing", t.recipient);
            }
            for label in labels(&a, lang) {
                assert!(md.contains(label), "{ctx}: label `{label}` missing");
            }
            for cert in &a.security.certifications {
                assert!(md.contains(cert.as_str()), "{ctx}: certification {cert} missing");
            }
            assert!(md.contains(&a.processor.name), "{ctx}: processor missing");
            if let Some(c) = &a.customer {
                assert!(md.contains(&c.name), "{ctx}: customer missing");
                for contact in &c.contacts {
                    assert!(md.contains(&contact.email), "{ctx}: {} missing", contact.email);
                }
            }
            for annex in &a.annexes {
                assert!(md.contains(annex.title.get(lang)), "{ctx}: annex {} missing", annex.id);
            }
            assert!(
                md.contains(&format!("{} {}", lang.pick("versie", "version"), a.version)),
                "{ctx}: version missing"
            );
            assert!(
                !md.contains("{{") && !md.contains("{%") && !md.contains("}}"),
                "{ctx}: template syntax leaked"
            );
        }
    }
}

#[test]
fn dates_are_written_for_people() {
    let saas = example("saas-standard.toml");
    assert!(markdown(&saas, Lang::Nl).contains("geldig vanaf 1 januari 2026"));
    assert!(markdown(&saas, Lang::En).contains("in force from 1 January 2026"));
    let be = example("belgisch-addendum.toml");
    let nl = markdown(&be, Lang::Nl);
    let en = markdown(&be, Lang::En);
    assert!(nl.contains("1 april 2026") && en.contains("1 April 2026"));
    // The annex approval date and the sub-processor start date.
    assert!(nl.contains("16 maart 2026") && en.contains("16 March 2026"));
    assert!(nl.contains("1 september 2022") && en.contains("1 September 2022"));
    assert!(!nl.contains("2026-04-01") && !en.contains("2026-04-01"));
}

#[test]
fn terms_follow_the_agreement_not_the_template() {
    let mut a = example("saas-standard.toml");
    a.breach.notice = "PT36H".parse().unwrap();
    a.end.retention = "P18M".parse().unwrap();
    a.accounts.block_max = "PT24H".parse().unwrap();
    a.confidentiality.after_end = art28_core::duration::OpenTerm::Indefinite;
    let nl = markdown(&a, Lang::Nl);
    let en = markdown(&a, Lang::En);
    assert!(nl.contains("binnen 36 uur") && !nl.contains("48 uur"), "{nl}");
    assert!(en.contains("within 36 hours") && !en.contains("48 hours"), "{en}");
    assert!(nl.contains("gedurende 18 maanden") && en.contains("for 18 months"));
    assert!(nl.contains("ten hoogste 24 uur") && en.contains("no more than 24 hours"));
    assert!(nl.contains("onbeperkt in de tijd") && en.contains("without limit in time"));
    assert!(!nl.contains("2 jaar") && !en.contains("2 years"));
}

#[test]
fn the_standard_agreement_names_no_customer() {
    let saas = example("saas-standard.toml");
    let nl = markdown(&saas, Lang::Nl);
    let en = markdown(&saas, Lang::En);
    assert!(
        nl.contains("Standaardovereenkomst van Noordlicht Systemen B.V."),
        "{nl}"
    );
    assert!(en.contains("Standard agreement of Noordlicht Systemen B.V."), "{en}");
    assert!(nl.contains("in het account voor meldingen van datalekken heeft aangewezen"));
    assert!(en.contains("designated for breach notices in its account"));
    assert!(nl.contains("Er zijn geen aanvullende of gewijzigde instructies overeengekomen."));
    // No contact has a telephone number, so there is no empty telephone column.
    assert!(!nl.contains("Telefoon") && !en.contains("Telephone"));
}

#[test]
fn the_customer_deviation_shows_its_base_contacts_and_annex() {
    let a = example("bakkerij-de-vries.toml");
    let nl = markdown(&a, Lang::Nl);
    let en = markdown(&a, Lang::En);
    for md in [&nl, &en] {
        assert!(md.contains("saas-standard"), "{md}");
        // Both breach contacts are named in the breach protocol.
        assert!(md.contains("Anke de Vries, vennoot (anke@bakkerijdevries.example); Ruben Bos, externe boekhouder (ruben.bos@bos-administraties.example)"), "{md}");
        // The sub-processors come from the standard.
        assert!(md.contains("Wolkenveld Cloud GmbH"));
    }
    assert!(nl.contains("#### Bijlage A1: Maandelijkse export van de loonjournaalpost naar het salarisbureau"));
    assert!(en.contains("#### Annex A1: Monthly export of the payroll journal to the payroll bureau"));
    assert!(nl.contains("op 20 januari 2026"));
    assert!(en.contains("on 20 January 2026"));
}

#[test]
fn special_categories_none_or_which() {
    let erp = markdown(&example("erp-integrator-klant.toml"), Lang::En);
    assert!(erp.contains("**Special categories of personal data.** None."), "{erp}");
    let be = example("belgisch-addendum.toml");
    let nl = markdown(&be, Lang::Nl);
    let en = markdown(&be, Lang::En);
    assert!(
        nl.contains("vereist: gezondheidsgegevens en strafrechtelijke gegevens."),
        "{nl}"
    );
    assert!(
        en.contains("requires: health data and criminal convictions and offences."),
        "{en}"
    );
    assert!(!nl.contains("**Bijzondere persoonsgegevens.** Geen."));
}

#[test]
fn transfers_and_roles_are_stated() {
    let be = example("belgisch-addendum.toml");
    let nl = markdown(&be, Lang::Nl);
    let en = markdown(&be, Lang::En);
    assert!(nl.contains("| Sahyadri Support Services Pvt. Ltd. | India |"), "{nl}");
    assert!(
        nl.contains("| Standaardcontractbepalingen | SCC 2021/914 module 3 |"),
        "{nl}"
    );
    assert!(
        en.contains("| Standard contractual clauses | SCC 2021/914 module 3 |"),
        "{en}"
    );
    assert!(nl.contains("vanuit Nederland, België en India"), "{nl}");
    assert!(en.contains("from the Netherlands, Belgium and India"), "{en}");
    // Sub-processor role and the Belgian authority.
    assert!(nl.contains("- **Subverwerker:** Noordlicht Systemen B.V."), "{nl}");
    assert!(nl.contains("Gegevensbeschermingsautoriteit"));
    assert!(
        en.contains("The Sub-processor never notifies a supervisory authority"),
        "{en}"
    );
    assert!(
        nl.contains("binnen 30 dagen de actuele lijst van subverwerkers"),
        "{nl}"
    );
    assert!(en.contains("within 30 days"), "{en}");

    let saas = markdown(&example("saas-standard.toml"), Lang::Nl);
    assert!(saas.contains("niet doorgegeven naar landen buiten de Europese Economische Ruimte"));
    assert!(saas.contains("- **Verwerker:** Noordlicht Systemen B.V."));
    assert!(saas.contains("aan de Autoriteit Persoonsgegevens"));
    assert!(saas.contains("opgeslagen in Duitsland."));
}

#[test]
fn audit_and_precedence_follow_the_agreement() {
    let erp = example("erp-integrator-klant.toml");
    let nl = markdown(&erp, Lang::Nl);
    let en = markdown(&erp, Lang::En);
    assert!(nl.contains("onafhankelijke, gecertificeerde deskundige"));
    assert!(nl.contains("Third Party Memorandum"));
    assert!(nl.contains("komen voor rekening van Klant"));
    assert!(en.contains("borne by the Customer"));
    assert!(nl.contains("binnen 30 dagen na de wijziging opzeggen"), "{nl}");
    assert!(
        nl.contains(
            "1. Het Data Pro Statement\n2. De Standaardclausules voor Verwerkingen\n3. Deze verwerkersovereenkomst"
        ),
        "{nl}"
    );
    assert!(
        en.contains("1. The Data Pro Statement\n2. The Standard Clauses for Processing\n3. This processor agreement"),
        "{en}"
    );

    let be = markdown(&example("belgisch-addendum.toml"), Lang::En);
    assert!(be.contains("by the Customer itself or by an auditor it has mandated"));
    assert!(be.contains("Each party bears its own costs"));
    assert!(!be.contains("Third Party Memorandum") && !be.contains("third-party memorandum"));
    assert!(be.contains("1. The main agreement"));
}

#[test]
fn each_language_has_only_its_own_headings() {
    for (name, a) in examples() {
        let nl = section_headings(&markdown(&a, Lang::Nl));
        let en = section_headings(&markdown(&a, Lang::En));
        assert_eq!(nl.len(), en.len(), "{name}: {nl:?} / {en:?}");
        assert!(nl.len() >= 20, "{name}: {nl:?}");
        for heading in &en {
            assert!(
                !nl.contains(heading),
                "{name}: English heading {heading} in the Dutch document"
            );
        }
        let nl_text = markdown(&a, Lang::Nl);
        let en_text = markdown(&a, Lang::En);
        for english in [
            "Sub-processors",
            "Breach protocol",
            "Confidentiality",
            "Order of precedence",
            "Annexes",
            "Changes",
        ] {
            assert!(!nl_text.contains(&format!("### {english}")), "{name}: {english}");
        }
        for dutch in [
            "Subverwerkers",
            "Protocol bij datalekken",
            "Geheimhouding",
            "Rangorde",
            "Bijlagen",
            "Wijzigingen",
        ] {
            assert!(!en_text.contains(&format!("### {dutch}")), "{name}: {dutch}");
        }
    }
}

#[test]
fn the_document_follows_the_data_pro_statement_then_the_clauses() {
    let md = markdown(&example("erp-integrator-klant.toml"), Lang::En);
    let order = [
        "## Part A — Data Pro Statement",
        "### Parties and roles",
        "### Service and intended use",
        "### Subject, duration, nature and purposes",
        "### Data subjects and personal data",
        "### Processing locations and transfers",
        "### Sub-processors",
        "### Data subjects' requests",
        "### Security measures and certifications",
        "### Breach protocol",
        "## Part B — Clauses",
        "### Audits and information",
        "### End of the agreement",
        "### Confidentiality",
        "### Accounts and credentials",
        "### Changes",
        "### Order of precedence",
        "### Annexes",
        "## Version and entry into force",
    ];
    let mut from = 0;
    for heading in order {
        let at = md[from..]
            .find(&format!("\n{heading}\n"))
            .unwrap_or_else(|| panic!("{heading} missing or out of order"));
        from += at + heading.len();
    }
}

#[test]
fn rendering_is_deterministic() {
    let a = example("belgisch-addendum.toml");
    for lang in LANGS {
        assert_eq!(markdown(&a, lang), markdown(&a, lang));
        assert_eq!(html(&a, lang), html(&a, lang));
    }
}

#[test]
fn staff_access_and_the_lockbox_follow_the_agreement() {
    let belgian = example("belgisch-addendum.toml");
    let saas = example("saas-standard.toml");
    assert!(belgian.accounts.staff_access_approval && !saas.accounts.staff_access_approval);
    for (lang, none, approval) in [
        (Lang::Nl, "geen vaste toegang", "nadat Klant die heeft goedgekeurd"),
        (
            Lang::En,
            "no standing access",
            "only after the Customer has approved it",
        ),
    ] {
        let b = markdown(&belgian, lang);
        let s = markdown(&saas, lang);
        assert!(b.contains(none) && s.contains(none), "{lang}");
        assert!(
            b.contains(approval),
            "{lang}: the lockbox is stated where the agreement has one"
        );
        assert!(!s.contains(approval), "{lang}: and only there");
        assert!(b.contains(&belgian.accounts.staff_access_max.describe(lang)));
    }
}
