//! Checkpoints and signed notes against independent implementations (`signed_note`, a port of
//! Go's `sumdb/note`; `tlog_tiles::Checkpoint`), and the strictness of our own parser.

use crate::common::{entries, tree_of};
use art28_ledger::{Checkpoint, CheckpointError, KeyError, LogSigner, LogVerifier};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use signed_note::{Note, StandardSigner, StandardVerifier, VerifierList};

const NAME: &str = "art28.example/log";

fn signer(seed: u8) -> LogSigner {
    LogSigner::from_bytes(NAME, &[seed; 32]).unwrap()
}

/// The Go-format secret key text for our key, which `signed_note` checks against the key id.
fn go_skey(s: &LogSigner) -> String {
    let mut material = vec![0x01];
    material.extend_from_slice(s.secret_bytes().as_ref());
    format!(
        "PRIVATE+KEY+{}+{:08x}+{}",
        s.name(),
        s.verifier().key_id(),
        BASE64.encode(material)
    )
}

fn sample_checkpoint(s: &LogSigner) -> Checkpoint {
    let tree = tree_of(&entries(11, 1234));
    s.checkpoint(1234, tree.root())
}

#[test]
fn our_notes_verify_with_signed_note_from_the_vkey() {
    for seed in 0..8u8 {
        let s = signer(seed);
        let cp = sample_checkpoint(&s);
        let note = s.sign(&cp);
        let v = StandardVerifier::new(&s.verifier().to_vkey()).unwrap();
        let list = VerifierList::new(vec![Box::new(v)]);
        let parsed = Note::from_bytes(note.as_bytes()).unwrap();
        let (verified, unverified) = parsed.verify(&list).unwrap();
        assert_eq!(verified.len(), 1);
        assert!(unverified.is_empty());
        assert_eq!(parsed.text(), cp.body().as_bytes());

        // And the body is a checkpoint to Go's tlog parser.
        let theirs = tlog_tiles::Checkpoint::from_bytes(parsed.text()).unwrap();
        assert_eq!(theirs.origin(), NAME);
        assert_eq!(theirs.size(), cp.size);
        assert_eq!(theirs.hash().0, cp.root);
        assert!(theirs.extension().is_empty());
    }
}

#[test]
fn signed_note_signatures_verify_with_ours_and_match_byte_for_byte() {
    let s = signer(42);
    let cp = sample_checkpoint(&s);
    let theirs = StandardSigner::new(&go_skey(&s)).unwrap();
    let body = tlog_tiles::Checkpoint::new(NAME, cp.size, tlog_tiles::Hash(cp.root), "")
        .unwrap()
        .to_bytes();
    assert_eq!(body, cp.body().as_bytes());
    let mut note = Note::new(&body, &[]).unwrap();
    note.add_sigs(&[&theirs]).unwrap();
    let text = String::from_utf8(note.to_bytes()).unwrap();
    assert_eq!(s.verifier().verify(&text).unwrap(), cp);
    // Ed25519 is deterministic: both signers write the very same note.
    assert_eq!(text, s.sign(&cp));
}

#[test]
fn a_note_with_extra_signatures_from_other_keys_still_verifies() {
    let s = signer(1);
    let witness = LogSigner::from_bytes("witness.example", &[9; 32]).unwrap();
    let cp = sample_checkpoint(&s);
    let note = s.sign(&cp);
    let witness_line = witness
        .sign_text(&cp.body())
        .unwrap()
        .rsplit_once("\n\n")
        .unwrap()
        .1
        .to_owned();
    let cosigned = format!("{note}{witness_line}");
    assert_eq!(s.verifier().verify(&cosigned).unwrap(), cp);
    let v = StandardVerifier::new(&s.verifier().to_vkey()).unwrap();
    Note::from_bytes(cosigned.as_bytes())
        .unwrap()
        .verify(&VerifierList::new(vec![Box::new(v)]))
        .unwrap();
}

#[test]
fn vkey_round_trips_and_generate_makes_distinct_keys() {
    let a = LogSigner::generate(NAME).unwrap();
    let b = LogSigner::generate(NAME).unwrap();
    assert_ne!(a.verifier(), b.verifier());
    let v: LogVerifier = a.verifier().to_vkey().parse().unwrap();
    assert_eq!(v, a.verifier());
    let again = LogSigner::from_bytes(NAME, &a.secret_bytes()).unwrap();
    assert_eq!(again.verifier(), a.verifier());
    // Debug never shows the secret.
    let debug = format!("{a:?}");
    assert!(debug.contains("<redacted>"));
    assert!(!debug.contains(&hex::encode(a.secret_bytes().as_ref())));
    assert!(!debug.contains(&BASE64.encode(a.secret_bytes().as_ref())));
}

#[test]
fn malformed_keys_are_refused_with_reasons() {
    let good = signer(3).verifier().to_vkey();
    let (name, rest) = good.split_once('+').unwrap();
    let (id, key) = rest.split_once('+').unwrap();
    assert_eq!(
        "nokey".parse::<LogVerifier>(),
        Err(KeyError::Malformed("expected name+keyid+key"))
    );
    assert!(matches!(
        format!("bad name+{id}+{key}").parse::<LogVerifier>(),
        Err(KeyError::InvalidName(_))
    ));
    assert!(matches!(
        format!("{name}+00000000+{key}").parse::<LogVerifier>(),
        Err(KeyError::KeyIdMismatch { .. })
    ));
    let mut k = BASE64.decode(key).unwrap();
    k[0] = 0x02;
    assert_eq!(
        format!("{name}+{id}+{}", BASE64.encode(&k)).parse::<LogVerifier>(),
        Err(KeyError::UnsupportedAlgorithm(2))
    );
    let short = BASE64.encode(&BASE64.decode(key).unwrap()[..20]);
    assert!(matches!(
        format!("{name}+{id}+{short}").parse::<LogVerifier>(),
        Err(KeyError::Malformed(_))
    ));
    assert!(LogSigner::from_bytes("has space", &[0; 32]).is_err());
    assert!(LogSigner::from_bytes("a+b", &[0; 32]).is_err());
    assert!(LogSigner::from_bytes("", &[0; 32]).is_err());
}

fn body_err(text: &str) -> String {
    match Checkpoint::parse_body(text) {
        Err(CheckpointError::MalformedCheckpoint(why)) => why,
        other => panic!("expected malformed checkpoint for {text:?}, got {other:?}"),
    }
}

#[test]
fn checkpoint_bodies_are_parsed_strictly() {
    let root = BASE64.encode([7u8; 32]);
    let ok = format!("{NAME}\n10\n{root}\n");
    assert_eq!(Checkpoint::parse_body(&ok).unwrap().size, 10);
    assert_eq!(Checkpoint::parse_body(&format!("{NAME}\n0\n{root}\n")).unwrap().size, 0);
    assert!(body_err(&format!("{NAME}\n010\n{root}\n")).contains("leading zero"));
    assert!(body_err(&format!("{NAME}\n+10\n{root}\n")).contains("not a decimal"));
    assert!(body_err(&format!("{NAME}\n 10\n{root}\n")).contains("not a decimal"));
    assert!(body_err(&format!("{NAME}\n18446744073709551616\n{root}\n")).contains("64 bits"));
    assert!(body_err(&format!("{NAME}\n10\n{root}")).contains("newline"));
    assert!(body_err(&format!("{NAME}\n10\n{root}\next\n")).contains("extension"));
    assert!(body_err(&format!("{NAME}\n10\n")).contains("three lines"));
    assert!(body_err(&format!("\n10\n{root}\n")).contains("origin"));
    let short = BASE64.encode([7u8; 31]);
    assert!(body_err(&format!("{NAME}\n10\n{short}\n")).contains("32 bytes"));
    let unpadded = root.trim_end_matches('=');
    assert!(body_err(&format!("{NAME}\n10\n{unpadded}\n")).contains("base64"));
    // Non-canonical: the last base64 digit carries bits beyond the 32 bytes.
    let mut bits = root.clone().into_bytes();
    bits[42] = b'd'; // "...c=" -> "...d=": same 32 bytes under a lenient decoder
    let noncanonical = String::from_utf8(bits).unwrap();
    assert!(body_err(&format!("{NAME}\n10\n{noncanonical}\n")).contains("base64"));
}

#[test]
fn our_parser_agrees_with_tlog_tiles_on_what_is_well_formed() {
    let root = BASE64.encode([1u8; 32]);
    let cases = [
        format!("{NAME}\n5\n{root}\n"),
        format!("{NAME}\n05\n{root}\n"),
        format!("{NAME}\n5\n{root}"),
        format!("{NAME}\n-5\n{root}\n"),
        format!("{NAME}\n5\n{}\n", BASE64.encode([1u8; 33])),
        format!("\n5\n{root}\n"),
    ];
    for c in cases {
        let ours = Checkpoint::parse_body(&c).is_ok();
        let theirs = tlog_tiles::Checkpoint::from_bytes(c.as_bytes()).is_ok();
        assert_eq!(ours, theirs, "{c:?}");
    }
}

#[test]
fn signer_refuses_text_that_would_make_a_malformed_note() {
    let s = signer(5);
    for bad in ["", "no newline", "a\n\n", "tab\there\n"] {
        assert!(
            matches!(s.sign_text(bad), Err(CheckpointError::Unsignable(_))),
            "{bad:?}"
        );
    }
}
