//! The demo's people: one account per role, each with a random strong password made at
//! creation, shown once (the caller prints it) and stored only as its hash. Accounts are made
//! through [`Accounts::create_account`] by the job `demo` acting as processor administrator,
//! so they must change their password at the first login, as accounts made by an
//! administrator do.

use super::story;
use crate::access::RequestContext;
use crate::accounts::{AccountRequest, Accounts};
use crate::clock::Clock;
use crate::incidents::Incidents;
use crate::passwords::check_strength;
use crate::staff_access::StaffAccess;
use crate::vault::Vault;
use art28_core::access::{Actor, ActorKind};
use art28_core::auth::{Grant, Principal, Role};
use art28_core::ids::CustomerId;
use art28_core::{Error, ErrorCode, Result};
use art28_store::AccountRecord;
use secrecy::SecretString;
use std::collections::BTreeMap;

/// The customer whose data the demo shows.
pub const BAKKERIJ: &str = "bakkerij-de-vries";
/// A second customer, to show that one customer sees nothing of another. Its agreement asks
/// for its approval of staff access (a lockbox), so a request waits there.
pub const SCHELDEPOORT: &str = "scheldepoort-documentbeheer";

/// One demo account: user name, name shown, role, customer (for a customer role).
pub(crate) struct Person {
    pub username: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    pub customer: Option<&'static str>,
}

/// Who the demo's people are. Names are fictional; user names are e-mail-like, as the
/// username rule allows (letters, digits, `.`, `-`, `_`, `@`).
pub(crate) const PEOPLE: &[Person] = &[
    Person {
        username: "admin@noordlicht.example",
        display_name: "Femke Dijkstra (beheer Noordlicht)",
        role: Role::ProcessorAdmin,
        customer: None,
    },
    Person {
        username: "security@noordlicht.example",
        display_name: "Sanne Visser (security officer)",
        role: Role::SecurityOfficer,
        customer: None,
    },
    Person {
        username: "support@noordlicht.example",
        display_name: "Daan Mulder (servicedesk)",
        role: Role::SupportEngineer,
        customer: None,
    },
    Person {
        username: "consultant@noordlicht.example",
        display_name: "Lieke Bakker (consultant)",
        role: Role::Consultant,
        customer: None,
    },
    Person {
        username: "beheer@bakkerij-de-vries.example",
        display_name: "Anke de Vries",
        role: Role::CustomerAdmin,
        customer: Some(BAKKERIJ),
    },
    Person {
        username: "winkel@bakkerij-de-vries.example",
        display_name: "Sem Jansen (winkel)",
        role: Role::CustomerUser,
        customer: Some(BAKKERIJ),
    },
    Person {
        username: "auditor@bakkerij-de-vries.example",
        display_name: "Ruben Bos (externe boekhouder)",
        role: Role::CustomerAuditor,
        customer: Some(BAKKERIJ),
    },
    Person {
        username: "beheer@scheldepoort.example",
        display_name: "Lotte Peeters",
        role: Role::CustomerAdmin,
        customer: Some(SCHELDEPOORT),
    },
];

/// The doors the demo goes through, and the clock they share.
#[derive(Clone, Copy)]
pub struct Doors<'a> {
    /// Accounts and the permission register.
    pub accounts: &'a Accounts,
    /// The vault.
    pub vault: &'a Vault,
    /// Staff access grants.
    pub staff_access: &'a StaffAccess,
    /// The incident register.
    pub incidents: &'a Incidents,
    /// The sub-processor register.
    pub subprocessors: &'a crate::subprocessors::Subprocessors,
    /// The clock of the doors.
    pub clock: &'a dyn Clock,
}

impl std::fmt::Debug for Doors<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Doors").finish_non_exhaustive()
    }
}

/// An account the demo made now, with its password: to be shown once, then forgotten.
#[derive(Debug)]
pub struct DemoAccount {
    /// User name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// The customer, for a customer role.
    pub customer: Option<CustomerId>,
    /// The initial password (must be changed at the first login). `Debug` shows nothing.
    pub password: SecretString,
}

/// What [`populate`] found or did.
#[derive(Debug)]
pub enum Setup {
    /// Made now: the accounts with their passwords, and everything else.
    Created(Vec<DemoAccount>),
    /// There from an earlier start: nothing added.
    Present,
    /// Some of it is there (an earlier start stopped midway, or a user name is taken):
    /// nothing added; a fresh data directory gives a whole demo.
    Incomplete,
}

/// The job's principal: the processor administrator's role, which creates accounts.
fn demo_admin() -> Result<Principal> {
    Ok(Principal {
        account_id: 0,
        username: "demo".into(),
        grants: vec![
            Grant::staff(Role::ProcessorAdmin)?,
            Grant::staff(Role::SecurityOfficer)?,
        ],
        token_limit: None,
    })
}

/// The job's context: its entries name the job `demo`.
fn demo_ctx() -> RequestContext {
    RequestContext::of(Actor::job("demo"))
}

/// A context acting as one of the demo's people: the entries name them, as real use would,
/// and the request id `demo` says the demo made the entry, not a request.
pub(crate) fn as_person(account: &AccountRecord, purpose: Option<&str>) -> RequestContext {
    RequestContext {
        actor: Actor {
            kind: ActorKind::User,
            id: account.username.clone(),
        },
        on_behalf_of: account.tenant.clone(),
        request_id: Some("demo".into()),
        client: None,
        purpose: purpose.map(str::to_string),
        reference: None,
    }
}

/// A password of 4 groups of 5 characters from 32 letters and digits (100 bits), without the
/// easily confused `l`, `o`, `0` and `1`; checked by the same strength rule as any other.
fn new_password(username: &str, display_name: &str) -> Result<SecretString> {
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    for _ in 0..8 {
        let bytes: [u8; 20] = rand::random();
        let mut s = String::with_capacity(23);
        for (i, b) in bytes.iter().enumerate() {
            if i > 0 && i % 5 == 0 {
                s.push('-');
            }
            // 256 is a multiple of 32, so every character is equally likely.
            s.push(char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]));
        }
        let password = SecretString::from(s);
        if check_strength(&password, &[username, display_name]).is_ok() {
            return Ok(password);
        }
    }
    Err(Error::new(ErrorCode::Internal, "no strong demo password could be made"))
}

/// Make the demo's accounts, data, grants and incident once: on a data directory that has
/// none of the demo's accounts. A later start finds them and adds nothing (it reads the
/// account list and the register as staff, which leaves no entry in any customer's log).
pub async fn populate(doors: Doors<'_>) -> Result<Setup> {
    let admin = demo_admin()?;
    let ctx = demo_ctx();
    let existing = doors.accounts.accounts(&ctx, &admin, None).await?;
    let taken = PEOPLE
        .iter()
        .filter(|p| existing.iter().any(|a| a.username == p.username))
        .count();
    if taken > 0 {
        let whole = taken == PEOPLE.len() && story::is_told(doors, &admin).await?;
        return Ok(if whole { Setup::Present } else { Setup::Incomplete });
    }
    let mut made = Vec::with_capacity(PEOPLE.len());
    let mut records: BTreeMap<&'static str, AccountRecord> = BTreeMap::new();
    for p in PEOPLE {
        let password = new_password(p.username, p.display_name)?;
        let customer = p.customer.map(str::parse::<CustomerId>).transpose()?;
        let (account, _) = doors
            .accounts
            .create_account(
                &ctx,
                &admin,
                AccountRequest {
                    username: p.username.into(),
                    display_name: p.display_name.into(),
                    password: password.clone(),
                    role: p.role,
                    customer: customer.clone(),
                },
            )
            .await
            .map_err(|e| failed("account", p.username, e))?;
        records.insert(p.username, account);
        made.push(DemoAccount {
            username: p.username.into(),
            role: p.role,
            customer,
            password,
        });
    }
    story::tell(doors, &records).await?;
    Ok(Setup::Created(made))
}

/// A step of the demo that failed, said so.
pub(crate) fn failed(what: &str, which: &str, e: Error) -> Error {
    Error::new(
        e.code,
        format!("the demo's {what} `{which}` could not be made: {}", e.message),
    )
    .with_details(e.details)
}
