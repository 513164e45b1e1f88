//! `net::reach`: every special-purpose range refused, in every IPv6 form that carries an IPv4
//! address; known public addresses allowed.

use art28_core::net::{Reach, is_public, reach};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The IPv4 ranges that are not the public internet (loopback among them).
const V4_FORBIDDEN: &[(&str, u32)] = &[
    ("0.0.0.0", 8),
    ("10.0.0.0", 8),
    ("100.64.0.0", 10),
    ("127.0.0.0", 8),
    ("169.254.0.0", 16),
    ("172.16.0.0", 12),
    ("192.0.0.0", 24),
    ("192.0.2.0", 24),
    ("192.88.99.0", 24),
    ("192.168.0.0", 16),
    ("198.18.0.0", 15),
    ("198.51.100.0", 24),
    ("203.0.113.0", 24),
    ("224.0.0.0", 4),
    ("240.0.0.0", 4),
    ("255.255.255.255", 32),
];

const V6_FORBIDDEN: &[(&str, u32)] = &[
    ("::", 128),
    ("::1", 128),
    ("::", 96),
    ("::ffff:0:0:0", 96),
    ("64:ff9b:1::", 48),
    ("100::", 64),
    ("2001::", 23),
    ("2001::", 32),
    ("2001:db8::", 32),
    ("2002::", 16),
    ("3fff::", 20),
    ("5f00::", 16),
    ("fc00::", 7),
    ("fe80::", 10),
    ("fec0::", 10),
    ("ff00::", 8),
    // Outside global unicast.
    ("4000::", 3),
    ("8000::", 1),
];

/// A small deterministic generator (xorshift), so the samples are the same on every run.
struct Samples(u64);

impl Samples {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// The first and last address of each range and 200 in between.
fn v4_samples(net: &str, prefix: u32, rng: &mut Samples) -> Vec<Ipv4Addr> {
    let base = u32::from(net.parse::<Ipv4Addr>().unwrap());
    let host = if prefix == 32 { 0 } else { u32::MAX >> prefix };
    let mut out = vec![base, base | host];
    out.extend((0..200).map(|_| base | (rng.next() as u32 & host)));
    out.into_iter().map(Ipv4Addr::from).collect()
}

fn v6_samples(net: &str, prefix: u32, rng: &mut Samples) -> Vec<Ipv6Addr> {
    let base = u128::from(net.parse::<Ipv6Addr>().unwrap());
    let host = if prefix == 128 { 0 } else { u128::MAX >> prefix };
    let mut out = vec![base, base | host];
    out.extend((0..200).map(|_| {
        let r = (u128::from(rng.next()) << 64) | u128::from(rng.next());
        base | (r & host)
    }));
    out.into_iter().map(Ipv6Addr::from).collect()
}

/// Every IPv6 form that carries `v4`: mapped, IPv4-compatible, translated, NAT64 (well-known
/// and local-use), 6to4, Teredo (server and client address).
fn carrying(v4: Ipv4Addr) -> Vec<Ipv6Addr> {
    let a = u128::from(u32::from(v4));
    let n = u32::from(v4);
    let obfuscated = u128::from(!n);
    vec![
        v4.to_ipv6_mapped(),
        Ipv6Addr::from(a),
        Ipv6Addr::from((0xffffu128 << 32) << 32 | a),
        Ipv6Addr::from((0x0064_ff9bu128 << 96) | a),
        Ipv6Addr::from((0x0064_ff9b_0001u128 << 80) | a),
        Ipv6Addr::from((0x2002u128 << 112) | (a << 80)),
        Ipv6Addr::from((0x2001_0000u128 << 96) | (a << 64)),
        Ipv6Addr::from((0x2001_0000u128 << 96) | obfuscated),
    ]
}

#[test]
fn every_special_purpose_ipv4_address_is_refused_in_every_form() {
    let mut rng = Samples(0x9e37_79b9_7f4a_7c15);
    for (net, prefix) in V4_FORBIDDEN {
        for ip in v4_samples(net, *prefix, &mut rng) {
            assert!(!is_public(IpAddr::V4(ip)), "{ip} in {net}/{prefix}");
            for v6 in carrying(ip) {
                assert!(!is_public(IpAddr::V6(v6)), "{v6} carries {ip} ({net}/{prefix})");
            }
        }
    }
}

#[test]
fn every_special_purpose_ipv6_address_is_refused() {
    let mut rng = Samples(0x2545_f491_4f6c_dd1d);
    for (net, prefix) in V6_FORBIDDEN {
        for ip in v6_samples(net, *prefix, &mut rng) {
            assert!(!is_public(IpAddr::V6(ip)), "{ip} in {net}/{prefix}");
        }
    }
}

#[test]
fn loopback_is_named_as_such_in_its_forms_and_nothing_else_is() {
    for ip in ["127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"] {
        assert_eq!(reach(ip.parse().unwrap()), Reach::Loopback, "{ip}");
    }
    // A translator's or relay's loopback is not this machine's: refused, not loopback.
    for ip in ["64:ff9b::7f00:1", "2002:7f00:1::", "::127.0.0.1", "10.0.0.1", "fe80::1"] {
        assert!(matches!(reach(ip.parse().unwrap()), Reach::Special(_)), "{ip}");
    }
}

#[test]
fn public_addresses_pass_including_their_mapped_and_nat64_forms() {
    for ip in [
        "1.1.1.1",
        "8.8.8.8",
        "9.9.9.9",
        "100.63.255.255",
        "100.128.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.0.1.255",
        "192.169.0.0",
        "198.20.0.0",
        "223.255.255.255",
        "2a00:1450:4001:82b::200e",
        "2606:4700:4700::1111",
        "2001:200::1",
        "2003::1",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ] {
        assert_eq!(reach(ip.parse().unwrap()), Reach::Public, "{ip}");
    }
}

#[test]
fn a_refusal_names_the_range() {
    assert_eq!(
        reach("100.64.0.1".parse().unwrap()),
        Reach::Special("shared address space (100.64.0.0/10)")
    );
    assert_eq!(
        reach("::ffff:10.0.0.1".parse().unwrap()),
        Reach::Special("private network (10.0.0.0/8)")
    );
    assert_eq!(
        reach("2002:a00:1::".parse().unwrap()),
        Reach::Special("6to4 (2002::/16)")
    );
}
