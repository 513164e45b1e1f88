//! Where an IP address leads, for connections art28 makes on a customer's behalf (webhooks).
//!
//! A customer names the address; the processor's server makes the connection. Anything but the
//! public internet is refused, so that a customer cannot make the server reach into the
//! processor's own network or machine: the IANA special-purpose registries for IPv4 and IPv6,
//! plus the IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4, Teredo), judged by the
//! IPv4 address they carry where the connection would go there. [`reach`] is the one judgement;
//! callers add only whether loopback is allowed (an operator's setting for a local relay).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where an address leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The public internet.
    Public,
    /// This machine: 127.0.0.0/8, ::1, or an IPv4-mapped loopback address.
    Loopback,
    /// A special-purpose range that is not the public internet, by name.
    Special(&'static str),
}

/// An IPv4 range in the table: the addresses `a` with `a & mask == net`.
struct V4 {
    net: u32,
    mask: u32,
    name: &'static str,
}

/// An IPv6 range in the table: the addresses `a` with `a & mask == net`.
struct V6 {
    net: u128,
    mask: u128,
    name: &'static str,
}

// A prefix of 0 would overflow the shift; in these consts that fails to compile.
const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u32, name: &'static str) -> V4 {
    V4 {
        net: Ipv4Addr::new(a, b, c, d).to_bits(),
        mask: u32::MAX << (32 - prefix),
        name,
    }
}

const fn v6(segments: [u16; 8], prefix: u32, name: &'static str) -> V6 {
    let [a, b, c, d, e, f, g, h] = segments;
    V6 {
        net: Ipv6Addr::new(a, b, c, d, e, f, g, h).to_bits(),
        mask: u128::MAX << (128 - prefix),
        name,
    }
}

/// IPv4 special-purpose ranges (IANA registry, RFC 6890 and successors), most specific first.
/// Loopback (127.0.0.0/8) is judged before the table.
const V4_SPECIAL: &[V4] = &[
    v4(255, 255, 255, 255, 32, "limited broadcast"),
    v4(0, 0, 0, 0, 8, "\"this network\" (0.0.0.0/8)"),
    v4(10, 0, 0, 0, 8, "private network (10.0.0.0/8)"),
    v4(100, 64, 0, 0, 10, "shared address space (100.64.0.0/10)"),
    v4(169, 254, 0, 0, 16, "link-local (169.254.0.0/16)"),
    v4(172, 16, 0, 0, 12, "private network (172.16.0.0/12)"),
    v4(192, 0, 0, 0, 24, "IETF protocol assignments (192.0.0.0/24)"),
    v4(192, 0, 2, 0, 24, "documentation (192.0.2.0/24)"),
    v4(192, 88, 99, 0, 24, "6to4 relay anycast (192.88.99.0/24)"),
    v4(192, 168, 0, 0, 16, "private network (192.168.0.0/16)"),
    v4(198, 18, 0, 0, 15, "benchmarking (198.18.0.0/15)"),
    v4(198, 51, 100, 0, 24, "documentation (198.51.100.0/24)"),
    v4(203, 0, 113, 0, 24, "documentation (203.0.113.0/24)"),
    v4(224, 0, 0, 0, 4, "multicast (224.0.0.0/4)"),
    v4(240, 0, 0, 0, 4, "reserved (240.0.0.0/4)"),
];

/// IPv6 special-purpose ranges, most specific first. `::1`, the IPv4-mapped range and the
/// NAT64 well-known prefix are judged before the table, by the address they carry; anything
/// outside global unicast (2000::/3) is refused after it.
const V6_SPECIAL: &[V6] = &[
    v6([0, 0, 0, 0, 0, 0, 0, 0], 128, "unspecified (::)"),
    v6([0, 0, 0, 0, 0, 0, 0, 0], 96, "IPv4-compatible (::/96, deprecated)"),
    v6([0, 0, 0, 0, 0xffff, 0, 0, 0], 96, "IPv4-translated (::ffff:0:0:0/96)"),
    v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, "local-use NAT64 (64:ff9b:1::/48)"),
    v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "discard-only (100::/64)"),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "Teredo (2001::/32)"),
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "documentation (2001:db8::/32)"),
    v6(
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "IETF protocol assignments (2001::/23)",
    ),
    v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, "6to4 (2002::/16)"),
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "documentation (3fff::/20)"),
    v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16, "segment routing (5f00::/16)"),
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "unique local (fc00::/7)"),
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local (fe80::/10)"),
    v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "site-local (fec0::/10, deprecated)"),
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast (ff00::/8)"),
];

/// Where `ip` leads.
#[must_use]
pub fn reach(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(ip) => reach_v4(ip),
        IpAddr::V6(ip) => reach_v6(ip),
    }
}

/// Whether `ip` is on the public internet (not loopback, not any special-purpose range).
#[must_use]
pub fn is_public(ip: IpAddr) -> bool {
    reach(ip) == Reach::Public
}

fn reach_v4(ip: Ipv4Addr) -> Reach {
    if ip.is_loopback() {
        return Reach::Loopback;
    }
    let bits = ip.to_bits();
    match V4_SPECIAL.iter().find(|r| bits & r.mask == r.net) {
        Some(r) => Reach::Special(r.name),
        None => Reach::Public,
    }
}

fn reach_v6(ip: Ipv6Addr) -> Reach {
    if ip.is_loopback() {
        return Reach::Loopback;
    }
    // ::ffff:a.b.c.d: a socket connects to a.b.c.d itself.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return reach_v4(v4);
    }
    let bits = ip.to_bits();
    // 64:ff9b::a.b.c.d: a NAT64 translator connects to a.b.c.d; only public ones pass (a
    // translator's loopback is not this machine's, and no reason to reach either).
    if bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 {
        let v4 = Ipv4Addr::from(bits as u32);
        return match reach_v4(v4) {
            Reach::Public => Reach::Public,
            Reach::Loopback => Reach::Special("NAT64 of loopback (64:ff9b::/96)"),
            Reach::Special(_) => Reach::Special("NAT64 of a special-purpose IPv4 address (64:ff9b::/96)"),
        };
    }
    if let Some(r) = V6_SPECIAL.iter().find(|r| bits & r.mask == r.net) {
        return Reach::Special(r.name);
    }
    if bits >> 125 != 0b001 {
        return Reach::Special("not global unicast (outside 2000::/3)");
    }
    Reach::Public
}
