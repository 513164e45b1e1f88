//! Passwords: argon2id hashes, verification that does not reveal whether an account exists,
//! and the strength rule for new passwords (R3.3: long and complex, stored unintelligibly).
//!
//! Hashing costs tens of milliseconds of CPU and tens of MiB of memory on purpose, so it runs
//! in [`tokio::task::spawn_blocking`] and never stalls the async workers. A login for an
//! unknown user name is verified against a dummy hash made with the same parameters, so it
//! takes as long as one for a real account. Passwords travel as [`SecretString`], whose `Debug`
//! prints nothing; neither passwords nor hashes are ever logged. docs/SECURITY.md gives the
//! parameters, the reasons for them and their measured cost.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use art28_core::{Error, ErrorCode, Result};
use secrecy::ExposeSecret as _;
pub use secrecy::SecretString;
use std::fmt;
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;
use zxcvbn::matching::patterns::MatchPattern;

/// Shortest password accepted, in characters (not bytes).
pub const MIN_LENGTH: usize = 12;
/// Longest password accepted, in characters: enough for any passphrase, short enough that
/// nobody makes the server hash megabytes.
pub const MAX_LENGTH: usize = 256;

/// The cost of argon2id: memory in KiB, passes over it, lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory, in KiB.
    pub m_cost_kib: u32,
    /// Passes over the memory.
    pub t_cost: u32,
    /// Lanes (parallelism).
    pub p_cost: u32,
}

impl Argon2Params {
    /// The floor the OWASP Password Storage Cheat Sheet gives for argon2id: 19 MiB, 2 passes,
    /// 1 lane. Nothing weaker is used in production.
    pub const OWASP_MINIMUM: Self = Self {
        m_cost_kib: 19 * 1024,
        t_cost: 2,
        p_cost: 1,
    };

    /// art28's choice: 64 MiB, 3 passes, 1 lane. About five times the OWASP floor's work, with
    /// the memory and passes of RFC 9106's second recommended option (which uses 4 lanes; one
    /// lane keeps a login on one core, so a 2-core server serves two at once). See
    /// docs/SECURITY.md for the measured cost.
    pub const RECOMMENDED: Self = Self {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };

    /// Whether these parameters are at least as costly as the OWASP floor in every dimension
    /// that matters to an attacker (memory and passes).
    pub fn meets_owasp_minimum(&self) -> bool {
        self.m_cost_kib >= Self::OWASP_MINIMUM.m_cost_kib && self.t_cost >= Self::OWASP_MINIMUM.t_cost
    }
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self::RECOMMENDED
    }
}

/// Hashes and verifies passwords with argon2id.
pub struct PasswordHasher {
    params: Params,
    /// A hash of a random password with the same parameters, for unknown user names. Made on
    /// first use of [`PasswordHasher::verify`] (inside the blocking task, whichever path is
    /// taken), so the first check of a real account costs the same as that of an unknown one.
    dummy: Arc<OnceLock<String>>,
    /// At most one hash per core at a time: each takes `m_cost` of memory, and a burst of
    /// logins must queue rather than allocate gigabytes on the blocking thread pool.
    permits: Arc<Semaphore>,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The dummy hash is left out: no hash is ever printed.
        f.debug_struct("PasswordHasher")
            .field("m_cost_kib", &self.params.m_cost())
            .field("t_cost", &self.params.t_cost())
            .field("p_cost", &self.params.p_cost())
            .finish()
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        // RECOMMENDED is within argon2's limits, so this does not fail; should it, the
        // library's defaults are the OWASP minimum.
        Self::new(Argon2Params::default()).unwrap_or_else(|_| Self::with(Params::default()))
    }
}

impl PasswordHasher {
    /// A hasher with these parameters; refused with `config_invalid` if argon2 cannot use them.
    pub fn new(params: Argon2Params) -> Result<Self> {
        let params = Params::new(params.m_cost_kib, params.t_cost, params.p_cost, None)
            .map_err(|e| Error::new(ErrorCode::ConfigInvalid, format!("argon2 parameters not usable: {e}")))?;
        Ok(Self::with(params))
    }

    fn with(params: Params) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            params,
            dummy: Arc::default(),
            permits: Arc::new(Semaphore::new(cores)),
        }
    }

    /// The parameters in use.
    pub fn params(&self) -> Argon2Params {
        Argon2Params {
            m_cost_kib: self.params.m_cost(),
            t_cost: self.params.t_cost(),
            p_cost: self.params.p_cost(),
        }
    }

    fn argon2(params: &Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
    }

    /// Hash a password to a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) with a fresh
    /// random salt. Check its strength first with [`check_strength`].
    pub async fn hash(&self, password: &SecretString) -> Result<String> {
        let password = password.clone();
        let params = self.params.clone();
        let permit = Arc::clone(&self.permits).acquire_owned().await.map_err(|_| {
            tracing::error!("password hashing is shut down");
            Error::new(ErrorCode::Internal, "password hashing failed")
        })?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            Self::argon2(&params)
                .hash_password(password.expose_secret().as_bytes())
                .map(|h| h.to_string())
        })
        .await
        .map_err(|_| {
            tracing::error!("password hashing task failed");
            Error::new(ErrorCode::Internal, "password hashing failed")
        })?
        .map_err(|e| {
            // The error of argon2 names a parameter or length rule, never the input.
            tracing::error!(error = %e, "password hashing failed");
            Error::new(ErrorCode::Internal, "password hashing failed")
        })
    }

    /// Whether `password` matches `stored`. With `stored` `None` (no such user) the password is
    /// checked against the dummy hash, taking the same time, and the answer is `false`. A
    /// stored value that is not a readable hash also takes that time and answers `false`.
    pub async fn verify(&self, password: &SecretString, stored: Option<&str>) -> bool {
        let password = password.clone();
        let stored = stored.map(str::to_owned);
        let params = self.params.clone();
        let dummy = Arc::clone(&self.dummy);
        let Ok(permit) = Arc::clone(&self.permits).acquire_owned().await else {
            tracing::error!("password verification is shut down");
            return false;
        };
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let dummy = dummy.get_or_init(|| make_dummy(&params));
            let argon2 = Self::argon2(&params);
            let pw = password.expose_secret().as_bytes();
            let parsed = stored.as_deref().map(PasswordHash::new);
            match parsed {
                Some(Ok(hash)) => argon2.verify_password(pw, &hash).is_ok(),
                other => {
                    if matches!(other, Some(Err(_))) {
                        tracing::warn!("a stored password hash is not readable; treated as a wrong password");
                    }
                    // Same work as for a real account, and the answer is no whatever it says.
                    let _ = argon2.verify_password(pw, dummy.as_str());
                    false
                }
            }
        })
        .await;
        result.unwrap_or_else(|_| {
            tracing::error!("password verification task failed");
            false
        })
    }

    /// Whether a stored hash was made with other (older) parameters or another algorithm, so
    /// the service should hash the password again after a successful login.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(hash) = PasswordHash::new(stored) else {
            return true;
        };
        if hash.algorithm.as_str() != "argon2id" {
            return true;
        }
        match Params::try_from(&hash) {
            Ok(p) => {
                (p.m_cost(), p.t_cost(), p.p_cost())
                    != (self.params.m_cost(), self.params.t_cost(), self.params.p_cost())
            }
            Err(_) => true,
        }
    }
}

/// A hash of 32 random bytes that nobody knows, with the hasher's parameters.
fn make_dummy(params: &Params) -> String {
    let secret: [u8; 32] = rand::random();
    match PasswordHasher::argon2(params).hash_password(&secret) {
        Ok(h) => h.to_string(),
        Err(e) => {
            // Only reachable with parameters argon2 refuses, which `new` already refused.
            tracing::error!(error = %e, "could not make the dummy password hash");
            String::new()
        }
    }
}

/// Refuse a new password that is shorter than [`MIN_LENGTH`] or longer than [`MAX_LENGTH`]
/// characters, or that zxcvbn scores below 3 of 4 ("safely unguessable": more than 10^8
/// guesses), taking the user's own words (user name, name, e-mail) into account.
///
/// The error, `password_too_weak`, has a one-line summary in Dutch and English and carries
/// zxcvbn's warning and suggestions in its details. The password itself is never in it.
pub fn check_strength(password: &SecretString, user_inputs: &[&str]) -> Result<()> {
    let pw = password.expose_secret();
    let length = pw.chars().count();
    if length < MIN_LENGTH {
        return Err(Error::new(
            ErrorCode::PasswordTooWeak,
            format!(
                "Wachtwoord te kort: minstens {MIN_LENGTH} tekens / Password too short: use at least {MIN_LENGTH} characters"
            ),
        )
        .with_details(vec![
            "A few unusual words together make a long password that is easy to remember.".into(),
        ]));
    }
    if length > MAX_LENGTH {
        return Err(Error::new(
            ErrorCode::PasswordTooWeak,
            format!(
                "Wachtwoord te lang: hoogstens {MAX_LENGTH} tekens / Password too long: use at most {MAX_LENGTH} characters"
            ),
        ));
    }
    // zxcvbn matches user inputs as whole words; "jan.de-vries@example.nl" should also
    // count "jan", "vries" and "jandevriesexamplenl".
    let mut words: Vec<String> = Vec::new();
    for input in user_inputs {
        let lower = input.to_lowercase();
        let parts: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        words.extend(parts.iter().filter(|w| w.chars().count() >= 3).map(|w| (*w).to_owned()));
        if parts.len() > 1 {
            words.push(parts.concat());
        }
        words.push(lower);
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let entropy = zxcvbn::zxcvbn(pw, &words);
    if entropy.score() >= zxcvbn::Score::Three {
        return Ok(());
    }
    let feedback = entropy.feedback();
    let own_words = entropy
        .sequence()
        .iter()
        .any(|m| matches!(&m.pattern, MatchPattern::Dictionary(d) if words.contains(&d.matched_word.as_str())));
    let warning = feedback
        .and_then(|f| f.warning())
        .map(|w| w.to_string())
        .or_else(|| own_words.then(|| "Your own name or user name is easy to guess.".to_string()));
    let mut details: Vec<String> = warning.iter().cloned().collect();
    details.extend(
        feedback
            .map(|f| f.suggestions().iter().map(ToString::to_string).collect::<Vec<_>>())
            .unwrap_or_default(),
    );
    let why = warning.unwrap_or_else(|| "it is easy to guess".into());
    Err(Error::new(
        ErrorCode::PasswordTooWeak,
        format!("Wachtwoord te zwak, te makkelijk te raden / Password too weak: {why}"),
    )
    .with_details(details))
}
