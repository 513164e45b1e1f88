//! Who may do what: roles, permissions, their scope, and the rules around logging in.
//!
//! Least privilege (R2.2, S1 Annex B) is decided here, as plain data and pure functions, so
//! every door (HTTP, CLI, jobs) refuses the same things for the same reasons:
//!
//! - A [`Role`] carries a fixed set of [`Permission`]s. No staff role holds a standing right to
//!   a customer's service data: that comes only through a time-bound access grant naming the
//!   customer, the reason and a ticket, which a support engineer or consultant requests and an
//!   agreement may make subject to the customer's approval.
//! - A [`Grant`] gives a role within a [`Scope`]: staff roles for the whole processor, customer
//!   roles for exactly one customer. [`authorize`] refuses a customer's grant used for another
//!   customer with `tenant_mismatch`, distinct from `permission_denied`, so the access log says
//!   which rule refused.
//! - A machine token is a [`Principal`] with a [`TokenLimit`]: one customer, a set of operations
//!   and purposes. The limit only narrows what the grants give.
//! - [`LockoutPolicy`], [`credential_expired`] and [`block_until`] are the time rules of R3.3
//!   and S4 12.2. Time is passed in; the service reads the clock.

use crate::duration::IsoDuration;
use crate::error::{Error, ErrorCode};
use crate::ids::CustomerId;
use crate::lang::Lang;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// What an account may do, in general terms. The scope of the [`Grant`] says for whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// See customers (name, id, status).
    CustomersRead,
    /// Onboard, change and offboard customers.
    CustomersManage,
    /// Read agreements and their versions.
    AgreementsRead,
    /// Record agreement versions.
    AgreementsManage,
    /// Read the access log.
    LogRead,
    /// See accounts and who holds which role.
    AccountsRead,
    /// Create accounts, give and take roles, disable and re-enable accounts.
    AccountsManage,
    /// Block an account for a while on stated grounds (S4 12.2).
    AccountsBlock,
    /// See failed logins, lockouts and other security events.
    SecurityEventsRead,
    /// Issue and revoke API tokens.
    TokensManage,
    /// Ask for time-bound access to a customer's service data.
    AccessGrantsRequest,
    /// Approve or refuse such a request (the customer's lockbox).
    AccessGrantsApprove,
    /// See the access grants given for a customer.
    AccessGrantsRead,
    /// Define the vault's collections for a customer.
    CollectionsManage,
    /// Read records in the vault (staff: only under a live access grant).
    VaultRead,
    /// Add, change and delete records in the vault (staff: only under a live access grant).
    VaultWrite,
    /// Erase a data subject or a whole customer's data (crypto-shredding).
    VaultErase,
    /// Export a customer's data, pseudonymised or whole.
    VaultExport,
    /// Place and lift legal holds that keep data from erasure (R7.3).
    LegalHoldManage,
    /// Rotate the vault's master key.
    KeysManage,
    /// Report a security incident, account misuse or an official inspection (R4.5).
    IncidentsReport,
    /// See incidents: staff all of them, a customer those that touch it.
    IncidentsRead,
    /// Run the incident workflow: triage, scope, decide, notify, close (R4).
    IncidentsManage,
    /// Acknowledge receipt of a breach notice.
    NoticesAcknowledge,
    /// Set or remove the customer's webhook for breach notices.
    WebhooksManage,
    /// See sub-processors: staff the register, a customer the list in force and the changes
    /// announced to it.
    SubprocessorsRead,
    /// Keep the sub-processor register: entries, contracts, announcements, decisions on
    /// objections, answers to list requests (R5).
    SubprocessorsManage,
    /// Answer for the customer: object, approve or reject a change, ask for the list.
    SubprocessorsAnswer,
}

impl Permission {
    /// Every permission.
    pub const ALL: &'static [Permission] = &[
        Permission::CustomersRead,
        Permission::CustomersManage,
        Permission::AgreementsRead,
        Permission::AgreementsManage,
        Permission::LogRead,
        Permission::AccountsRead,
        Permission::AccountsManage,
        Permission::AccountsBlock,
        Permission::SecurityEventsRead,
        Permission::TokensManage,
        Permission::AccessGrantsRequest,
        Permission::AccessGrantsApprove,
        Permission::AccessGrantsRead,
        Permission::CollectionsManage,
        Permission::VaultRead,
        Permission::VaultWrite,
        Permission::VaultErase,
        Permission::VaultExport,
        Permission::LegalHoldManage,
        Permission::KeysManage,
        Permission::IncidentsReport,
        Permission::IncidentsRead,
        Permission::IncidentsManage,
        Permission::NoticesAcknowledge,
        Permission::WebhooksManage,
        Permission::SubprocessorsRead,
        Permission::SubprocessorsManage,
        Permission::SubprocessorsAnswer,
    ];

    /// The stable wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::CustomersRead => "customers_read",
            Permission::CustomersManage => "customers_manage",
            Permission::AgreementsRead => "agreements_read",
            Permission::AgreementsManage => "agreements_manage",
            Permission::LogRead => "log_read",
            Permission::AccountsRead => "accounts_read",
            Permission::AccountsManage => "accounts_manage",
            Permission::AccountsBlock => "accounts_block",
            Permission::SecurityEventsRead => "security_events_read",
            Permission::TokensManage => "tokens_manage",
            Permission::AccessGrantsRequest => "access_grants_request",
            Permission::AccessGrantsApprove => "access_grants_approve",
            Permission::AccessGrantsRead => "access_grants_read",
            Permission::CollectionsManage => "collections_manage",
            Permission::VaultRead => "vault_read",
            Permission::VaultWrite => "vault_write",
            Permission::VaultErase => "vault_erase",
            Permission::VaultExport => "vault_export",
            Permission::LegalHoldManage => "legal_hold_manage",
            Permission::KeysManage => "keys_manage",
            Permission::IncidentsReport => "incidents_report",
            Permission::IncidentsRead => "incidents_read",
            Permission::IncidentsManage => "incidents_manage",
            Permission::NoticesAcknowledge => "notices_acknowledge",
            Permission::WebhooksManage => "webhooks_manage",
            Permission::SubprocessorsRead => "subprocessors_read",
            Permission::SubprocessorsManage => "subprocessors_manage",
            Permission::SubprocessorsAnswer => "subprocessors_answer",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Permission::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
                Error::new(
                    ErrorCode::BadRequest,
                    format!("unknown permission `{}`; known: {}", clip(s), known.join(", ")),
                )
            })
    }
}

/// A role an account holds. Staff roles belong to the processor, customer roles to one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages customers, agreements and staff accounts; no standing access to service data.
    ProcessorAdmin,
    /// Watches security events, accounts and the access log.
    SecurityOfficer,
    /// Helps customers; reaches their data only through an access grant.
    SupportEngineer,
    /// Advises customers; reaches their data only through an access grant.
    Consultant,
    /// Manages its customer's accounts and tokens, blocks fellow representatives, approves grants.
    CustomerAdmin,
    /// Reads its customer's agreements.
    CustomerUser,
    /// Reads its customer's agreements, access log and grants: read-only evidence.
    CustomerAuditor,
}

use Permission as P;

const PROCESSOR_ADMIN: &[Permission] = &[
    P::CustomersRead,
    P::CustomersManage,
    P::AgreementsRead,
    P::AgreementsManage,
    P::AccountsRead,
    P::AccountsManage,
    P::VaultErase,
    P::LegalHoldManage,
    P::KeysManage,
    P::IncidentsReport,
    P::SubprocessorsRead,
    P::SubprocessorsManage,
];
const SECURITY_OFFICER: &[Permission] = &[
    P::SecurityEventsRead,
    P::AccountsRead,
    P::LogRead,
    P::AccessGrantsRead,
    P::IncidentsReport,
    P::IncidentsRead,
    P::IncidentsManage,
];
const SUPPORT: &[Permission] = &[
    P::CustomersRead,
    P::AgreementsRead,
    P::AccessGrantsRequest,
    P::VaultRead,
    P::VaultWrite,
    P::IncidentsReport,
];
const CUSTOMER_ADMIN: &[Permission] = &[
    P::AgreementsRead,
    P::LogRead,
    P::AccountsRead,
    P::AccountsManage,
    P::AccountsBlock,
    P::TokensManage,
    P::AccessGrantsApprove,
    P::AccessGrantsRead,
    P::CollectionsManage,
    P::VaultRead,
    P::VaultWrite,
    P::VaultErase,
    P::VaultExport,
    P::LegalHoldManage,
    P::IncidentsReport,
    P::IncidentsRead,
    P::NoticesAcknowledge,
    P::WebhooksManage,
    P::SubprocessorsRead,
    P::SubprocessorsAnswer,
];
const CUSTOMER_USER: &[Permission] = &[
    P::AgreementsRead,
    P::VaultRead,
    P::VaultWrite,
    P::IncidentsReport,
    P::SubprocessorsRead,
];
const CUSTOMER_AUDITOR: &[Permission] = &[
    P::AgreementsRead,
    P::LogRead,
    P::AccessGrantsRead,
    P::IncidentsRead,
    P::SubprocessorsRead,
];

impl Role {
    /// Every role.
    pub const ALL: &'static [Role] = &[
        Role::ProcessorAdmin,
        Role::SecurityOfficer,
        Role::SupportEngineer,
        Role::Consultant,
        Role::CustomerAdmin,
        Role::CustomerUser,
        Role::CustomerAuditor,
    ];

    /// The stable wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::ProcessorAdmin => "processor_admin",
            Role::SecurityOfficer => "security_officer",
            Role::SupportEngineer => "support_engineer",
            Role::Consultant => "consultant",
            Role::CustomerAdmin => "customer_admin",
            Role::CustomerUser => "customer_user",
            Role::CustomerAuditor => "customer_auditor",
        }
    }

    /// Whether the role belongs to the processor's staff (and so to [`Scope::Processor`]).
    pub fn is_staff(self) -> bool {
        matches!(
            self,
            Role::ProcessorAdmin | Role::SecurityOfficer | Role::SupportEngineer | Role::Consultant
        )
    }

    /// The name shown to people.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Role::ProcessorAdmin => lang.pick("beheerder verwerker", "processor administrator"),
            Role::SecurityOfficer => lang.pick("security officer", "security officer"),
            Role::SupportEngineer => lang.pick("supportmedewerker", "support engineer"),
            Role::Consultant => lang.pick("consultant", "consultant"),
            Role::CustomerAdmin => lang.pick("beheerder klant", "customer administrator"),
            Role::CustomerUser => lang.pick("gebruiker klant", "customer user"),
            Role::CustomerAuditor => lang.pick("auditor klant", "customer auditor"),
        }
    }

    /// What the role may do. Fixed in code: a role is a promise to customers about who can do
    /// what, so changing it is a release, not a setting.
    pub fn permissions(self) -> &'static [Permission] {
        match self {
            Role::ProcessorAdmin => PROCESSOR_ADMIN,
            Role::SecurityOfficer => SECURITY_OFFICER,
            Role::SupportEngineer | Role::Consultant => SUPPORT,
            Role::CustomerAdmin => CUSTOMER_ADMIN,
            Role::CustomerUser => CUSTOMER_USER,
            Role::CustomerAuditor => CUSTOMER_AUDITOR,
        }
    }

    /// Whether the role has the permission.
    pub fn has(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Role::ALL.iter().copied().find(|r| r.as_str() == s).ok_or_else(|| {
            let known: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
            Error::new(
                ErrorCode::BadRequest,
                format!("unknown role `{}`; known: {}", clip(s), known.join(", ")),
            )
        })
    }
}

/// For whom a role is held. Written `processor` or `customer:<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The whole processor: staff roles.
    Processor,
    /// One customer: customer roles.
    Customer(CustomerId),
}

impl Scope {
    /// The customer, for a customer scope.
    pub fn customer(&self) -> Option<&CustomerId> {
        match self {
            Scope::Processor => None,
            Scope::Customer(c) => Some(c),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Processor => f.write_str("processor"),
            Scope::Customer(c) => write!(f, "customer:{c}"),
        }
    }
}

impl FromStr for Scope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        if s == "processor" {
            return Ok(Scope::Processor);
        }
        match s.strip_prefix("customer:") {
            Some(id) => Ok(Scope::Customer(id.parse()?)),
            None => Err(Error::new(
                ErrorCode::BadRequest,
                format!("`{}` is not a scope; use `processor` or `customer:<id>`", clip(s)),
            )),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(d)?;
        s.parse().map_err(|e: Error| serde::de::Error::custom(e.message))
    }
}

impl JsonSchema for Scope {
    fn schema_name() -> Cow<'static, str> {
        "Scope".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "`processor` for staff roles, `customer:<id>` for customer roles.",
            "pattern": "^(processor|customer:[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,63})$",
            "examples": ["processor", "customer:bakkerij-de-vries"]
        })
    }
}

/// A role held within a scope. Only valid pairs can be made: see [`Grant::new`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, try_from = "RawGrant")]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// For whom.
    pub scope: Scope,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrant {
    role: Role,
    scope: Scope,
}

impl TryFrom<RawGrant> for Grant {
    type Error = String;
    fn try_from(raw: RawGrant) -> Result<Self, String> {
        Grant::new(raw.role, raw.scope).map_err(|e| e.message)
    }
}

impl Grant {
    /// A grant, if the role fits the scope: staff roles only for the processor, customer roles
    /// only for one customer. Refused with `role_scope_invalid` otherwise.
    pub fn new(role: Role, scope: Scope) -> Result<Self, Error> {
        let grant = Self { role, scope };
        if grant.is_valid() {
            Ok(grant)
        } else if role.is_staff() {
            Err(Error::new(
                ErrorCode::RoleScopeInvalid,
                format!(
                    "`{role}` is a staff role: it can only be held for the processor, not for {}",
                    grant.scope
                ),
            ))
        } else {
            Err(Error::new(
                ErrorCode::RoleScopeInvalid,
                format!("`{role}` is a customer role: it must name one customer (`customer:<id>`)"),
            ))
        }
    }

    /// A processor-wide staff grant.
    pub fn staff(role: Role) -> Result<Self, Error> {
        Self::new(role, Scope::Processor)
    }

    /// A customer grant.
    pub fn customer(role: Role, customer: CustomerId) -> Result<Self, Error> {
        Self::new(role, Scope::Customer(customer))
    }

    /// Whether role and scope fit. The fields are public, so [`authorize`] checks this too and
    /// ignores a grant that does not fit.
    pub fn is_valid(&self) -> bool {
        self.role.is_staff() == matches!(self.scope, Scope::Processor)
    }

    /// Whether this grant covers `tenant` (`None`: an operation across all customers).
    fn covers(&self, tenant: Option<&CustomerId>) -> bool {
        match (&self.scope, tenant) {
            (Scope::Processor, _) => true,
            (Scope::Customer(own), Some(t)) => own == t,
            (Scope::Customer(_), None) => false,
        }
    }
}

/// What a machine token is limited to, on top of the grants of its principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenLimit {
    /// The one customer the token works for.
    pub tenant: CustomerId,
    /// The operations it may perform.
    pub operations: Vec<Permission>,
    /// The purposes it may give (ids from the agreement's vocabulary); empty means the token
    /// is not limited by purpose beyond what the agreement allows.
    pub purposes: Vec<String>,
}

/// Who is acting: an account (a person) or a machine token issued on an account's behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Principal {
    /// The account id; never reused.
    pub account_id: u64,
    /// The account's user name (for a token: the token's name).
    pub username: String,
    /// The roles held and for whom.
    pub grants: Vec<Grant>,
    /// Set for a machine token: narrows what the grants give.
    pub token_limit: Option<TokenLimit>,
}

impl Principal {
    /// The customers this principal acts for through customer grants (staff: none).
    pub fn customers(&self) -> Vec<&CustomerId> {
        let mut out: Vec<&CustomerId> = self.grants.iter().filter_map(|g| g.scope.customer()).collect();
        out.sort();
        out.dedup();
        out
    }

    /// Whether any valid grant is a staff grant.
    pub fn is_staff(&self) -> bool {
        self.grants.iter().any(|g| g.is_valid() && g.role.is_staff())
    }

    /// Refuse a purpose the token is not limited to. Accounts of people, and tokens with no
    /// purpose list, pass; the agreement's own purpose rules apply separately.
    pub fn check_purpose(&self, purpose: Option<&str>) -> Result<(), Error> {
        let Some(limit) = &self.token_limit else {
            return Ok(());
        };
        if limit.purposes.is_empty() {
            return Ok(());
        }
        match purpose {
            Some(p) if limit.purposes.iter().any(|allowed| allowed == p) => Ok(()),
            Some(p) => Err(Error::new(
                ErrorCode::TokenPurposeNotAllowed,
                format!(
                    "this token may be used only for the purposes {}, not for `{}`",
                    limit.purposes.join(", "),
                    clip(p)
                ),
            )),
            None => Err(Error::new(
                ErrorCode::TokenPurposeNotAllowed,
                format!(
                    "this token may be used only for the purposes {}; name one",
                    limit.purposes.join(", ")
                ),
            )),
        }
    }
}

/// Whether `p` may do `need` for `tenant` (`None`: an operation across all customers, or of
/// the processor itself).
///
/// Refuses with `permission_denied` when no role of the principal has the permission (or a
/// token does not list it), and with `tenant_mismatch` when the permission is held only for
/// another customer, or only for one customer where the operation concerns all.
pub fn authorize(p: &Principal, need: Permission, tenant: Option<&CustomerId>) -> Result<(), Error> {
    if let Some(limit) = &p.token_limit {
        if !limit.operations.contains(&need) {
            return Err(Error::new(
                ErrorCode::PermissionDenied,
                format!("this token does not allow `{need}`"),
            ));
        }
        match tenant {
            Some(t) if *t == limit.tenant => {}
            Some(t) => {
                return Err(Error::new(
                    ErrorCode::TenantMismatch,
                    format!(
                        "this token works for customer `{}` only, not for `{t}` (`{need}`)",
                        limit.tenant
                    ),
                ));
            }
            None => {
                return Err(Error::new(
                    ErrorCode::TenantMismatch,
                    format!(
                        "this token works for customer `{}` only; `{need}` across all customers is not allowed",
                        limit.tenant
                    ),
                ));
            }
        }
    }
    let holding: Vec<&Grant> = p.grants.iter().filter(|g| g.is_valid() && g.role.has(need)).collect();
    if holding.is_empty() {
        return Err(Error::new(
            ErrorCode::PermissionDenied,
            format!("none of this account's roles allows `{need}`"),
        ));
    }
    if holding.iter().any(|g| g.covers(tenant)) {
        return Ok(());
    }
    let own: Vec<String> = holding
        .iter()
        .filter_map(|g| g.scope.customer().map(|c| format!("`{c}`")))
        .collect();
    let own = own.join(", ");
    Err(match tenant {
        Some(t) => Error::new(
            ErrorCode::TenantMismatch,
            format!("`{need}` is held for customer {own} only, not for `{t}`"),
        ),
        None => Error::new(
            ErrorCode::TenantMismatch,
            format!("`{need}` is held for customer {own} only, not across all customers"),
        ),
    })
}

/// How failed logins slow down and then lock an account (R3.3: repeated failed logins).
///
/// The first `free_failures` failures in a row cost nothing (typos). Each further failure
/// makes the next attempt wait `delay_per_failure`, doubling per failure, at most `max_delay`.
/// After `lock_after` failures in a row the account is locked for `lock_for` from the last
/// failure. A success resets the count; a failure after the lock lifts locks again at once,
/// so a guesser gets one try per `lock_for` at best.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures in a row without any delay.
    pub free_failures: u32,
    /// The wait after the first failure past the free ones; doubles per failure.
    pub delay_per_failure: SignedDuration,
    /// The longest wait between attempts.
    pub max_delay: SignedDuration,
    /// Failures in a row that lock the account.
    pub lock_after: u32,
    /// How long a lock lasts, from the last failure.
    pub lock_for: SignedDuration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            free_failures: 5,
            delay_per_failure: SignedDuration::from_secs(1),
            max_delay: SignedDuration::from_secs(30),
            lock_after: 10,
            lock_for: SignedDuration::from_mins(15),
        }
    }
}

impl LockoutPolicy {
    /// How long to wait after the last of `consecutive_failures` failures before the next
    /// attempt is heard.
    pub fn delay(&self, consecutive_failures: u32) -> SignedDuration {
        let Some(past_free) = consecutive_failures.checked_sub(self.free_failures) else {
            return SignedDuration::ZERO;
        };
        if past_free == 0 {
            return SignedDuration::ZERO;
        }
        // 2^(past_free - 1), saturating: beyond 2^30 the cap has long been reached.
        let factor = 1i32
            .checked_shl(past_free.saturating_sub(1).min(30))
            .unwrap_or(i32::MAX);
        self.delay_per_failure
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// Until when the account is locked after `consecutive_failures`, the last at
    /// `last_failure`; `None` when the count does not lock.
    pub fn locked_until(&self, consecutive_failures: u32, last_failure: Timestamp) -> Option<Timestamp> {
        if consecutive_failures >= self.lock_after && self.lock_after > 0 {
            Some(last_failure.saturating_add(self.lock_for).unwrap_or(Timestamp::MAX))
        } else {
            None
        }
    }

    /// Whether an attempt at `now` may be heard. Refused with `account_locked` during a lock
    /// and with `login_throttled` during a delay; both say when to try again.
    pub fn check_attempt(
        &self,
        consecutive_failures: u32,
        last_failure: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<(), Error> {
        let Some(last) = last_failure else {
            return Ok(());
        };
        if let Some(until) = self.locked_until(consecutive_failures, last)
            && now < until
        {
            return Err(Error::new(
                ErrorCode::AccountLocked,
                format!(
                    "Account tijdelijk geblokkeerd na te veel mislukte pogingen / Account locked after too many failed logins; try again after {until}"
                ),
            ));
        }
        let next = last
            .saturating_add(self.delay(consecutive_failures))
            .unwrap_or(Timestamp::MAX);
        if now < next {
            return Err(Error::new(
                ErrorCode::LoginThrottled,
                format!("Te snel opnieuw geprobeerd / Too many failed logins in a row; try again after {next}"),
            ));
        }
        Ok(())
    }
}

/// Whether a credential last used at `last_used` has expired at `now` under `term` (R3.3:
/// unused for six months, or the agreement's term). The term is added in calendar units in
/// UTC, so `P6M` from 31 August ends on the last day of February; it has expired from that
/// moment on.
pub fn credential_expired(last_used: Timestamp, term: &IsoDuration, now: Timestamp) -> bool {
    match last_used.to_zoned(TimeZone::UTC).checked_add(term.span()) {
        Ok(end) => now >= end.timestamp(),
        // Past the end of representable time: never in practice.
        Err(_) => false,
    }
}

/// When a block of `requested` starting `now` ends, refused with `block_too_long` if it would
/// last longer than `max` (the agreement's term, 48 hours in S4 12.2), and with `bad_request`
/// if it is not positive.
pub fn block_until(requested: SignedDuration, max: &IsoDuration, now: Timestamp) -> Result<Timestamp, Error> {
    if requested <= SignedDuration::ZERO {
        return Err(Error::new(ErrorCode::BadRequest, "a block must last a positive time"));
    }
    let too_long = || {
        Error::new(
            ErrorCode::BlockTooLong,
            format!(
                "Blokkade mag hoogstens {} duren / A block may last at most {} ({max}); asked for {requested:#}",
                max.describe(Lang::Nl),
                max.describe(Lang::En),
            ),
        )
    };
    let limit = now
        .to_zoned(TimeZone::UTC)
        .checked_add(max.span())
        .map_err(|_| too_long())?
        .timestamp();
    let until = now.checked_add(requested).map_err(|_| too_long())?;
    if until > limit {
        return Err(too_long());
    }
    Ok(until)
}

/// At most 80 characters of caller input in a message.
fn clip(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> CustomerId {
        s.parse().unwrap_or_else(|e: Error| panic!("{e}"))
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn d(s: &str) -> IsoDuration {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn person(grants: Vec<Grant>) -> Principal {
        Principal {
            account_id: 7,
            username: "someone".into(),
            grants,
            token_limit: None,
        }
    }

    fn grant(role: Role, scope: Scope) -> Grant {
        Grant::new(role, scope).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The whole role × permission table, written out so a change to it is a visible diff.
    #[test]
    fn role_permission_table() {
        use Permission::*;
        use Role::*;
        let table: &[(Role, &[Permission])] = &[
            (
                ProcessorAdmin,
                &[
                    CustomersRead,
                    CustomersManage,
                    AgreementsRead,
                    AgreementsManage,
                    AccountsRead,
                    AccountsManage,
                    VaultErase,
                    LegalHoldManage,
                    KeysManage,
                    IncidentsReport,
                    SubprocessorsRead,
                    SubprocessorsManage,
                ],
            ),
            (
                SecurityOfficer,
                &[
                    SecurityEventsRead,
                    AccountsRead,
                    LogRead,
                    AccessGrantsRead,
                    IncidentsReport,
                    IncidentsRead,
                    IncidentsManage,
                ],
            ),
            (
                SupportEngineer,
                &[
                    CustomersRead,
                    AgreementsRead,
                    AccessGrantsRequest,
                    VaultRead,
                    VaultWrite,
                    IncidentsReport,
                ],
            ),
            (
                Consultant,
                &[
                    CustomersRead,
                    AgreementsRead,
                    AccessGrantsRequest,
                    VaultRead,
                    VaultWrite,
                    IncidentsReport,
                ],
            ),
            (
                CustomerAdmin,
                &[
                    AgreementsRead,
                    LogRead,
                    AccountsRead,
                    AccountsManage,
                    AccountsBlock,
                    TokensManage,
                    AccessGrantsApprove,
                    AccessGrantsRead,
                    CollectionsManage,
                    VaultRead,
                    VaultWrite,
                    VaultErase,
                    VaultExport,
                    LegalHoldManage,
                    IncidentsReport,
                    IncidentsRead,
                    NoticesAcknowledge,
                    WebhooksManage,
                    SubprocessorsRead,
                    SubprocessorsAnswer,
                ],
            ),
            (
                CustomerUser,
                &[
                    AgreementsRead,
                    VaultRead,
                    VaultWrite,
                    IncidentsReport,
                    SubprocessorsRead,
                ],
            ),
            (
                CustomerAuditor,
                &[
                    AgreementsRead,
                    LogRead,
                    AccessGrantsRead,
                    IncidentsRead,
                    SubprocessorsRead,
                ],
            ),
        ];
        assert_eq!(table.len(), Role::ALL.len());
        for (role, expected) in table {
            for perm in Permission::ALL {
                assert_eq!(
                    role.has(*perm),
                    expected.contains(perm),
                    "{role} × {perm}: table and code disagree"
                );
            }
        }
    }

    #[test]
    fn least_privilege_holds() {
        // Only the customer approves grants; staff only request them.
        for role in Role::ALL {
            assert_eq!(role.has(Permission::AccessGrantsApprove), *role == Role::CustomerAdmin);
            if role.has(Permission::AccessGrantsRequest) {
                assert!(role.is_staff());
            }
        }
        // The auditor's evidence is read-only; the customer user only reads agreements.
        assert!(
            Role::CustomerAuditor
                .permissions()
                .iter()
                .all(|p| p.as_str().ends_with("_read"))
        );
        // The processor admin cannot mint tokens (a token reaches a customer's data), cannot
        // approve its own access, and does not read the log it might want to hide from.
        for p in [
            Permission::TokensManage,
            Permission::AccessGrantsApprove,
            Permission::AccessGrantsRequest,
            Permission::LogRead,
        ] {
            assert!(!Role::ProcessorAdmin.has(p), "{p}");
        }
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(*role));
            let json = serde_json::to_string(role).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert!(!role.label(Lang::Nl).is_empty() && !role.label(Lang::En).is_empty());
        }
        for perm in Permission::ALL {
            assert_eq!(perm.as_str().parse::<Permission>().ok(), Some(*perm));
            assert_eq!(
                serde_json::to_string(perm).unwrap_or_default(),
                format!("\"{}\"", perm.as_str())
            );
        }
        let err = "root".parse::<Role>().err().map(|e| e.code);
        assert_eq!(err, Some(ErrorCode::BadRequest));
        assert_eq!(
            Role::ALL.iter().filter(|r| r.is_staff()).count(),
            4,
            "four staff roles, three customer roles"
        );
    }

    #[test]
    fn roles_fit_their_scope() {
        for role in Role::ALL {
            let staff = Grant::new(*role, Scope::Processor);
            let customer = Grant::new(*role, Scope::Customer(c("acme")));
            assert_eq!(staff.is_ok(), role.is_staff(), "{role}");
            assert_eq!(customer.is_ok(), !role.is_staff(), "{role}");
            let refused = if role.is_staff() { customer } else { staff };
            assert_eq!(refused.err().map(|e| e.code), Some(ErrorCode::RoleScopeInvalid));
        }
        // The same rule holds when a grant is read back.
        let ok: Result<Grant, _> = serde_json::from_str(r#"{"role":"customer_admin","scope":"customer:acme"}"#);
        assert_eq!(ok.ok(), Some(grant(Role::CustomerAdmin, Scope::Customer(c("acme")))));
        let bad: Result<Grant, _> = serde_json::from_str(r#"{"role":"customer_admin","scope":"processor"}"#);
        assert!(bad.is_err());
        let bad: Result<Grant, _> = serde_json::from_str(r#"{"role":"processor_admin","scope":"customer:acme"}"#);
        assert!(bad.is_err());
        assert_eq!("customer:acme".parse::<Scope>().ok(), Some(Scope::Customer(c("acme"))));
        assert!("customer:".parse::<Scope>().is_err());
        assert!("tenant:acme".parse::<Scope>().is_err());
    }

    #[test]
    fn customer_roles_stay_within_their_customer() {
        let acme = c("acme");
        let other = c("other");
        for role in [Role::CustomerAdmin, Role::CustomerUser, Role::CustomerAuditor] {
            let p = person(vec![grant(role, Scope::Customer(acme.clone()))]);
            for perm in Permission::ALL {
                let own = authorize(&p, *perm, Some(&acme));
                let theirs = authorize(&p, *perm, Some(&other));
                let all = authorize(&p, *perm, None);
                if role.has(*perm) {
                    assert!(own.is_ok(), "{role} {perm}");
                    let e = theirs.err().unwrap_or_else(|| panic!("{role} {perm} crossed over"));
                    assert_eq!(e.code, ErrorCode::TenantMismatch);
                    assert!(
                        e.message.contains(perm.as_str()) && e.message.contains("`other`"),
                        "{}",
                        e.message
                    );
                    assert_eq!(all.err().map(|e| e.code), Some(ErrorCode::TenantMismatch));
                } else {
                    for r in [own, theirs, all] {
                        let e = r.err().unwrap_or_else(|| panic!("{role} {perm} allowed"));
                        assert_eq!(e.code, ErrorCode::PermissionDenied);
                        assert!(e.message.contains(perm.as_str()));
                    }
                }
            }
        }
    }

    #[test]
    fn staff_grants_reach_every_customer_for_their_permissions_only() {
        let acme = c("acme");
        let admin = person(vec![grant(Role::ProcessorAdmin, Scope::Processor)]);
        assert!(authorize(&admin, Permission::CustomersManage, None).is_ok());
        assert!(authorize(&admin, Permission::AgreementsManage, Some(&acme)).is_ok());
        let e = authorize(&admin, Permission::LogRead, Some(&acme)).err();
        assert_eq!(e.map(|e| e.code), Some(ErrorCode::PermissionDenied));
        let support = person(vec![grant(Role::SupportEngineer, Scope::Processor)]);
        assert!(authorize(&support, Permission::AccessGrantsRequest, Some(&acme)).is_ok());
        assert!(authorize(&support, Permission::AgreementsManage, Some(&acme)).is_err());
    }

    #[test]
    fn several_customers_each_for_their_own() {
        let a = c("acme");
        let b = c("bolt");
        let p = person(vec![
            grant(Role::CustomerUser, Scope::Customer(a.clone())),
            grant(Role::CustomerAdmin, Scope::Customer(b.clone())),
        ]);
        assert!(authorize(&p, Permission::AgreementsRead, Some(&a)).is_ok());
        assert!(authorize(&p, Permission::AccountsManage, Some(&b)).is_ok());
        let e = authorize(&p, Permission::AccountsManage, Some(&a)).err();
        assert_eq!(e.as_ref().map(|e| e.code), Some(ErrorCode::TenantMismatch));
        assert!(e.is_some_and(|e| e.message.contains("`bolt`") && e.message.contains("`acme`")));
        assert_eq!(p.customers(), vec![&a, &b]);
        assert!(!p.is_staff());
    }

    #[test]
    fn an_invalid_grant_gives_nothing() {
        // Built by hand past `Grant::new`, e.g. from a tampered store row.
        let p = person(vec![Grant {
            role: Role::ProcessorAdmin,
            scope: Scope::Customer(c("acme")),
        }]);
        for perm in Permission::ALL {
            assert!(authorize(&p, *perm, Some(&c("acme"))).is_err());
        }
        let p = person(vec![Grant {
            role: Role::CustomerAdmin,
            scope: Scope::Processor,
        }]);
        assert_eq!(
            authorize(&p, Permission::AccountsManage, None).err().map(|e| e.code),
            Some(ErrorCode::PermissionDenied)
        );
        assert!(person(vec![]).grants.is_empty());
        assert!(authorize(&person(vec![]), Permission::AgreementsRead, None).is_err());
    }

    #[test]
    fn tokens_are_narrowed_to_one_customer_operations_and_purposes() {
        let acme = c("acme");
        let token = Principal {
            account_id: 9,
            username: "backup-bot".into(),
            grants: vec![grant(Role::CustomerAdmin, Scope::Customer(acme.clone()))],
            token_limit: Some(TokenLimit {
                tenant: acme.clone(),
                operations: vec![Permission::AgreementsRead, Permission::LogRead],
                purposes: vec!["backup".into()],
            }),
        };
        assert!(authorize(&token, Permission::LogRead, Some(&acme)).is_ok());
        // The account could manage accounts, the token may not.
        let e = authorize(&token, Permission::AccountsManage, Some(&acme)).err();
        assert_eq!(e.as_ref().map(|e| e.code), Some(ErrorCode::PermissionDenied));
        assert!(e.is_some_and(|e| e.message.contains("token") && e.message.contains("accounts_manage")));
        let e = authorize(&token, Permission::LogRead, Some(&c("other"))).err();
        assert_eq!(e.as_ref().map(|e| e.code), Some(ErrorCode::TenantMismatch));
        assert!(e.is_some_and(|e| e.message.contains("`other`")));
        assert_eq!(
            authorize(&token, Permission::LogRead, None).err().map(|e| e.code),
            Some(ErrorCode::TenantMismatch)
        );
        assert!(token.check_purpose(Some("backup")).is_ok());
        assert_eq!(
            token.check_purpose(Some("marketing")).err().map(|e| e.code),
            Some(ErrorCode::TokenPurposeNotAllowed)
        );
        assert!(token.check_purpose(None).is_err());
        // A limit can not widen: a token listing an operation its account lacks is refused.
        let widened = Principal {
            grants: vec![grant(Role::CustomerUser, Scope::Customer(acme.clone()))],
            token_limit: Some(TokenLimit {
                tenant: acme.clone(),
                operations: vec![Permission::AccountsManage],
                purposes: vec![],
            }),
            ..token
        };
        assert_eq!(
            authorize(&widened, Permission::AccountsManage, Some(&acme))
                .err()
                .map(|e| e.code),
            Some(ErrorCode::PermissionDenied)
        );
        assert!(widened.check_purpose(None).is_ok());
        assert!(person(vec![]).check_purpose(Some("anything")).is_ok());
    }

    #[test]
    fn failures_slow_down_then_lock_then_lift() {
        let policy = LockoutPolicy::default();
        let secs = |n: u32| policy.delay(n).as_secs();
        assert_eq!((0..=5).map(secs).collect::<Vec<_>>(), vec![0; 6]);
        assert_eq!([6, 7, 8, 9, 10].map(secs), [1, 2, 4, 8, 16]);
        assert_eq!([11, 12, 40, u32::MAX].map(secs), [30, 30, 30, 30]);

        let last = ts("2026-03-01T12:00:00Z");
        assert_eq!(policy.locked_until(9, last), None);
        let until = policy.locked_until(10, last);
        assert_eq!(until, Some(ts("2026-03-01T12:15:00Z")));
        assert_eq!(policy.locked_until(11, last), until);

        // Free failures: no wait.
        assert!(policy.check_attempt(5, Some(last), last).is_ok());
        assert!(policy.check_attempt(0, None, last).is_ok());
        // The seventh attempt after six failures waits a second.
        let e = policy.check_attempt(6, Some(last), ts("2026-03-01T12:00:00.5Z")).err();
        assert_eq!(e.map(|e| e.code), Some(ErrorCode::LoginThrottled));
        assert!(policy.check_attempt(6, Some(last), ts("2026-03-01T12:00:01Z")).is_ok());
        // Locked for 15 minutes, then heard again.
        let e = policy.check_attempt(10, Some(last), ts("2026-03-01T12:14:59Z")).err();
        assert_eq!(e.as_ref().map(|e| e.code), Some(ErrorCode::AccountLocked));
        assert!(e.is_some_and(|e| e.message.contains("2026-03-01T12:15:00Z")));
        assert!(policy.check_attempt(10, Some(last), ts("2026-03-01T12:15:00Z")).is_ok());
    }

    #[test]
    fn six_months_unused_expires_by_the_calendar() {
        let six = d("P6M");
        let cases = [
            // last used, first expired moment
            ("2025-08-31T10:00:00Z", "2026-02-28T10:00:00Z"),
            ("2027-08-31T10:00:00Z", "2028-02-29T10:00:00Z"), // leap year
            ("2026-03-31T23:30:00Z", "2026-09-30T23:30:00Z"),
            ("2026-01-15T00:00:00Z", "2026-07-15T00:00:00Z"),
        ];
        for (used, end) in cases {
            let (used, end) = (ts(used), ts(end));
            let just_before = end.checked_sub(SignedDuration::from_secs(1)).unwrap_or(end);
            assert!(!credential_expired(used, &six, just_before), "{used}");
            assert!(credential_expired(used, &six, end), "{used}");
            assert!(!credential_expired(used, &six, used));
        }
        // The agreement's own term applies when it differs.
        assert!(credential_expired(
            ts("2026-01-01T00:00:00Z"),
            &d("P3M"),
            ts("2026-04-01T00:00:00Z")
        ));
    }

    #[test]
    fn a_block_lasts_at_most_the_agreements_term() {
        let now = ts("2026-03-01T12:00:00Z");
        let max = d("PT48H");
        assert_eq!(
            block_until(SignedDuration::from_hours(48), &max, now).ok(),
            Some(ts("2026-03-03T12:00:00Z"))
        );
        assert_eq!(
            block_until(SignedDuration::from_hours(2), &max, now).ok(),
            Some(ts("2026-03-01T14:00:00Z"))
        );
        let e = block_until(SignedDuration::from_secs(48 * 3600 + 1), &max, now).err();
        assert_eq!(e.as_ref().map(|e| e.code), Some(ErrorCode::BlockTooLong));
        assert!(e.is_some_and(|e| e.message.contains("48 uur") && e.message.contains("48 hours")));
        for bad in [SignedDuration::ZERO, SignedDuration::from_hours(-1)] {
            assert_eq!(
                block_until(bad, &max, now).err().map(|e| e.code),
                Some(ErrorCode::BadRequest)
            );
        }
        // A term in days is counted by the calendar too.
        assert!(block_until(SignedDuration::from_hours(72), &d("P3D"), now).is_ok());
    }
}

/// Why a member of the processor's staff needs access to a customer's data (R2.2): the only
/// reasons for which staff may reach service data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessReason {
    /// Installing a new version or a fix.
    InstallVersionOrFix,
    /// Making or checking a backup.
    Backup,
    /// Moving data.
    MoveData,
    /// Investigating and fixing a fault.
    InvestigateFault,
    /// Answering a support ticket.
    SupportTicket,
    /// A migration.
    Migration,
    /// A legal obligation.
    LegalObligation,
}

impl AccessReason {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessReason::InstallVersionOrFix => "install_version_or_fix",
            AccessReason::Backup => "backup",
            AccessReason::MoveData => "move_data",
            AccessReason::InvestigateFault => "investigate_fault",
            AccessReason::SupportTicket => "support_ticket",
            AccessReason::Migration => "migration",
            AccessReason::LegalObligation => "legal_obligation",
        }
    }

    /// Label for people.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            AccessReason::InstallVersionOrFix => {
                lang.pick("installatie van een versie of herstel", "installing a version or fix")
            }
            AccessReason::Backup => lang.pick("back-up", "backup"),
            AccessReason::MoveData => lang.pick("verplaatsen van gegevens", "moving data"),
            AccessReason::InvestigateFault => {
                lang.pick("onderzoek en herstel van een storing", "investigating a fault")
            }
            AccessReason::SupportTicket => lang.pick("supportmelding", "support ticket"),
            AccessReason::Migration => lang.pick("migratie", "migration"),
            AccessReason::LegalObligation => lang.pick("wettelijke verplichting", "legal obligation"),
        }
    }
}

impl FromStr for AccessReason {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        [
            AccessReason::InstallVersionOrFix,
            AccessReason::Backup,
            AccessReason::MoveData,
            AccessReason::InvestigateFault,
            AccessReason::SupportTicket,
            AccessReason::Migration,
            AccessReason::LegalObligation,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::BadRequest,
                format!("`{s}` is not a reason for staff access; use install_version_or_fix, backup, move_data, investigate_fault, support_ticket, migration or legal_obligation"),
            )
        })
    }
}
