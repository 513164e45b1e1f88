//! The PostgreSQL peer: a throwaway cluster from Debian's packages with pgcrypto, in three
//! variants of audit trail. (To be built.)

use super::Sizes;
use std::path::Path;

/// `{"variants": {"a_audit_row": Figures, "b_pgaudit": Figures, "c_no_audit": Figures},
/// "version": …, "settings": {…}}`, or `{"skipped": why}` when PostgreSQL is not installed.
pub(crate) async fn peer(_dir: &Path, _sizes: Sizes, _show: bool) -> Result<serde_json::Value, String> {
    Ok(serde_json::json!({ "skipped": "not built yet" }))
}
