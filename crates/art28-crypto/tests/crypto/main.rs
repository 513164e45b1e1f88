#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use art28_crypto::{
    CryptoError, KEY_LEN, Key, Keyring, MasterKey, ad, blind_index, normalize_email, normalize_id, open, pseudonym,
    seal, unwrap, wrap,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

fn field_ad(record: &[u8]) -> Vec<u8> {
    ad(&[b"art28/field/v1", b"tenant-1", b"patients", record, b"email"])
}

/// Secret text (hex and base64 forms) that must not show up in `rendered`.
fn assert_no_material(rendered: &str, key: &Key) {
    let hex = hex::encode(key.expose());
    let b64 = STANDARD.encode(key.expose());
    assert!(
        !rendered.to_lowercase().contains(&hex),
        "hex key material in {rendered}"
    );
    assert!(!rendered.contains(&b64), "base64 key material in {rendered}");
    assert!(
        !rendered.contains(b64.trim_end_matches('=')),
        "base64 key material in {rendered}"
    );
    let bytes = format!("{:?}", key.expose());
    assert!(
        !rendered.contains(&bytes[1..bytes.len() - 1]),
        "byte list in {rendered}"
    );
}

mod aead {
    use super::*;

    #[test]
    fn seal_open_round_trip() {
        let key = Key::generate();
        let sealed = seal(&key, b"jan@example.nl", &field_ad(b"rec-1"));
        assert_eq!(sealed.len(), 24 + b"jan@example.nl".len() + 16);
        let opened = open(&key, &sealed, &field_ad(b"rec-1")).unwrap();
        assert_eq!(&**opened, b"jan@example.nl");
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let key = Key::generate();
        let sealed = seal(&key, b"", b"");
        assert!(open(&key, &sealed, b"").unwrap().is_empty());
    }

    #[test]
    fn nonces_are_fresh() {
        let key = Key::generate();
        let a = seal(&key, b"same", b"ad");
        let b = seal(&key, b"same", b"ad");
        assert_ne!(a[..24], b[..24]);
        assert_ne!(a, b);
    }

    #[test]
    fn wrong_key_fails() {
        let sealed = seal(&Key::generate(), b"secret", &field_ad(b"rec-1"));
        assert_eq!(
            open(&Key::generate(), &sealed, &field_ad(b"rec-1")),
            Err(CryptoError::Open)
        );
    }

    #[test]
    fn moved_to_another_record_fails() {
        let key = Key::generate();
        let sealed = seal(&key, b"secret", &field_ad(b"rec-1"));
        assert_eq!(open(&key, &sealed, &field_ad(b"rec-2")), Err(CryptoError::Open));
    }

    #[test]
    fn flipped_bit_fails_anywhere() {
        let key = Key::generate();
        let sealed = seal(&key, b"secret value", b"ad");
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert_eq!(
                open(&key, &tampered, b"ad"),
                Err(CryptoError::Open),
                "bit flip at byte {i}"
            );
        }
    }

    #[test]
    fn truncated_fails() {
        let key = Key::generate();
        let sealed = seal(&key, b"secret", b"ad");
        for len in [0, 10, 24, 39, sealed.len() - 1] {
            assert_eq!(
                open(&key, &sealed[..len], b"ad"),
                Err(CryptoError::Open),
                "truncated to {len}"
            );
        }
    }

    #[test]
    fn wrap_unwrap_round_trip() {
        let kek = Key::generate();
        let key = Key::generate();
        let wrapped = wrap(&kek, &key, b"tenant-1/patients");
        assert_eq!(wrapped.len(), 24 + KEY_LEN + 16);
        assert!(!wrapped.windows(KEY_LEN).any(|w| w == key.expose()));
        let back = unwrap(&kek, &wrapped, b"tenant-1/patients").unwrap();
        assert_eq!(back.expose(), key.expose());
    }

    #[test]
    fn unwrap_with_wrong_context_or_kek_fails() {
        let kek = Key::generate();
        let key = Key::generate();
        let wrapped = wrap(&kek, &key, b"tenant-1/patients");
        assert_eq!(
            unwrap(&kek, &wrapped, b"tenant-2/patients").unwrap_err(),
            CryptoError::Open
        );
        assert_eq!(
            unwrap(&Key::generate(), &wrapped, b"tenant-1/patients").unwrap_err(),
            CryptoError::Open
        );
    }

    #[test]
    fn wrapped_key_is_not_an_ordinary_seal() {
        // The wrap domain tag keeps a wrapped key from opening as field data with the same bytes as ad, and back.
        let kek = Key::generate();
        let key = Key::generate();
        let wrapped = wrap(&kek, &key, b"ctx");
        assert_eq!(open(&kek, &wrapped, b"ctx"), Err(CryptoError::Open));
        let sealed = seal(&kek, key.expose(), b"ctx");
        assert_eq!(unwrap(&kek, &sealed, b"ctx").unwrap_err(), CryptoError::Open);
    }

    #[test]
    fn unwrap_of_a_non_key_is_malformed() {
        let kek = Key::generate();
        let not_a_key = seal(&kek, b"short", &ad(&[b"art28/wrap/v1", b"ctx"]));
        assert!(matches!(
            unwrap(&kek, &not_a_key, b"ctx"),
            Err(CryptoError::Malformed(_))
        ));
    }
}

mod keys {
    use super::*;

    #[test]
    fn from_bytes_and_expose() {
        let key = Key::from_bytes([7; KEY_LEN]);
        assert_eq!(key.expose(), &[7; KEY_LEN]);
        assert_ne!(Key::generate().expose(), Key::generate().expose());
    }

    #[test]
    fn derive_is_deterministic_and_distinct_per_label() {
        let key = Key::from_bytes([1; KEY_LEN]);
        let a = key.derive(b"art28/blind-index/v1");
        assert_eq!(a.expose(), key.derive(b"art28/blind-index/v1").expose());
        let b = key.derive(b"art28/pseudonym/v1");
        assert_ne!(a.expose(), b.expose());
        assert_ne!(a.expose(), key.expose());
        let other = Key::from_bytes([2; KEY_LEN]);
        assert_ne!(a.expose(), other.derive(b"art28/blind-index/v1").expose());
    }

    #[test]
    fn fingerprint_is_short_hex_and_stable() {
        let key = Key::from_bytes([9; KEY_LEN]);
        let fp = key.fingerprint();
        assert_eq!(fp.len(), 16);
        assert!(fp.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(fp, key.clone().fingerprint());
        assert_ne!(fp, Key::from_bytes([8; KEY_LEN]).fingerprint());
        // Domain separated: not a prefix of the plain SHA-256 of the key.
        use sha2::{Digest, Sha256};
        assert_ne!(fp, hex::encode(&Sha256::digest(key.expose())[..8]));
    }
}

mod index {
    use super::*;

    #[test]
    fn ad_is_length_prefixed() {
        assert_eq!(ad(&[b"ab", b""]), [0, 0, 0, 2, b'a', b'b', 0, 0, 0, 0]);
        assert_ne!(ad(&[b"ab", b"c"]), ad(&[b"a", b"bc"]));
        assert_ne!(ad(&[b"abc"]), ad(&[b"abc", b""]));
    }

    #[test]
    fn blind_index_deterministic_per_key() {
        let key = Key::generate();
        assert_eq!(
            blind_index(&key, "email", "a@b.nl"),
            blind_index(&key, "email", "a@b.nl")
        );
        assert_ne!(
            blind_index(&key, "email", "a@b.nl"),
            blind_index(&key, "email", "c@b.nl")
        );
    }

    #[test]
    fn blind_index_differs_between_keys_and_kinds() {
        let k1 = Key::generate();
        let k2 = Key::generate();
        assert_ne!(blind_index(&k1, "email", "a@b.nl"), blind_index(&k2, "email", "a@b.nl"));
        assert_ne!(blind_index(&k1, "email", "a@b.nl"), blind_index(&k1, "id", "a@b.nl"));
        // Boundary between kind and value is unambiguous.
        assert_ne!(blind_index(&k1, "ab", "c"), blind_index(&k1, "a", "bc"));
    }

    #[test]
    fn email_normalisation() {
        assert_eq!(normalize_email("  A@B.nl "), "a@b.nl");
        let key = Key::generate();
        assert_eq!(
            blind_index(&key, "email", &normalize_email("  A@B.nl ")),
            blind_index(&key, "email", &normalize_email("a@b.nl"))
        );
    }

    #[test]
    fn id_normalisation() {
        assert_eq!(normalize_id("  NL-123 \n"), "NL-123");
        assert_eq!(normalize_id("a b"), "a b");
    }

    #[test]
    fn pseudonym_stable_per_key_and_differs_across_keys() {
        let k1 = Key::generate();
        let k2 = Key::generate();
        let p = pseudonym(&k1, "subject", "42");
        assert_eq!(p, pseudonym(&k1, "subject", "42"));
        assert_eq!(p.len(), 3 + 32);
        assert!(p.starts_with("ps_"));
        assert!(p[3..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(p, pseudonym(&k2, "subject", "42"));
        assert_ne!(p, pseudonym(&k1, "subject", "43"));
        assert_ne!(p, pseudonym(&k1, "employee", "42"));
        // Not the blind index under another name.
        assert_ne!(p[3..], hex::encode(&blind_index(&k1, "subject", "42")[..16]));
    }
}

mod keyring {
    use super::*;

    fn line(key: &Key) -> String {
        format!("art28-master-key v1 {}", STANDARD.encode(key.expose()))
    }

    #[test]
    fn parse_to_text_round_trip() {
        let a = Key::generate();
        let b = Key::generate();
        let text = format!("# master keys\n\n{}\n   \n  # old\n{}\n", line(&a), line(&b));
        let ring = Keyring::parse(&text).unwrap();
        assert_eq!(ring.active().id, a.fingerprint());
        assert_eq!(ring.active().key().expose(), a.expose());
        assert_eq!(ring.ids(), vec![a.fingerprint(), b.fingerprint()]);
        assert_eq!(ring.get(&b.fingerprint()).unwrap().key().expose(), b.expose());
        assert!(ring.get("0000000000000000").is_none());

        let out = ring.to_text();
        assert_eq!(*out, format!("{}\n{}\n", line(&a), line(&b)));
        let again = Keyring::parse(&out).unwrap();
        assert_eq!(again.ids(), ring.ids());
        assert_eq!(*again.to_text(), *out);
    }

    #[test]
    fn crlf_lines_parse() {
        let a = Key::generate();
        let ring = Keyring::parse(&format!("{}\r\n", line(&a))).unwrap();
        assert_eq!(ring.ids(), vec![a.fingerprint()]);
    }

    #[test]
    fn rotated_keeps_old_ids() {
        let ring = Keyring::new(MasterKey::new(Key::generate()), vec![MasterKey::new(Key::generate())]);
        let old = ring.ids();
        let rotated = ring.rotated();
        assert_eq!(rotated.ids().len(), 3);
        assert!(!old.contains(&rotated.active().id));
        assert_eq!(rotated.ids()[1..], old[..]);
        for id in &old {
            assert_eq!(
                rotated.get(id).unwrap().key().expose(),
                ring.get(id).unwrap().key().expose()
            );
        }
        // Wraps under the old active key still unwrap after rotation.
        let dek = Key::generate();
        let wrapped = wrap(ring.active().key(), &dek, b"ctx");
        let kek = rotated.get(&ring.active().id).unwrap().key();
        assert_eq!(unwrap(kek, &wrapped, b"ctx").unwrap().expose(), dek.expose());
    }

    #[test]
    fn without_drops_retired_and_refuses_active() {
        let ring = Keyring::new(MasterKey::new(Key::generate()), vec![]).rotated();
        let [active, retired] = <[String; 2]>::try_from(ring.ids()).unwrap();
        let err = ring.without(&active).unwrap_err();
        assert!(matches!(err, CryptoError::Malformed(_)));
        assert!(ring.without("0000000000000000").is_err());
        let smaller = ring.without(&retired).unwrap();
        assert_eq!(smaller.ids(), vec![active]);
        assert!(smaller.get(&retired).is_none());
    }

    #[test]
    fn new_drops_duplicates() {
        let key = Key::generate();
        let ring = Keyring::new(MasterKey::new(key.clone()), vec![MasterKey::new(key)]);
        assert_eq!(ring.ids().len(), 1);
    }

    #[test]
    fn parse_errors_name_the_line_not_the_material() {
        let good = Key::generate();
        let bad = Key::generate();
        let bad_b64 = STANDARD.encode(bad.expose());
        let cases = [
            // Wrong magic, with the key material on the line.
            format!("{}\n\nart28-master-kee v1 {bad_b64}\n", line(&good)),
            // Wrong version.
            format!("{}\n\nart28-master-key v2 {bad_b64}\n", line(&good)),
            // Not base64 (a character is replaced).
            format!("{}\n\nart28-master-key v1 {}!\n", line(&good), &bad_b64[..43]),
            // Wrong length.
            format!(
                "{}\n\nart28-master-key v1 {}\n",
                line(&good),
                STANDARD.encode(&bad.expose()[..31])
            ),
            // Trailing text.
            format!("{}\n\nart28-master-key v1 {bad_b64} {bad_b64}\n", line(&good)),
            // Duplicate.
            format!("{}\n\n{}\n", line(&good), line(&good)),
        ];
        for text in &cases {
            let err = Keyring::parse(text).unwrap_err();
            let CryptoError::Malformed(msg) = &err else {
                panic!("expected Malformed, got {err:?}")
            };
            assert!(msg.contains("line 3"), "{msg}");
            let shown = err.to_string();
            assert_no_material(&shown, &good);
            assert_no_material(&shown, &bad);
            assert!(!shown.contains(&bad_b64[..20]), "{shown}");
        }
        // Missing key and missing version fields.
        for text in ["art28-master-key v1", "art28-master-key"] {
            let err = Keyring::parse(text).unwrap_err().to_string();
            assert!(err.contains("line 1"), "{err}");
        }
        assert!(matches!(
            Keyring::parse("# nothing\n\n"),
            Err(CryptoError::Malformed(_))
        ));
    }

    #[test]
    fn debug_shows_ids_only() {
        let key = Key::from_bytes(*Key::generate().expose());
        assert_eq!(format!("{key:?}"), "Key(..)");
        assert_no_material(&format!("{key:#?}"), &key);

        let master = MasterKey::new(key.clone());
        let shown = format!("{master:?}");
        assert!(shown.contains(&master.id), "{shown}");
        assert_no_material(&shown, &key);
        assert_no_material(&format!("{master:#?}"), &key);

        let old = Key::generate();
        let ring = Keyring::new(master.clone(), vec![MasterKey::new(old.clone())]);
        let shown = format!("{ring:?}");
        assert!(
            shown.contains(&master.id) && shown.contains(&old.fingerprint()),
            "{shown}"
        );
        assert_no_material(&shown, &key);
        assert_no_material(&shown, &old);
        assert_no_material(&format!("{:?}", ring.rotated()), &old);
    }
}
