//! Integration tests of art28-core: the agreement format through its public API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly

mod agreement;
mod net;
mod schema;
