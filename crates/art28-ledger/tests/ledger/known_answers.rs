//! Published known answers: the RFC 6962 reference vectors (Certificate Transparency,
//! transparency-dev/merkle `reference_test.go`) and the Go `sumdb/note` example key and note.

use crate::common::unhex;
use art28_ledger::{
    LogSigner, LogVerifier, MemoryTree, consistency_proof, empty_root, inclusion_proof, verify_consistency,
    verify_inclusion,
};

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// MTH(D[n]) for n = 1..=8.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (size, index, proof)
const INCLUSION: &[(u64, u64, &[&str])] = &[
    (1, 0, &[]),
    (
        2,
        0,
        &["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
    ),
    (
        2,
        1,
        &["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
    ),
    (
        3,
        2,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        5,
        1,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        8,
        0,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        8,
        5,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

/// (old size, new size, proof)
const CONSISTENCY: &[(u64, u64, &[&str])] = &[
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn reference_tree() -> MemoryTree {
    MemoryTree::from_entries(LEAVES.iter().map(|l| hex::decode(l).unwrap()))
}

#[test]
fn empty_root_is_sha256_of_nothing() {
    assert_eq!(
        empty_root(),
        unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(MemoryTree::new().root(), empty_root());
}

#[test]
fn rfc6962_roots() {
    let tree = reference_tree();
    for (i, want) in ROOTS.iter().enumerate() {
        assert_eq!(tree.root_at(i as u64 + 1).unwrap(), unhex(want), "size {}", i + 1);
    }
}

#[test]
fn rfc6962_inclusion_proofs() {
    let tree = reference_tree();
    for (size, index, want) in INCLUSION {
        let want: Vec<_> = want.iter().map(|h| unhex(h)).collect();
        let got = inclusion_proof(*index, *size, &tree).unwrap();
        assert_eq!(got, want, "size {size} index {index}");
        let leaf = art28_ledger::leaf_hash(&hex::decode(LEAVES[*index as usize]).unwrap());
        verify_inclusion(&leaf, *index, *size, &want, &tree.root_at(*size).unwrap()).unwrap();
    }
}

#[test]
fn rfc6962_consistency_proofs() {
    let tree = reference_tree();
    for (old, new, want) in CONSISTENCY {
        let want: Vec<_> = want.iter().map(|h| unhex(h)).collect();
        assert_eq!(consistency_proof(*old, *new, &tree).unwrap(), want, "{old} -> {new}");
        verify_consistency(
            *old,
            *new,
            &tree.root_at(*old).unwrap(),
            &tree.root_at(*new).unwrap(),
            &want,
        )
        .unwrap();
    }
}

const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_SKEY_B64: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_TEXT: &str =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

fn go_signer() -> LogSigner {
    use base64::Engine as _;
    let sk = base64::engine::general_purpose::STANDARD.decode(GO_SKEY_B64).unwrap();
    assert_eq!(sk[0], 0x01);
    LogSigner::from_bytes("PeterNeumann", &sk[1..].try_into().unwrap()).unwrap()
}

#[test]
fn go_note_key_and_signature_byte_for_byte() {
    let signer = go_signer();
    assert_eq!(signer.verifier().to_vkey(), GO_VKEY);
    let note = signer.sign_text(GO_TEXT).unwrap();
    assert_eq!(note, format!("{GO_TEXT}\n{GO_SIG}"));

    let verifier: LogVerifier = GO_VKEY.parse().unwrap();
    assert_eq!(verifier, signer.verifier());
    assert_eq!(verifier.open(&note).unwrap(), GO_TEXT);
    // The text is not a checkpoint, so `verify` refuses it after the signature checks out.
    assert!(matches!(
        verifier.verify(&note),
        Err(art28_ledger::CheckpointError::MalformedCheckpoint(_))
    ));
    let changed = note.replace("cryptography", "cryptographY");
    assert!(matches!(
        verifier.open(&changed),
        Err(art28_ledger::CheckpointError::BadSignature { .. })
    ));
}

/// Go's `TestNewVerifier`: every proper substring of the key and every one-byte change is
/// refused.
#[test]
fn go_verifier_key_manglings_are_refused() {
    let b = GO_VKEY.as_bytes();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            let k = String::from_utf8_lossy(&b[i..j]);
            assert!(k.parse::<LogVerifier>().is_err(), "accepted {k:?}");
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] = m[i].wrapping_add(1);
        let k = String::from_utf8_lossy(&m);
        assert!(k.parse::<LogVerifier>().is_err(), "accepted {k:?}");
    }
}
