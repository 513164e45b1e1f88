//! Feed arbitrary bytes to the agreement reader, alone and as a customer deviation on top of
//! an example standard agreement. It must never panic, whatever the input.
#![no_main]

use art28_core::agreement::{Source, check_set, header, parse_one};
use libfuzzer_sys::fuzz_target;

const STANDARD: &str = include_str!("../../examples/agreements/saas-standard.toml");

fuzz_target!(|data: &[u8]| {
    let _ = parse_one("fuzz.toml", data);
    let _ = header(data);
    let _ = check_set(&[Source::new("std.toml", STANDARD), Source::new("fuzz.toml", data.to_vec())]);
});
