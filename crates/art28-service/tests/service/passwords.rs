//! Passwords: argon2id hashes, the dummy-hash timing defence, and the strength rule.

use art28_core::ErrorCode;
use art28_service::passwords::{Argon2Params, MAX_LENGTH, PasswordHasher, SecretString, check_strength};
use std::time::{Duration, Instant};

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

/// The OWASP floor: cheaper than the production choice, still a real argon2id cost. The
/// properties tested hold for any parameters.
fn hasher() -> PasswordHasher {
    PasswordHasher::new(Argon2Params::OWASP_MINIMUM).expect("params")
}

const GOOD: &str = "kraanvogel paprika zeilboot 1987";

#[tokio::test]
async fn hash_and_verify_round_trip() {
    let h = hasher();
    let stored = h.hash(&secret(GOOD)).await.expect("hash");
    assert!(h.verify(&secret(GOOD), Some(&stored)).await);
    assert!(
        !h.verify(&secret("kraanvogel paprika zeilboot 1988"), Some(&stored))
            .await
    );
    assert!(!h.verify(&secret(""), Some(&stored)).await);
    // A fresh salt every time.
    let again = h.hash(&secret(GOOD)).await.expect("hash");
    assert_ne!(stored, again);
    assert!(h.verify(&secret(GOOD), Some(&again)).await);
    assert!(!h.needs_rehash(&stored));
}

#[tokio::test]
async fn unknown_users_and_unreadable_hashes_never_verify() {
    let h = hasher();
    assert!(!h.verify(&secret(GOOD), None).await);
    assert!(!h.verify(&secret(""), None).await);
    assert!(!h.verify(&secret(GOOD), Some("not a hash")).await);
    assert!(!h.verify(&secret(GOOD), Some("")).await);
}

#[tokio::test]
async fn the_phc_string_names_argon2id_and_the_parameters() {
    let h = hasher();
    let stored = h.hash(&secret(GOOD)).await.expect("hash");
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    assert!(!stored.contains(GOOD));

    let default = PasswordHasher::default();
    assert_eq!(default.params(), Argon2Params::RECOMMENDED);
    assert_eq!(
        Argon2Params::RECOMMENDED,
        Argon2Params {
            m_cost_kib: 65_536,
            t_cost: 3,
            p_cost: 1
        }
    );
    assert!(Argon2Params::RECOMMENDED.meets_owasp_minimum());
    assert!(Argon2Params::OWASP_MINIMUM.meets_owasp_minimum());
    let strong = default.hash(&secret(GOOD)).await.expect("hash");
    assert!(strong.starts_with("$argon2id$v=19$m=65536,t=3,p=1$"), "{strong}");
    assert!(default.verify(&secret(GOOD), Some(&strong)).await);
    // A hash made with the older, cheaper parameters still verifies, and asks to be redone.
    assert!(default.verify(&secret(GOOD), Some(&stored)).await);
    assert!(default.needs_rehash(&stored));
    assert!(!default.needs_rehash(&strong));
    assert!(default.needs_rehash("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"));

    // Debug shows the parameters, never a hash.
    let debug = format!("{default:?}");
    assert!(debug.contains("65536") && !debug.contains('$'), "{debug}");
    assert!(!format!("{:?}", secret(GOOD)).contains(GOOD));
}

#[test]
fn unusable_parameters_are_refused() {
    let err = PasswordHasher::new(Argon2Params {
        m_cost_kib: 1,
        t_cost: 0,
        p_cost: 1,
    })
    .expect_err("t=0");
    assert_eq!(err.code, ErrorCode::ConfigInvalid);
    assert!(
        !Argon2Params {
            m_cost_kib: 8 * 1024,
            t_cost: 3,
            p_cost: 1
        }
        .meets_owasp_minimum()
    );
}

#[test]
fn weak_passwords_are_refused_with_feedback() {
    for (pw, inputs) in [
        ("password1234", &[][..]),
        ("qwertyuiop123", &[]),
        ("aaaaaaaaaaaaaaaa", &[]),
        ("123456789012", &[]),
        ("Welcome2026!", &[]),
        // Derived from the user's own name and user name.
        ("janvries1987", &["jan.vries", "Jan de Vries"]),
        ("bakkerijdevries", &["bakkerij-de-vries"]),
    ] {
        let err = check_strength(&secret(pw), inputs).expect_err(pw);
        assert_eq!(err.code, ErrorCode::PasswordTooWeak, "{pw}");
        assert!(
            err.message.starts_with("Wachtwoord te zwak") && err.message.contains("Password too weak"),
            "{pw}: {}",
            err.message
        );
        assert!(!err.details.is_empty(), "{pw}: no feedback");
        assert!(!err.message.contains(pw) && err.details.iter().all(|d| !d.contains(pw)));
    }
}

#[test]
fn the_users_own_words_count_against_a_password() {
    // Strong enough on their own, weak for the user they name: the parts of a user name or
    // e-mail address count as well as the whole.
    for (pw, inputs) in [
        ("pietjanssen1987", &["piet.janssen"][..]),
        ("noordlichtpiet", &["piet@noordlicht.nl"]),
        ("janvries1987", &["jan.vries", "Jan de Vries"]),
    ] {
        assert!(check_strength(&secret(pw), &[]).is_ok(), "{pw}");
        let err = check_strength(&secret(pw), inputs).expect_err(pw);
        assert_eq!(err.code, ErrorCode::PasswordTooWeak);
        assert!(err.message.contains("own name"), "{pw}: {}", err.message);
    }
}

#[test]
fn length_limits_are_in_characters() {
    let err = check_strength(&secret("Zq8#vL2!pW"), &[]).expect_err("short");
    assert_eq!(err.code, ErrorCode::PasswordTooWeak);
    assert!(err.message.contains("12"), "{}", err.message);
    assert!(err.message.contains("te kort") && err.message.contains("too short"));
    // Twelve characters of more than one byte each are long enough.
    assert!(check_strength(&secret("ĳsvogel€ørkæ"), &[]).is_ok());
    let long = "ab1-".repeat(MAX_LENGTH / 4 + 1);
    let err = check_strength(&secret(&long), &[]).expect_err("long");
    assert!(err.message.contains("too long"));
    // Exactly the maximum is not too long (repetition may still make it too weak).
    if let Err(e) = check_strength(&secret(&"x7#k".repeat(MAX_LENGTH / 4)), &[]) {
        assert!(!e.message.contains("too long"), "{}", e.message);
    }
}

#[test]
fn strong_passwords_are_accepted() {
    for pw in [
        GOOD,
        "correct horse battery staple",
        "Vt7#mQ2!xLp9wR",
        "fietsbel onweer lantaarn kikker",
    ] {
        check_strength(&secret(pw), &["jan.vries", "Jan de Vries"]).unwrap_or_else(|e| panic!("{pw}: {e:?}"));
    }
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// Login for an unknown user costs what a login for a real one costs (zero2prod's defence):
/// many interleaved attempts each way, compared by their medians. Not a test of speed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timing_does_not_tell_whether_a_user_exists() {
    const ROUNDS: usize = 40;
    let h = hasher();
    let stored = h.hash(&secret(GOOD)).await.expect("hash");
    let wrong = secret("not the password at all");
    // Warm up both paths (the dummy hash is made on first use).
    h.verify(&wrong, Some(&stored)).await;
    h.verify(&wrong, None).await;
    let (mut known, mut unknown) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    for i in 0..ROUNDS {
        // Alternate the order, so drift in machine load hits both sides alike.
        for first_known in [i % 2 == 0, i % 2 != 0] {
            let start = Instant::now();
            let ok = if first_known {
                h.verify(&wrong, Some(&stored)).await
            } else {
                h.verify(&wrong, None).await
            };
            assert!(!ok);
            if first_known {
                known.push(start.elapsed());
            } else {
                unknown.push(start.elapsed());
            }
        }
    }
    let (k, u) = (median(known).as_secs_f64(), median(unknown).as_secs_f64());
    let gap = (k - u).abs() / k.max(u);
    assert!(
        gap < 0.25,
        "median verification {k:.4}s for a real account vs {u:.4}s for an unknown one ({:.0}% apart)",
        gap * 100.0
    );
}

/// The measured cost of one verification, for docs/SECURITY.md:
/// `cargo test --release -p art28-service --test service passwords::measure -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, run by hand in release mode"]
async fn measure_verification_cost() {
    const ROUNDS: usize = 20;
    for (name, params) in [
        ("OWASP minimum", Argon2Params::OWASP_MINIMUM),
        ("RECOMMENDED", Argon2Params::RECOMMENDED),
    ] {
        let h = PasswordHasher::new(params).expect("params");
        let stored = h.hash(&secret(GOOD)).await.expect("hash");
        h.verify(&secret(GOOD), Some(&stored)).await;
        let mut times = Vec::new();
        for _ in 0..ROUNDS {
            let start = Instant::now();
            assert!(h.verify(&secret(GOOD), Some(&stored)).await);
            times.push(start.elapsed());
        }
        times.sort();
        // Two at once, as on a 2-core server under a login burst.
        let pw = secret(GOOD);
        let start = Instant::now();
        let (a, b) = tokio::join!(h.verify(&pw, Some(&stored)), h.verify(&pw, Some(&stored)));
        let pair = start.elapsed();
        assert!(a && b);
        println!(
            "{name} m={} KiB t={} p={}: verify min {:.1} ms, median {:.1} ms, max {:.1} ms over {ROUNDS}; two concurrent {:.1} ms",
            params.m_cost_kib,
            params.t_cost,
            params.p_cost,
            times[0].as_secs_f64() * 1e3,
            median(times.clone()).as_secs_f64() * 1e3,
            times[ROUNDS - 1].as_secs_f64() * 1e3,
            pair.as_secs_f64() * 1e3,
        );
    }
}
