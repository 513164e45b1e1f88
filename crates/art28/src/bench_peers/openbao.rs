//! The OpenBao peer: a server with file storage and a file audit device, transit keys per
//! data subject. (To be built.)

use super::Sizes;
use std::path::Path;

/// `{"figures": Figures, "version": …, "settings": {…}}`, or `{"skipped": why}` when the
/// `bao` binary is not installed.
pub(crate) async fn peer(_dir: &Path, _sizes: Sizes, _show: bool) -> Result<serde_json::Value, String> {
    Ok(serde_json::json!({ "skipped": "not built yet" }))
}
