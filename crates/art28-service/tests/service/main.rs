//! Integration tests of art28-service.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code may fail loudly
