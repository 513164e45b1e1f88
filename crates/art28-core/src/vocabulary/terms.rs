//! Static tables of the vocabulary.
//!
//! Every `dpv` value was checked against the DPV 2.2 sources (`w3c/dpv`, `2.2/dpv/modules/*.csv`
//! and `2.2/pd/modules/extended.csv`). Every Fideslang key was checked against the default
//! taxonomy of `ethyca/fideslang` and exists in every released 2.x/3.x version (up to 3.1.1).
//! Where no exact concept exists, the closest broader concept is used and marked
//! `// broader:` with the reason. Ids are stable: never rename or reuse them.

use super::Term;

/// Categories of data subjects (GDPR art 28(3): "the categories of data subjects").
pub static DATA_SUBJECTS: &[Term] = &[
    Term {
        id: "employee",
        dpv: "dpv:Employee",
        fideslang: Some("employee"),
        nl: "Werknemers",
        en: "Employees",
        special: false,
    },
    Term {
        id: "contractor",
        // broader: DPV has no contractor/temporary worker concept.
        dpv: "dpv:DataSubject",
        // Fideslang `consultant`: "employed in a consultative/temporary capacity".
        fideslang: Some("consultant"),
        nl: "Ingehuurde krachten (zzp'ers, uitzendkrachten)",
        en: "Contractors (freelancers, temporary staff)",
        special: false,
    },
    Term {
        id: "job_applicant",
        dpv: "dpv:JobApplicant",
        fideslang: Some("job_applicant"),
        nl: "Sollicitanten",
        en: "Job applicants",
        special: false,
    },
    Term {
        id: "customer",
        dpv: "dpv:Customer",
        fideslang: Some("customer"),
        nl: "Klanten",
        en: "Customers",
        special: false,
    },
    Term {
        id: "prospect",
        // broader: DPV has no prospect concept (dpv:Customer is someone who purchases).
        dpv: "dpv:DataSubject",
        fideslang: Some("prospect"),
        nl: "Potentiële klanten",
        en: "Prospective customers",
        special: false,
    },
    Term {
        id: "business_contact",
        // broader: no DPV or Fideslang concept for business relations' contact persons.
        dpv: "dpv:DataSubject",
        fideslang: None,
        nl: "Zakelijke relaties en contactpersonen",
        en: "Business contacts",
        special: false,
    },
    Term {
        id: "supplier",
        // broader: DPV has dpv:VendorManagement as a purpose, but no supplier data subject.
        dpv: "dpv:DataSubject",
        fideslang: Some("supplier_vendor"),
        nl: "Leveranciers",
        en: "Suppliers",
        special: false,
    },
    Term {
        id: "user",
        dpv: "dpv:User",
        // Fideslang has no data subject for users of a service (only `anonymous_user`).
        fideslang: None,
        nl: "Gebruikers van de dienst",
        en: "Users of the service",
        special: false,
    },
    Term {
        id: "correspondent",
        // broader: no DPV or Fideslang concept.
        dpv: "dpv:DataSubject",
        fideslang: None,
        nl: "Afzenders en geadresseerden van correspondentie",
        en: "Correspondents",
        special: false,
    },
    Term {
        id: "mentioned_person",
        // broader: no DPV or Fideslang concept.
        dpv: "dpv:DataSubject",
        fideslang: None,
        nl: "In documenten genoemde personen",
        en: "Persons mentioned in documents",
        special: false,
    },
    Term {
        id: "professional_secrecy_holder",
        // broader: no DPV or Fideslang concept for lawyers, doctors etc. with professional secrecy.
        dpv: "dpv:DataSubject",
        fideslang: None,
        nl: "Geheimhouders (zoals advocaten en artsen)",
        en: "Persons bound by professional secrecy (such as lawyers and doctors)",
        special: false,
    },
    Term {
        id: "patient",
        dpv: "dpv:Patient",
        fideslang: Some("patient"),
        nl: "Patiënten",
        en: "Patients",
        special: false,
    },
    Term {
        id: "student",
        dpv: "dpv:Student",
        // Fideslang `trainee`: "an individual undergoing training by the organization".
        fideslang: Some("trainee"),
        nl: "Leerlingen en studenten",
        en: "Pupils and students",
        special: false,
    },
    Term {
        id: "child",
        dpv: "dpv:Child",
        // Fideslang has children only as a data category, not as a data subject.
        fideslang: None,
        nl: "Kinderen",
        en: "Children",
        special: false,
    },
    Term {
        id: "visitor",
        dpv: "dpv:Visitor",
        fideslang: Some("visitor"),
        nl: "Bezoekers",
        en: "Visitors",
        special: false,
    },
    Term {
        id: "member",
        dpv: "dpv:Member",
        fideslang: None,
        nl: "Leden",
        en: "Members",
        special: false,
    },
    Term {
        id: "shareholder",
        // broader: DPV has no shareholder concept (dpv:MemberPartnerManagement names shareholders
        // and members separately, so dpv:Member would be too narrow a fit).
        dpv: "dpv:DataSubject",
        fideslang: Some("shareholder"),
        nl: "Aandeelhouders",
        en: "Shareholders",
        special: false,
    },
];

/// Categories of personal data (GDPR art 28(3): "the type of personal data"); `special` marks art 9 and art 10 data.
pub static PERSONAL_DATA: &[Term] = &[
    Term {
        id: "identification",
        dpv: "pd:Identifying",
        // Fideslang has no parent for identifying data; names are the core of it.
        fideslang: Some("user.name"),
        nl: "Identificatiegegevens (zoals naam)",
        en: "Identification data (such as name)",
        special: false,
    },
    Term {
        id: "national_id",
        // broader: pd:OfficialID, "an official identifier or identification document".
        // The BSN is restricted by national law (UAVG art 46), but is no art 9 data.
        dpv: "pd:OfficialID",
        fideslang: Some("user.government_id.national_identification_number"),
        nl: "Burgerservicenummer (BSN)",
        en: "Citizen service number (BSN)",
        special: false,
    },
    Term {
        id: "authentication",
        dpv: "pd:Authenticating",
        fideslang: Some("user.authorization.credentials"),
        nl: "Inloggegevens",
        en: "Login credentials",
        special: false,
    },
    Term {
        id: "contact",
        dpv: "pd:Contact",
        fideslang: Some("user.contact"),
        nl: "Contactgegevens",
        en: "Contact details",
        special: false,
    },
    Term {
        id: "email_address",
        dpv: "pd:EmailAddress",
        fideslang: Some("user.contact.email"),
        nl: "E-mailadres",
        en: "Email address",
        special: false,
    },
    Term {
        id: "phone_number",
        dpv: "pd:TelephoneNumber",
        fideslang: Some("user.contact.phone_number"),
        nl: "Telefoonnummer",
        en: "Telephone number",
        special: false,
    },
    Term {
        id: "postal_address",
        dpv: "pd:PhysicalAddress",
        fideslang: Some("user.contact.address"),
        nl: "Adresgegevens",
        en: "Postal address",
        special: false,
    },
    Term {
        id: "financial_identifier",
        // pd:AccountIdentifier, "financial account identifier", covers bank accounts and IBANs.
        dpv: "pd:AccountIdentifier",
        fideslang: Some("user.financial.bank_account"),
        nl: "Bankrekeningnummer (IBAN)",
        en: "Bank account number (IBAN)",
        special: false,
    },
    Term {
        id: "financial_transaction",
        dpv: "pd:Transaction",
        // Fideslang `user.financial`: "payment data and financial history".
        fideslang: Some("user.financial"),
        nl: "Betalings- en transactiegegevens",
        en: "Payment and transaction data",
        special: false,
    },
    Term {
        id: "salary",
        dpv: "pd:Salary",
        // broader: Fideslang has no salary category.
        fideslang: Some("user.financial"),
        nl: "Salarisgegevens",
        en: "Payroll data",
        special: false,
    },
    Term {
        id: "electronic_identifier",
        // pd:DeviceBased is the parent of pd:IPAddress, pd:MACAddress and pd:BrowserFingerprint.
        dpv: "pd:DeviceBased",
        fideslang: Some("user.device"),
        nl: "Elektronische identificatiegegevens (apparaat-ID, IP-adres, cookies)",
        en: "Electronic identifiers (device IDs, IP addresses, cookies)",
        special: false,
    },
    Term {
        id: "ip_address",
        dpv: "pd:IPAddress",
        fideslang: Some("user.device.ip_address"),
        nl: "IP-adres",
        en: "IP address",
        special: false,
    },
    Term {
        id: "cookie_id",
        // broader: DPV has no cookie concept; pd:UID is "information about unique identifiers".
        dpv: "pd:UID",
        fideslang: Some("user.device.cookie_id"),
        nl: "Cookie-ID",
        en: "Cookie identifier",
        special: false,
    },
    Term {
        id: "location",
        dpv: "pd:Location",
        fideslang: Some("user.location"),
        nl: "Locatiegegevens",
        en: "Location data",
        special: false,
    },
    Term {
        id: "telecom",
        dpv: "pd:CommunicationsMetadata",
        // Fideslang has no category for traffic data or communications metadata.
        fideslang: None,
        nl: "Verkeersgegevens (metagegevens van communicatie)",
        en: "Traffic data (communications metadata)",
        special: false,
    },
    Term {
        id: "communication_content",
        // pd:Communication: "information communicated from or to an individual".
        dpv: "pd:Communication",
        fideslang: Some("user.content.private"),
        nl: "Inhoud van communicatie",
        en: "Content of communications",
        special: false,
    },
    Term {
        id: "hr",
        // pd:Professional: "educational or professional career", parent of employment data.
        dpv: "pd:Professional",
        // broader: released Fideslang has only `user.job_title` and `user.workplace`.
        fideslang: Some("user"),
        nl: "Personeelsgegevens",
        en: "HR data",
        special: false,
    },
    Term {
        id: "absence",
        // broader: no DPV concept for absence records. Only the fact of absence is recorded,
        // not its medical cause, so this is no health data.
        dpv: "pd:Professional",
        // broader: no Fideslang concept.
        fideslang: Some("user"),
        nl: "Verzuimgegevens (alleen het feit van verzuim)",
        en: "Absence records (fact of absence only)",
        special: false,
    },
    Term {
        id: "date_of_birth",
        dpv: "pd:BirthDate",
        fideslang: Some("user.demographic.date_of_birth"),
        nl: "Geboortedatum",
        en: "Date of birth",
        special: false,
    },
    Term {
        id: "image",
        dpv: "pd:Picture",
        fideslang: Some("user.content.self_image"),
        nl: "Foto's en beeldmateriaal",
        en: "Photographs and images",
        special: false,
    },
    Term {
        id: "usage_data",
        // pd:ServiceConsumptionBehaviour: "consumption of a service, e.g. time and duration".
        dpv: "pd:ServiceConsumptionBehaviour",
        fideslang: Some("user.behavior"),
        nl: "Gebruiksgegevens en logbestanden",
        en: "Usage data and logs",
        special: false,
    },
    Term {
        id: "other",
        dpv: "dpv:PersonalData",
        fideslang: Some("user"),
        nl: "Overige persoonsgegevens",
        en: "Other personal data",
        special: false,
    },
    // Special categories (art 9) and criminal data (art 10).
    Term {
        id: "racial_ethnic_origin",
        // pd:Ethnicity is the parent of pd:Race and pd:EthnicOrigin (both special category).
        dpv: "pd:Ethnicity",
        fideslang: Some("user.demographic.race_ethnicity"),
        nl: "Ras of etnische afkomst",
        en: "Racial or ethnic origin",
        special: true,
    },
    Term {
        id: "political_opinion",
        dpv: "pd:PoliticalOpinion",
        fideslang: Some("user.demographic.political_opinion"),
        nl: "Politieke opvattingen",
        en: "Political opinions",
        special: true,
    },
    Term {
        id: "religious_belief",
        dpv: "pd:ReligiousBelief",
        fideslang: Some("user.demographic.religious_belief"),
        nl: "Religieuze overtuigingen",
        en: "Religious beliefs",
        special: true,
    },
    Term {
        id: "philosophical_belief",
        dpv: "pd:PhilosophicalBelief",
        // broader: `user.demographic.philosophical_belief` only exists from Fideslang 3.2.0.
        fideslang: Some("user.demographic"),
        nl: "Levensbeschouwelijke overtuigingen",
        en: "Philosophical beliefs",
        special: true,
    },
    Term {
        id: "trade_union_membership",
        dpv: "pd:TradeUnionMembership",
        // broader: `user.demographic.union_membership` only exists from Fideslang 3.2.0.
        fideslang: Some("user.demographic"),
        nl: "Lidmaatschap van een vakbond",
        en: "Trade union membership",
        special: true,
    },
    Term {
        id: "genetic",
        dpv: "pd:Genetic",
        // Renamed `user.health.genetic` in Fideslang 3.2.0; the old key is kept there.
        fideslang: Some("user.health_and_medical.genetic"),
        nl: "Genetische gegevens",
        en: "Genetic data",
        special: true,
    },
    Term {
        id: "biometric",
        dpv: "pd:Biometric",
        // Renamed `user.biometrics` in Fideslang 3.2.0; the old key is kept there.
        fideslang: Some("user.biometric"),
        nl: "Biometrische gegevens",
        en: "Biometric data",
        special: true,
    },
    Term {
        id: "health",
        // pd:MedicalHealth ("health, medical conditions or health care") is the special
        // category parent of pd:Health.
        dpv: "pd:MedicalHealth",
        // Renamed `user.health` in Fideslang 3.2.0; the old key is kept there.
        fideslang: Some("user.health_and_medical"),
        nl: "Gezondheidsgegevens",
        en: "Health data",
        special: true,
    },
    Term {
        id: "sex_life",
        // broader: pd:Sexual, "sexuality and sexual history" (special category).
        dpv: "pd:Sexual",
        // Fideslang has no sex life category.
        fideslang: None,
        nl: "Seksueel gedrag",
        en: "Sex life",
        special: true,
    },
    Term {
        id: "sexual_orientation",
        // DPV has no orientation concept; pd:SexualPreference is its closest child of pd:Sexual.
        dpv: "pd:SexualPreference",
        fideslang: Some("user.demographic.sexual_orientation"),
        nl: "Seksuele gerichtheid",
        en: "Sexual orientation",
        special: true,
    },
    Term {
        id: "criminal",
        dpv: "pd:Criminal",
        fideslang: Some("user.criminal_history"),
        nl: "Strafrechtelijke gegevens",
        en: "Criminal convictions and offences",
        special: true,
    },
];

/// Purposes of processing (GDPR art 28(3): "the nature and purpose of the processing").
pub static PURPOSES: &[Term] = &[
    Term {
        id: "service_provision",
        dpv: "dpv:ServiceProvision",
        fideslang: Some("essential.service"),
        nl: "Levering van de dienst",
        en: "Provision of the service",
        special: false,
    },
    Term {
        id: "accounting",
        // broader: DPV has no accounting purpose; dpv:RecordManagement covers keeping records.
        dpv: "dpv:RecordManagement",
        // Fideslang `finance`: "finance and accounting activities such as audits and tax reporting".
        fideslang: Some("finance"),
        nl: "Boekhouding",
        en: "Accounting",
        special: false,
    },
    Term {
        id: "invoicing",
        // dpv:PaymentManagement: "processing and managing payment ... including invoicing".
        dpv: "dpv:PaymentManagement",
        fideslang: Some("finance"),
        nl: "Facturatie",
        en: "Invoicing",
        special: false,
    },
    Term {
        id: "payroll",
        dpv: "dpv:PersonnelPayment",
        fideslang: Some("employment"),
        nl: "Salarisadministratie",
        en: "Payroll",
        special: false,
    },
    Term {
        id: "hr_management",
        dpv: "dpv:HumanResourceManagement",
        fideslang: Some("employment"),
        nl: "Personeelsbeheer",
        en: "HR management",
        special: false,
    },
    Term {
        id: "customer_relationship_management",
        dpv: "dpv:CustomerRelationshipManagement",
        // broader: Fideslang has no CRM use; `operations` is "business processes necessary to
        // the organization's operation".
        fideslang: Some("operations"),
        nl: "Klantrelatiebeheer (CRM)",
        en: "Customer relationship management",
        special: false,
    },
    Term {
        id: "customer_support",
        dpv: "dpv:CustomerCare",
        fideslang: Some("essential.service.operations.support"),
        nl: "Klantenservice",
        en: "Customer support",
        special: false,
    },
    Term {
        id: "marketing",
        dpv: "dpv:Marketing",
        fideslang: Some("marketing"),
        nl: "Marketing",
        en: "Marketing",
        special: false,
    },
    Term {
        id: "document_management",
        // broader: DPV has no document management purpose.
        dpv: "dpv:RecordManagement",
        // broader: no Fideslang document management use.
        fideslang: Some("operations"),
        nl: "Documentbeheer",
        en: "Document management",
        special: false,
    },
    Term {
        id: "communication",
        dpv: "dpv:CommunicationManagement",
        // broader: `essential.service.notifications` is only about notifications of the service.
        fideslang: Some("operations"),
        nl: "Communicatie",
        en: "Communication",
        special: false,
    },
    Term {
        id: "security",
        dpv: "dpv:EnforceSecurity",
        fideslang: Some("essential.service.security"),
        nl: "Beveiliging van de dienst",
        en: "Security of the service",
        special: false,
    },
    Term {
        id: "backup_and_recovery",
        // broader: no backup purpose in DPV or Fideslang; restoring availability is part of the
        // security of processing (GDPR art 32(1)(b)-(c)).
        dpv: "dpv:EnforceSecurity",
        fideslang: Some("essential.service.security"),
        nl: "Back-up en herstel",
        en: "Backup and recovery",
        special: false,
    },
    Term {
        id: "maintenance",
        // broader: dpv:TechnicalServiceProvision, "technical processes and functions necessary
        // for delivering services".
        dpv: "dpv:TechnicalServiceProvision",
        fideslang: Some("essential.service.operations"),
        nl: "Onderhoud (installeren van versies en fixes)",
        en: "Maintenance (installing versions and fixes)",
        special: false,
    },
    Term {
        id: "fault_investigation",
        // dpv:RepairImpairments: "finding and fixing errors ... commonly referred to as debugging".
        dpv: "dpv:RepairImpairments",
        fideslang: Some("essential.service.operations"),
        nl: "Storingsonderzoek",
        en: "Fault investigation",
        special: false,
    },
    Term {
        id: "migration",
        // broader: no migration purpose in DPV or Fideslang.
        dpv: "dpv:TechnicalServiceProvision",
        fideslang: Some("essential.service.operations"),
        nl: "Migratie van gegevens",
        en: "Data migration",
        special: false,
    },
    Term {
        id: "legal_obligation",
        dpv: "dpv:LegalCompliance",
        fideslang: Some("essential.legal_obligation"),
        nl: "Naleving van een wettelijke verplichting",
        en: "Compliance with a legal obligation",
        special: false,
    },
    Term {
        id: "analytics_anonymous",
        dpv: "dpv:ServiceUsageAnalytics",
        fideslang: Some("analytics.reporting.system"),
        nl: "Anonieme gebruiksstatistieken",
        en: "Anonymous usage statistics",
        special: false,
    },
];

/// Processing operations: the nature of the processing (GDPR art 4(2)), as DPV processing concepts.
pub static PROCESSING_OPERATIONS: &[Term] = &[
    Term {
        id: "collect",
        dpv: "dpv:Collect",
        fideslang: None,
        nl: "Verzamelen",
        en: "Collection",
        special: false,
    },
    Term {
        id: "record",
        dpv: "dpv:Record",
        fideslang: None,
        nl: "Vastleggen",
        en: "Recording",
        special: false,
    },
    Term {
        id: "organise",
        dpv: "dpv:Organise",
        fideslang: None,
        nl: "Ordenen",
        en: "Organisation",
        special: false,
    },
    Term {
        id: "structure",
        dpv: "dpv:Structure",
        fideslang: None,
        nl: "Structureren",
        en: "Structuring",
        special: false,
    },
    Term {
        id: "store",
        dpv: "dpv:Store",
        fideslang: None,
        nl: "Opslaan",
        en: "Storage",
        special: false,
    },
    Term {
        id: "adapt",
        dpv: "dpv:Adapt",
        fideslang: None,
        nl: "Bijwerken of wijzigen",
        en: "Adaptation or alteration",
        special: false,
    },
    Term {
        id: "retrieve",
        dpv: "dpv:Retrieve",
        fideslang: None,
        nl: "Opvragen",
        en: "Retrieval",
        special: false,
    },
    Term {
        id: "consult",
        dpv: "dpv:Consult",
        fideslang: None,
        nl: "Raadplegen",
        en: "Consultation",
        special: false,
    },
    Term {
        id: "use",
        dpv: "dpv:Use",
        fideslang: None,
        nl: "Gebruiken",
        en: "Use",
        special: false,
    },
    Term {
        id: "disclose",
        dpv: "dpv:Disclose",
        fideslang: None,
        nl: "Verstrekken",
        en: "Disclosure",
        special: false,
    },
    Term {
        id: "transmit",
        dpv: "dpv:Transmit",
        fideslang: None,
        nl: "Doorzenden",
        en: "Transmission",
        special: false,
    },
    Term {
        id: "combine",
        dpv: "dpv:Combine",
        fideslang: None,
        nl: "Combineren",
        en: "Combination",
        special: false,
    },
    Term {
        id: "restrict",
        dpv: "dpv:Restrict",
        fideslang: None,
        nl: "Afschermen",
        en: "Restriction",
        special: false,
    },
    Term {
        id: "erase",
        dpv: "dpv:Erase",
        fideslang: None,
        nl: "Wissen",
        en: "Erasure",
        special: false,
    },
    Term {
        id: "destroy",
        dpv: "dpv:Destruct",
        fideslang: None,
        nl: "Vernietigen",
        en: "Destruction",
        special: false,
    },
    Term {
        id: "pseudonymise",
        dpv: "dpv:Pseudonymise",
        fideslang: None,
        nl: "Pseudonimiseren",
        en: "Pseudonymisation",
        special: false,
    },
    Term {
        id: "anonymise",
        dpv: "dpv:Anonymise",
        fideslang: None,
        nl: "Anonimiseren",
        en: "Anonymisation",
        special: false,
    },
    Term {
        id: "copy",
        dpv: "dpv:Copy",
        fideslang: None,
        nl: "Kopiëren",
        en: "Copying",
        special: false,
    },
    Term {
        id: "backup",
        // broader: DPV has no backup operation; a backup is an exact copy (dpv:Copy).
        dpv: "dpv:Copy",
        fideslang: None,
        nl: "Maken van back-ups",
        en: "Making backups",
        special: false,
    },
    Term {
        id: "transfer",
        dpv: "dpv:Transfer",
        fideslang: None,
        nl: "Overbrengen",
        en: "Transfer",
        special: false,
    },
];

/// Technical and organisational security measures (GDPR art 28(3)(c) and art 32), as DPV measures.
pub static SECURITY_MEASURES: &[Term] = &[
    Term {
        id: "encryption_at_rest",
        dpv: "dpv:EncryptionAtRest",
        fideslang: None,
        nl: "Versleuteling van opgeslagen gegevens",
        en: "Encryption at rest",
        special: false,
    },
    Term {
        id: "encryption_in_transit",
        dpv: "dpv:EncryptionInTransfer",
        fideslang: None,
        nl: "Versleuteling van gegevens tijdens transport",
        en: "Encryption in transit",
        special: false,
    },
    Term {
        id: "access_control",
        dpv: "dpv:AccessControlMethod",
        fideslang: None,
        nl: "Toegangsbeheer",
        en: "Access control",
        special: false,
    },
    Term {
        id: "multi_factor_authentication",
        dpv: "dpv:MultiFactorAuthentication",
        fideslang: None,
        nl: "Meerfactorauthenticatie",
        en: "Multi-factor authentication",
        special: false,
    },
    Term {
        id: "password_policy",
        // broader: DPV has no password policy; dpv:PasswordAuthentication is its technical side.
        dpv: "dpv:PasswordAuthentication",
        fideslang: None,
        nl: "Wachtwoordbeleid",
        en: "Password policy",
        special: false,
    },
    Term {
        id: "access_logging",
        dpv: "dpv:LoggingPolicy",
        fideslang: None,
        nl: "Logging van toegang tot gegevens",
        en: "Access logging",
        special: false,
    },
    Term {
        id: "backup",
        dpv: "dpv:DataBackupProtocols",
        fideslang: None,
        nl: "Back-ups",
        en: "Backups",
        special: false,
    },
    Term {
        id: "backup_offsite",
        // broader: DPV has no concept for the location of backups.
        dpv: "dpv:DataBackupProtocols",
        fideslang: None,
        nl: "Back-ups op een andere locatie",
        en: "Off-site backups",
        special: false,
    },
    Term {
        id: "recovery_testing",
        // dpv:DataRestorationPolicy: "how data is restored from a backup".
        dpv: "dpv:DataRestorationPolicy",
        fideslang: None,
        nl: "Periodiek testen van herstel",
        en: "Recovery testing",
        special: false,
    },
    Term {
        id: "network_segmentation",
        // broader: dpv:NetworkSecurityProtocols, "security implemented at or over networks".
        dpv: "dpv:NetworkSecurityProtocols",
        fideslang: None,
        nl: "Netwerksegmentatie",
        en: "Network segmentation",
        special: false,
    },
    Term {
        id: "separation_of_environments",
        // broader: DPV has no environment separation concept.
        dpv: "dpv:SecurityMethod",
        fideslang: None,
        nl: "Scheiding van productie- en ontwikkel- en testomgevingen",
        en: "Separation of production from development and test environments",
        special: false,
    },
    Term {
        id: "logical_separation",
        // broader: dpv:InformationFlowControl, "measures to control information flows", here
        // between the data of different customers.
        dpv: "dpv:InformationFlowControl",
        fideslang: None,
        nl: "Logische scheiding van gegevens per klant",
        en: "Logical separation of data per customer",
        special: false,
    },
    Term {
        id: "pseudonymisation",
        dpv: "dpv:Pseudonymisation",
        fideslang: None,
        nl: "Pseudonimisering",
        en: "Pseudonymisation",
        special: false,
    },
    Term {
        id: "staff_confidentiality",
        dpv: "dpv:ConfidentialityAgreement",
        fideslang: None,
        nl: "Geheimhoudingsplicht van personeel",
        en: "Confidentiality obligations of staff",
        special: false,
    },
    Term {
        id: "staff_training",
        dpv: "dpv:StaffTraining",
        fideslang: None,
        nl: "Training en bewustwording van personeel",
        en: "Staff training and awareness",
        special: false,
    },
    Term {
        id: "vulnerability_management",
        // broader: DPV only has the testing side, dpv:VulnerabilityTestingMethods.
        dpv: "dpv:VulnerabilityTestingMethods",
        fideslang: None,
        nl: "Kwetsbaarhedenbeheer",
        en: "Vulnerability management",
        special: false,
    },
    Term {
        id: "penetration_testing",
        dpv: "dpv:PenetrationTestingMethods",
        fideslang: None,
        nl: "Penetratietesten",
        en: "Penetration testing",
        special: false,
    },
    Term {
        id: "incident_management",
        dpv: "dpv:IncidentManagementProcedures",
        fideslang: None,
        nl: "Incidentbeheer",
        en: "Incident management",
        special: false,
    },
    Term {
        id: "physical_access_control",
        dpv: "dpv:PhysicalAccessControlMethod",
        fideslang: None,
        nl: "Fysieke toegangsbeveiliging",
        en: "Physical access control",
        special: false,
    },
    Term {
        id: "business_continuity",
        // broader: DPV has no business continuity concept; dpv:DisasterRecoveryProcedures is
        // "management of disasters and recovery".
        dpv: "dpv:DisasterRecoveryProcedures",
        fideslang: None,
        nl: "Bedrijfscontinuïteit",
        en: "Business continuity",
        special: false,
    },
    Term {
        id: "credential_expiry",
        // broader: dpv:CredentialManagement, "management of credentials and their use".
        dpv: "dpv:CredentialManagement",
        fideslang: None,
        nl: "Beperkte geldigheid van inloggegevens",
        en: "Credential expiry",
        special: false,
    },
    Term {
        id: "key_management",
        dpv: "dpv:CryptographicKeyManagement",
        fideslang: None,
        nl: "Sleutelbeheer",
        en: "Cryptographic key management",
        special: false,
    },
    Term {
        id: "intrusion_detection",
        dpv: "dpv:IntrusionDetectionSystem",
        fideslang: None,
        nl: "Detectie van inbraakpogingen",
        en: "Intrusion detection",
        special: false,
    },
    Term {
        id: "secure_erasure",
        dpv: "dpv:DataErasurePolicy",
        fideslang: None,
        nl: "Veilige verwijdering van gegevens",
        en: "Secure erasure of data",
        special: false,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const ALL: [(&str, &[Term]); 5] = [
        ("DATA_SUBJECTS", DATA_SUBJECTS),
        ("PERSONAL_DATA", PERSONAL_DATA),
        ("PURPOSES", PURPOSES),
        ("PROCESSING_OPERATIONS", PROCESSING_OPERATIONS),
        ("SECURITY_MEASURES", SECURITY_MEASURES),
    ];

    fn is_snake_case(id: &str) -> bool {
        let bytes = id.as_bytes();
        !bytes.is_empty()
            && bytes[0].is_ascii_lowercase()
            && bytes[bytes.len() - 1] != b'_'
            && !id.contains("__")
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
    }

    #[test]
    fn ids_are_unique_within_each_list() {
        for (name, terms) in ALL {
            let mut seen = HashSet::new();
            for term in terms {
                assert!(seen.insert(term.id), "{name}: duplicate id {}", term.id);
            }
        }
    }

    #[test]
    fn ids_are_ascii_snake_case() {
        for (name, terms) in ALL {
            for term in terms {
                assert!(is_snake_case(term.id), "{name}: id {:?} is not snake_case", term.id);
            }
        }
    }

    #[test]
    fn dpv_values_are_compact_dpv_or_pd_iris() {
        for (name, terms) in ALL {
            for term in terms {
                let local = term.dpv.strip_prefix("dpv:").or_else(|| term.dpv.strip_prefix("pd:"));
                assert!(
                    local.is_some_and(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric())),
                    "{name}: {} has dpv value {:?}",
                    term.id,
                    term.dpv
                );
            }
        }
    }

    #[test]
    fn labels_are_present() {
        for (name, terms) in ALL {
            for term in terms {
                assert!(!term.nl.trim().is_empty(), "{name}: {} has no Dutch label", term.id);
                assert!(!term.en.trim().is_empty(), "{name}: {} has no English label", term.id);
            }
        }
    }

    #[test]
    fn only_personal_data_can_be_special() {
        for (name, terms) in ALL {
            if name == "PERSONAL_DATA" {
                continue;
            }
            for term in terms {
                assert!(!term.special, "{name}: {} is marked special", term.id);
            }
        }
        let special: HashSet<&str> = PERSONAL_DATA.iter().filter(|t| t.special).map(|t| t.id).collect();
        for id in ["health", "biometric", "genetic", "criminal", "racial_ethnic_origin"] {
            assert!(special.contains(id), "{id} must be special");
        }
        for id in ["national_id", "absence", "salary"] {
            assert!(!special.contains(id), "{id} must not be special");
        }
    }

    #[test]
    fn operations_and_measures_have_no_fideslang_key() {
        for term in PROCESSING_OPERATIONS.iter().chain(SECURITY_MEASURES) {
            assert!(term.fideslang.is_none(), "{} has a Fideslang key", term.id);
        }
    }
}
