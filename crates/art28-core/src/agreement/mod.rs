//! Processor agreements as data (R1): the model, reading files with precise diagnostics,
//! and the rules they must meet.

mod load;
mod model;
mod path;
mod succession;
mod validate;

pub use load::{Checked, Diagnostic, Header, MAX_BYTES, Source, check_set, header, parse_one};
pub use model::*;
pub use path::{Path, Seg};
pub use succession::{Latest, check_succession};
pub use validate::{Finding, validate};

/// The JSON Schema of the agreement format, as kept in `docs/agreement.schema.json`.
pub fn json_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<ProcessorAgreement>();
    schema.to_value()
}
