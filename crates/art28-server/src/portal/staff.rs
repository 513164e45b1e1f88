//! The pages of the processor's staff.

use super::pages::when;
use super::{Page, PageError, St, Viewer};
use serde::Serialize;

#[derive(Debug, Serialize)]
struct CustomersView {
    customers: Vec<CustomerRow>,
}

#[derive(Debug, Serialize)]
struct CustomerRow {
    id: String,
    name: String,
    language: &'static str,
    status: String,
    since: String,
}

/// `/staff`: the customers the viewer may see.
pub(crate) async fn customers(viewer: Viewer, state: St) -> Result<Page, PageError> {
    let list = state
        .agreements
        .customers(&viewer.caller.principal)
        .await
        .map_err(|e| viewer.failed(e))?;
    let view = CustomersView {
        customers: list
            .iter()
            .map(|c| CustomerRow {
                id: c.id.to_string(),
                name: c.name.clone(),
                language: c.language.tag(),
                status: format!("{:?}", c.status).to_lowercase(),
                since: when(c.created_at),
            })
            .collect(),
    };
    viewer.page("staff_customers.html", None, view)
}
