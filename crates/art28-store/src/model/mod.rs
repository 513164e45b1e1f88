//! The records the store keeps, one module per aggregate. They are plain data: no SQL, no
//! rules; every backend reads and writes the same types.

pub mod accounts;
pub mod agreements;
pub mod incidents;
pub mod log;
pub mod staff_access;
pub mod subprocessors;
pub mod vault;

pub use accounts::*;
pub use agreements::*;
pub use incidents::*;
pub use log::*;
pub use staff_access::*;
pub use subprocessors::*;
pub use vault::*;
