//! The processor agreement as data (R1).
//!
//! The types mirror what an Art. 28 agreement must settle. Field docs become the descriptions
//! in `docs/agreement.schema.json`. Every struct refuses unknown fields, so a misspelt key is an
//! error rather than a silently ignored clause.

use crate::date::Date;
use crate::duration::{IsoDuration, OpenTerm};
use crate::ids::{AgreementId, CustomerId};
use crate::lang::{Lang, Text};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The format marker every agreement file starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Format {
    /// Version 1 of the art28 agreement format.
    #[serde(rename = "art28/agreement/v1")]
    V1,
}

/// A processor agreement: one version of it, as in force from `effective_from`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessorAgreement {
    /// Format marker: `art28/agreement/v1`.
    pub format: Format,
    /// Stable id of the agreement across its versions.
    pub id: AgreementId,
    /// Version number; each change in force gets a higher one.
    pub version: u32,
    /// Date from which this version is in force.
    pub effective_from: Date,
    /// `standard` for the processor-wide agreement that serves many customers; `customer` for
    /// one customer's agreement.
    pub kind: AgreementKind,
    /// For a customer agreement: the standard agreement it deviates from. The customer file
    /// then holds only its deviations and annexes; tables merge key by key, lists are replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub based_on: Option<BaseRef>,
    /// Title of the agreement.
    pub title: Text,
    /// Language in which documents and notices are sent to the customer by default.
    #[serde(default)]
    pub language: Lang,
    /// The processor: the organisation running art28.
    pub processor: Party,
    /// The customer (controller, or a processor for whom we are sub-processor). Required for a
    /// customer agreement, absent in a standard agreement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// Our role towards the customer: `processor`, or `sub_processor` when the customer is
    /// itself a processor (S1 art 5.1).
    pub role: Role,
    /// The product or service the agreement covers (Data Pro Statement: product).
    pub service: Service,
    /// Subject, nature, purposes and categories of the processing.
    pub processing: Processing,
    /// Where personal data is stored and processed.
    pub locations: Locations,
    /// Transfers outside the EU/EEA and their safeguard.
    #[serde(default)]
    pub transfers: Vec<Transfer>,
    /// Sub-processors: authorisation, notice, and the current list.
    pub subprocessors: SubProcessors,
    /// Technical and organisational measures and certifications.
    pub security: Security,
    /// Security incidents and personal data breaches.
    pub breach: BreachTerms,
    /// Assistance with data subjects' requests.
    pub requests: RequestTerms,
    /// Audits and information to show compliance.
    pub audit: AuditTerms,
    /// What happens at and after the end of the agreement.
    pub end: EndTerms,
    /// Confidentiality.
    pub confidentiality: Confidentiality,
    /// Accounts of the customer's representatives.
    pub accounts: AccountTerms,
    /// Changes to the agreement, the terms and the statement.
    pub changes: ChangeTerms,
    /// Order of precedence between documents, highest first (R1.4).
    pub precedence: Vec<DocumentKind>,
    /// Annexes with additional or changed instructions, approved in writing (R1.3).
    #[serde(default)]
    pub annexes: Vec<Annex>,
}

/// Standard or customer agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgreementKind {
    /// The processor-wide standard.
    Standard,
    /// One customer's agreement.
    Customer,
}

/// Reference to a standard agreement version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BaseRef {
    /// Id of the standard agreement.
    pub id: AgreementId,
    /// Its version.
    pub version: u32,
}

/// Our role towards the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// We process for a controller.
    Processor,
    /// We process for a processor: we are its sub-processor.
    SubProcessor,
}

/// A party to the agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// Legal name.
    pub name: String,
    /// Registration, e.g. `KvK 12345678` or `KBO 0123.456.789`.
    pub registration: String,
    /// Postal address.
    pub address: String,
    /// Country of establishment (ISO 3166-1 alpha-2).
    pub country: String,
    /// Contacts of this party.
    pub contacts: Vec<Contact>,
}

/// The customer party, with its id in art28.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// Id of the customer in art28.
    pub id: CustomerId,
    /// Legal name.
    pub name: String,
    /// Registration, e.g. `KvK 12345678` or `KBO 0123.456.789`.
    pub registration: String,
    /// Postal address.
    pub address: String,
    /// Country of establishment (ISO 3166-1 alpha-2).
    pub country: String,
    /// Contacts; at least one receives breach notices.
    pub contacts: Vec<Contact>,
}

/// A contact person or mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Name of the person or function.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Telephone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Language for messages to this contact; defaults to the agreement's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Lang>,
    /// What the contact is for.
    pub roles: Vec<ContactRole>,
}

/// What a contact is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactRole {
    /// Receives notices of personal data breaches (R4.3).
    BreachNotice,
    /// Data protection officer or privacy contact.
    Privacy,
    /// Security contact.
    Security,
    /// Signs and administers the agreement.
    Contract,
    /// Receives announcements of changes (sub-processors, terms).
    Changes,
    /// Receives requests from authorities and data subjects (forwarded by the processor).
    Requests,
}

/// The service covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Name of the product or service.
    pub name: String,
    /// What it does and what it is meant to be used for.
    pub description: Text,
    /// Kinds of data the product was designed to process (Data Pro Statement: intended use).
    pub intended_use: Text,
}

/// The processing itself (GDPR art 28(3), first sentence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Processing {
    /// Subject matter of the processing.
    pub subject: Text,
    /// Duration of the processing, in words (usually: as long as the main agreement runs).
    pub duration: Text,
    /// Nature of the processing: processing operations from the vocabulary.
    pub nature: Vec<String>,
    /// Purposes from the vocabulary.
    pub purposes: Vec<String>,
    /// Categories of data subjects from the vocabulary.
    pub data_subjects: Vec<String>,
    /// Categories of personal data from the vocabulary.
    pub personal_data: Vec<String>,
    /// Special categories (GDPR art 9, 10) that may be processed. Empty by default: none.
    #[serde(default)]
    pub special_categories_allowed: Vec<String>,
}

/// Where personal data is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Locations {
    /// Where data is stored: ISO country codes, `EU` or `EEA`.
    pub storage: Vec<String>,
    /// Where data may be accessed from (support, maintenance), if other than storage.
    #[serde(default)]
    pub access: Vec<String>,
}

/// A transfer to a third country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// Who receives the data.
    pub recipient: String,
    /// Country of the recipient (ISO 3166-1 alpha-2).
    pub country: String,
    /// Why data goes there.
    pub purpose: Text,
    /// The safeguard (GDPR art 45/46). Required outside the EU/EEA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safeguard: Option<Safeguard>,
    /// Reference to the decision or clauses, e.g. `SCC 2021/914 module 3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Safeguard for a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Safeguard {
    /// Commission adequacy decision (art 45).
    AdequacyDecision,
    /// Standard contractual clauses (art 46(2)(c)).
    StandardContractualClauses,
    /// Binding corporate rules (art 47).
    BindingCorporateRules,
    /// Approved code of conduct (art 46(2)(e)).
    CodeOfConduct,
    /// Approved certification (art 46(2)(f)).
    Certification,
}

/// Sub-processor terms (R5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubProcessors {
    /// `general`: changes are announced and may be objected to; `specific`: each needs the
    /// customer's prior written consent.
    pub authorisation: Authorisation,
    /// How long before an intended change the customer is told (e.g. `P4W`).
    pub notice: IsoDuration,
    /// Period in which the customer may object, counted from the notice; defaults to the notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objection_period: Option<IsoDuration>,
    /// Term within which the list is given after a written request (e.g. `P30D`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_on_request: Option<IsoDuration>,
    /// The current sub-processors.
    #[serde(default)]
    pub list: Vec<SubProcessor>,
}

/// Kind of authorisation for sub-processors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Authorisation {
    /// General written authorisation with notice and objection.
    General,
    /// Specific prior written authorisation.
    Specific,
}

/// One sub-processor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubProcessor {
    /// Legal name.
    pub name: String,
    /// What it does for the processor.
    pub service: Text,
    /// Where it processes (ISO country code, `EU` or `EEA`).
    pub location: String,
    /// A region or data centre, e.g. a cloud region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Safeguard where it processes outside the EU/EEA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safeguard: Option<Safeguard>,
    /// Since when it is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Date>,
}

/// Security measures (R3, S1 Annex B).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// Measures from the vocabulary.
    pub measures: Vec<String>,
    /// Certifications held, e.g. `ISO/IEC 27001:2022`.
    #[serde(default)]
    pub certifications: Vec<String>,
    /// Further description of the measures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

/// Breach notice terms (R4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreachTerms {
    /// Latest time after discovery for the first notice to the customer (e.g. `PT48H`).
    pub notice: IsoDuration,
    /// Time within which all information the controller needs is given (e.g. `PT72H`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_information: Option<IsoDuration>,
    /// Whether breaches at sub-processors are reported through the processor as the single
    /// point of contact.
    #[serde(default = "yes")]
    pub includes_subprocessors: bool,
}

fn yes() -> bool {
    true
}

/// Assistance with data subjects' requests (R6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestTerms {
    /// How the product supports requests (access, rectification, erasure, portability).
    pub assistance: Text,
    /// Formats in which data can be extracted.
    pub formats: Vec<DataFormat>,
    /// Whether assistance may be charged.
    #[serde(default)]
    pub billable: bool,
}

/// A file format for exports and extracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DataFormat {
    /// Comma-separated values.
    Csv,
    /// XML.
    Xml,
    /// JSON.
    Json,
    /// Excel workbook.
    Xlsx,
    /// PDF.
    Pdf,
    /// Attachments in a ZIP archive.
    Zip,
}

/// Audit terms (R6.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditTerms {
    /// At most one audit per this period (e.g. `P1Y`).
    pub frequency: IsoDuration,
    /// Who bears the cost.
    pub cost: CostBearer,
    /// Who may carry out the audit.
    pub auditor: Auditor,
    /// Whether a certificate or third-party memorandum is offered first.
    #[serde(default)]
    pub certificate_first: bool,
    /// Notice the processor gets before an audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<IsoDuration>,
}

/// Who bears a cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CostBearer {
    /// The customer.
    Customer,
    /// The processor.
    Processor,
    /// Each bears its own.
    Shared,
}

/// Who audits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Auditor {
    /// An independent, certified expert.
    IndependentCertifiedExpert,
    /// The customer itself or an auditor it mandates.
    CustomerOrMandated,
}

/// End of the agreement (R7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndTerms {
    /// What happens to the data at the end.
    pub choice: EndChoice,
    /// Formats for return and export.
    pub return_formats: Vec<DataFormat>,
    /// How long data is kept after the end before it is made inaccessible (e.g. `P3M`, `P1Y`).
    pub retention: IsoDuration,
    /// Whether the customer may export everything before the end.
    #[serde(default = "yes")]
    pub export_before_end: bool,
    /// Whether deletion may be asked for before the retention term ends.
    #[serde(default = "yes")]
    pub early_deletion_on_request: bool,
}

/// Return, deletion or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndChoice {
    /// The customer chooses at the end.
    CustomerChooses,
    /// Data is returned, then deleted.
    ReturnThenDelete,
    /// Data is deleted.
    Delete,
}

/// Confidentiality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Confidentiality {
    /// How long confidentiality lasts after the end (`P2Y`, or `indefinite`).
    pub after_end: OpenTerm,
}

/// Accounts of the customer's representatives (R3.3, S4 12.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountTerms {
    /// Credentials unused this long are disabled (at most `P6M`).
    pub credential_expiry: IsoDuration,
    /// How long a representative's account may be blocked on suspected fraud (e.g. `PT48H`).
    pub block_max: IsoDuration,
    /// Whether the processor's staff need the customer's approval before an access grant to the
    /// customer's data takes effect (a customer lockbox). Default: no approval needed, but every
    /// grant is shown to the customer.
    #[serde(default)]
    pub staff_access_approval: bool,
    /// The longest an access grant for staff may last (default `P7D`).
    #[serde(default = "default_grant_max", skip_serializing_if = "is_default_grant_max")]
    pub staff_access_max: IsoDuration,
}

fn default_grant_max() -> IsoDuration {
    IsoDuration::days(7)
}

fn is_default_grant_max(d: &IsoDuration) -> bool {
    *d == default_grant_max()
}

/// Changes (R1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeTerms {
    /// Changes to the terms take effect this long after announcement (e.g. `P4W`).
    pub terms_notice: IsoDuration,
    /// The customer may end the agreement within this term after a significant change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub termination_right: Option<IsoDuration>,
    /// After termination over a change, the old terms apply this long (e.g. `P2M`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_terms_after_termination: Option<IsoDuration>,
}

/// A kind of document in the order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Annexes with instructions.
    Annexes,
    /// This processor agreement.
    ProcessorAgreement,
    /// The main (framework or service) agreement.
    MainAgreement,
    /// A service level agreement.
    ServiceLevelAgreement,
    /// The Data Pro Statement.
    DataProStatement,
    /// Standard clauses for processing.
    StandardClauses,
    /// General terms and conditions.
    GeneralTerms,
}

/// An annex with additional or changed instructions (R1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Annex {
    /// Short id, e.g. `A1`.
    pub id: String,
    /// Title.
    pub title: Text,
    /// The instruction or provision.
    pub text: Text,
    /// Who gave the instruction for the customer.
    pub requested_by: String,
    /// Who approved it in writing for the processor.
    pub approved_by: String,
    /// When it was approved.
    pub approved_on: Date,
}
