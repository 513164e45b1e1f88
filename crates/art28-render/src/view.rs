//! The view model: everything a template shows, already in the document's language and
//! already escaped for Markdown.
//!
//! Templates only arrange and phrase; every value (a term, a label, a date, a name) is decided
//! here, in Rust, where the compiler sees every field of the agreement. Enum values that shape
//! a sentence (`role`, `end.choice`, `audit.cost`) are passed as their snake_case ids so that
//! each template can phrase the sentence in its own grammar.

use crate::markdown::{inline, paragraphs};
use crate::words;
use art28_core::agreement::{
    AgreementKind, Auditor, Authorisation, ContactRole, CostBearer, EndChoice, ProcessorAgreement, Role,
};
use art28_core::agreement::{Contact, DataFormat};
use art28_core::date::Date;
use art28_core::lang::{Lang, Text};
use art28_core::vocabulary::Vocabulary;
use art28_core::{Error, ErrorCode};
use serde::Serialize;

/// Shown in a table cell that has no value.
const NONE: &str = "—";

#[derive(Debug, Serialize)]
pub(crate) struct AgreementView {
    pub title: String,
    pub id: String,
    pub version: u32,
    pub effective_from: String,
    pub standard: bool,
    pub based_on: Option<BaseView>,
    pub role: &'static str,
    pub processor: PartyView,
    pub customer: Option<PartyView>,
    /// Whether any contact has a telephone number; without one the column is left out.
    pub contact_phones: bool,
    /// Customer contacts that receive breach notices, as `name (e-mail)`.
    pub breach_contacts: Vec<String>,
    pub authority: &'static str,
    pub service: ServiceView,
    pub processing: ProcessingView,
    pub locations: LocationsView,
    pub transfers: Vec<TransferView>,
    pub subprocessors: SubProcessorsView,
    pub security: SecurityView,
    pub breach: BreachView,
    pub requests: RequestsView,
    pub audit: AuditView,
    pub end: EndView,
    pub confidentiality: ConfidentialityView,
    pub accounts: AccountsView,
    pub changes: ChangesView,
    pub precedence: Vec<String>,
    pub annexes: Vec<AnnexView>,
}

#[derive(Debug, Serialize)]
pub(crate) struct BaseView {
    pub id: String,
    pub version: u32,
}

#[derive(Debug, Serialize)]
pub(crate) struct PartyView {
    pub name: String,
    pub registration: String,
    pub address: String,
    pub country: String,
    pub contacts: Vec<ContactView>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ContactView {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub roles: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct ServiceView {
    pub name: String,
    pub description: Vec<String>,
    pub intended_use: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ProcessingView {
    pub subject: Vec<String>,
    pub duration: Vec<String>,
    /// The processing operations as one phrase: `Collection, storage and erasure`.
    pub nature: String,
    pub purposes: Vec<String>,
    pub data_subjects: Vec<String>,
    pub personal_data: Vec<String>,
    /// Special categories that may be processed, as one phrase; empty when none may.
    pub special_categories: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct LocationsView {
    pub storage: String,
    pub access: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct TransferView {
    pub recipient: String,
    pub country: String,
    pub purpose: String,
    pub safeguard: String,
    pub reference: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct SubProcessorsView {
    pub general: bool,
    pub notice: String,
    pub objection_period: Option<String>,
    pub list_on_request: Option<String>,
    pub list: Vec<SubProcessorView>,
}

#[derive(Debug, Serialize)]
pub(crate) struct SubProcessorView {
    pub name: String,
    pub service: String,
    pub location: String,
    pub region: String,
    pub safeguard: String,
    pub since: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct SecurityView {
    pub measures: Vec<String>,
    pub certifications: String,
    pub description: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct BreachView {
    pub notice: String,
    pub complete_information: Option<String>,
    pub includes_subprocessors: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct RequestsView {
    pub assistance: Vec<String>,
    pub formats: String,
    pub billable: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct AuditView {
    pub frequency: String,
    pub cost: &'static str,
    pub auditor: &'static str,
    pub certificate_first: bool,
    pub notice: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct EndView {
    pub choice: &'static str,
    pub return_formats: String,
    pub retention: String,
    pub export_before_end: bool,
    pub early_deletion_on_request: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct ConfidentialityView {
    pub after_end: String,
    pub indefinite: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct AccountsView {
    pub credential_expiry: String,
    pub block_max: String,
    pub staff_access_approval: bool,
    pub staff_access_max: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct ChangesView {
    pub terms_notice: String,
    pub termination_right: Option<String>,
    pub old_terms_after_termination: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct AnnexView {
    pub id: String,
    pub title: String,
    pub text: Vec<String>,
    pub requested_by: String,
    pub approved_by: String,
    pub approved_on: String,
}

/// Build the view of an agreement in one language.
///
/// Fails only when the agreement names a vocabulary term that does not exist, which a
/// validated agreement never does: rendering it anyway would print an id where a reader
/// expects a category.
pub(crate) fn build(a: &ProcessorAgreement, lang: Lang) -> Result<AgreementView, Error> {
    let text = |t: &Text| paragraphs(t.get(lang));
    let line = |t: &Text| inline(t.get(lang));
    let date = |d: Date| words::date(d, lang);
    let term = |vocabulary: Vocabulary, id: &str| -> Result<String, Error> {
        vocabulary.find(id).map(|t| t.label(lang).to_string()).ok_or_else(|| {
            Error::new(
                ErrorCode::Internal,
                format!(
                    "the agreement uses `{}`, which is not a known {}; validate the agreement before rendering it",
                    id.chars().take(64).collect::<String>(),
                    vocabulary.noun()
                ),
            )
        })
    };
    let terms = |vocabulary: Vocabulary, ids: &[String]| -> Result<Vec<String>, Error> {
        ids.iter().map(|id| term(vocabulary, id)).collect()
    };
    let formats = |fs: &[DataFormat]| {
        let names: Vec<String> = fs.iter().map(|f| words::data_format(*f, lang).to_string()).collect();
        inline(&words::join(&names, lang))
    };
    let places = |codes: &[String]| {
        let names: Vec<String> = codes.iter().map(|c| words::country_in_text(c, lang)).collect();
        inline(&words::join(&names, lang))
    };
    let contacts = |cs: &[Contact]| -> Vec<ContactView> {
        cs.iter()
            .map(|c| {
                let roles: Vec<String> = c
                    .roles
                    .iter()
                    .map(|r| words::contact_role(*r, lang).to_string())
                    .collect();
                ContactView {
                    name: inline(&c.name),
                    email: inline(&c.email),
                    phone: c.phone.as_deref().map_or_else(|| NONE.to_string(), inline),
                    roles: inline(&words::capitalise(&roles.join(", "))),
                }
            })
            .collect()
    };

    let processor = PartyView {
        name: inline(&a.processor.name),
        registration: inline(&a.processor.registration),
        address: inline(&a.processor.address),
        country: inline(&words::country(&a.processor.country, lang)),
        contacts: contacts(&a.processor.contacts),
    };
    let customer = a.customer.as_ref().map(|c| PartyView {
        name: inline(&c.name),
        registration: inline(&c.registration),
        address: inline(&c.address),
        country: inline(&words::country(&c.country, lang)),
        contacts: contacts(&c.contacts),
    });
    let breach_contacts = a
        .customer
        .iter()
        .flat_map(|c| &c.contacts)
        .filter(|c| c.roles.contains(&ContactRole::BreachNotice))
        .map(|c| inline(&format!("{} ({})", c.name, c.email)))
        .collect();
    // The controller's authority: the customer's country, or for a standard agreement the
    // processor's, whose customers are mostly established where it is.
    let controller_country = a.customer.as_ref().map_or(&a.processor.country, |c| &c.country);

    let nature: Vec<String> = terms(Vocabulary::ProcessingOperations, &a.processing.nature)?
        .iter()
        .enumerate()
        .map(|(i, l)| if i == 0 { l.clone() } else { words::decapitalise(l) })
        .collect();
    let special: Vec<String> = terms(Vocabulary::PersonalData, &a.processing.special_categories_allowed)?
        .iter()
        .map(|l| words::decapitalise(l))
        .collect();
    let processing = ProcessingView {
        subject: text(&a.processing.subject),
        duration: text(&a.processing.duration),
        nature: inline(&words::join(&nature, lang)),
        purposes: terms(Vocabulary::Purposes, &a.processing.purposes)?
            .iter()
            .map(|s| inline(s))
            .collect(),
        data_subjects: terms(Vocabulary::DataSubjects, &a.processing.data_subjects)?
            .iter()
            .map(|s| inline(s))
            .collect(),
        personal_data: terms(Vocabulary::PersonalData, &a.processing.personal_data)?
            .iter()
            .map(|s| inline(s))
            .collect(),
        special_categories: inline(&words::join(&special, lang)),
    };

    let transfers = a
        .transfers
        .iter()
        .map(|t| TransferView {
            recipient: inline(&t.recipient),
            country: inline(&words::country(&t.country, lang)),
            purpose: line(&t.purpose),
            safeguard: t
                .safeguard
                .map_or_else(|| NONE.to_string(), |s| words::capitalise(words::safeguard(s, lang))),
            reference: t.reference.as_deref().map_or_else(|| NONE.to_string(), inline),
        })
        .collect();

    let s = &a.subprocessors;
    let subprocessors = SubProcessorsView {
        general: s.authorisation == Authorisation::General,
        notice: s.notice.describe(lang),
        objection_period: s.objection_period.map(|d| d.describe(lang)),
        list_on_request: s.list_on_request.map(|d| d.describe(lang)),
        list: s
            .list
            .iter()
            .map(|sp| SubProcessorView {
                name: inline(&sp.name),
                service: line(&sp.service),
                location: inline(&words::country(&sp.location, lang)),
                region: sp.region.as_deref().map_or_else(|| NONE.to_string(), inline),
                safeguard: sp
                    .safeguard
                    .map_or_else(|| NONE.to_string(), |g| words::capitalise(words::safeguard(g, lang))),
                since: sp.since.map_or_else(|| NONE.to_string(), date),
            })
            .collect(),
    };

    let certifications: Vec<String> = a.security.certifications.clone();
    let security = SecurityView {
        measures: terms(Vocabulary::SecurityMeasures, &a.security.measures)?
            .iter()
            .map(|s| inline(s))
            .collect(),
        certifications: inline(&words::join(&certifications, lang)),
        description: a.security.description.as_ref().map(text).unwrap_or_default(),
    };

    Ok(AgreementView {
        title: line(&a.title),
        id: inline(a.id.as_str()),
        version: a.version,
        effective_from: date(a.effective_from),
        standard: a.kind == AgreementKind::Standard,
        based_on: a.based_on.as_ref().map(|b| BaseView {
            id: inline(b.id.as_str()),
            version: b.version,
        }),
        role: match a.role {
            Role::Processor => "processor",
            Role::SubProcessor => "sub_processor",
        },
        contact_phones: a
            .processor
            .contacts
            .iter()
            .chain(a.customer.iter().flat_map(|c| &c.contacts))
            .any(|c| c.phone.is_some()),
        processor,
        customer,
        breach_contacts,
        authority: words::authority(controller_country, lang),
        service: ServiceView {
            name: inline(&a.service.name),
            description: text(&a.service.description),
            intended_use: text(&a.service.intended_use),
        },
        processing,
        locations: LocationsView {
            storage: places(&a.locations.storage),
            access: places(&a.locations.access),
        },
        transfers,
        subprocessors,
        security,
        breach: BreachView {
            notice: a.breach.notice.describe(lang),
            complete_information: a.breach.complete_information.map(|d| d.describe(lang)),
            includes_subprocessors: a.breach.includes_subprocessors,
        },
        requests: RequestsView {
            assistance: text(&a.requests.assistance),
            formats: formats(&a.requests.formats),
            billable: a.requests.billable,
        },
        audit: AuditView {
            frequency: a.audit.frequency.describe(lang),
            cost: match a.audit.cost {
                CostBearer::Customer => "customer",
                CostBearer::Processor => "processor",
                CostBearer::Shared => "shared",
            },
            auditor: match a.audit.auditor {
                Auditor::IndependentCertifiedExpert => "independent_certified_expert",
                Auditor::CustomerOrMandated => "customer_or_mandated",
            },
            certificate_first: a.audit.certificate_first,
            notice: a.audit.notice.map(|d| d.describe(lang)),
        },
        end: EndView {
            choice: match a.end.choice {
                EndChoice::CustomerChooses => "customer_chooses",
                EndChoice::ReturnThenDelete => "return_then_delete",
                EndChoice::Delete => "delete",
            },
            return_formats: formats(&a.end.return_formats),
            retention: a.end.retention.describe(lang),
            export_before_end: a.end.export_before_end,
            early_deletion_on_request: a.end.early_deletion_on_request,
        },
        confidentiality: ConfidentialityView {
            after_end: a.confidentiality.after_end.describe(lang),
            indefinite: matches!(a.confidentiality.after_end, art28_core::duration::OpenTerm::Indefinite),
        },
        accounts: AccountsView {
            credential_expiry: a.accounts.credential_expiry.describe(lang),
            block_max: a.accounts.block_max.describe(lang),
            staff_access_approval: a.accounts.staff_access_approval,
            staff_access_max: a.accounts.staff_access_max.describe(lang),
        },
        changes: ChangesView {
            terms_notice: a.changes.terms_notice.describe(lang),
            termination_right: a.changes.termination_right.map(|d| d.describe(lang)),
            old_terms_after_termination: a.changes.old_terms_after_termination.map(|d| d.describe(lang)),
        },
        precedence: a
            .precedence
            .iter()
            .map(|d| words::capitalise(words::document(*d, lang)))
            .collect(),
        annexes: a
            .annexes
            .iter()
            .map(|x| AnnexView {
                id: inline(&x.id),
                title: line(&x.title),
                text: text(&x.text),
                requested_by: inline(&x.requested_by),
                approved_by: inline(&x.approved_by),
                approved_on: date(x.approved_on),
            })
            .collect(),
    })
}
