//! Integration tests of art28-core: the agreement format through its public API.

mod agreement;
mod schema;
