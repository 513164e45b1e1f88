//! The one deadlines view (the register pattern's item 6): every term that runs, from every
//! register, overdue first.
//!
//! [`Deadlines`] is the view's door. It asks each register for its terms (the incident
//! register's first notices, the sub-processor register's list requests and objections; later
//! registers add theirs here), states them at the
//! service's clock and orders them with [`art28_core::deadline::order`].
//!
//! Judged as every door: `deadline.read`, which needs `incidents_read` while breach notices
//! are the only terms. Staff holding it across the processor see every customer's deadlines;
//! like the other staff reads across a register this concerns no one customer and leaves no
//! entry. A customer's accounts see their own customer's deadlines (or, asking for one
//! customer, that customer's): each customer whose deadlines are read gets exactly one entry in
//! its access log (`deadline.read` on `deadlines`), before the data leaves; a refusal for an
//! existing customer is logged there with its rule. Asking for another customer is refused as
//! asking for one that does not exist is (`tenant_mismatch`, judged before anything is read).

use crate::clock::Clock;
use crate::incidents::{Fail, Incidents};
use art28_core::Result;
use art28_core::auth::Principal;
use art28_core::deadline::{self, Deadline, DeadlineState};
use art28_core::ids::CustomerId;
use art28_core::operation::Operation;
use jiff::Timestamp;
use std::sync::Arc;

/// The resource a read of the view names in the access log.
pub const RESOURCE: &str = "deadlines";

/// The deadlines view's door, over the registers that have terms.
pub struct Deadlines {
    incidents: Arc<Incidents>,
    subprocessors: Arc<crate::subprocessors::Subprocessors>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Deadlines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deadlines").finish_non_exhaustive()
    }
}

/// Which deadlines a caller asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this customer's (staff: any customer; a customer's account: its own).
    pub customer: Option<CustomerId>,
    /// Only deadlines in this state.
    pub state: Option<DeadlineState>,
}

impl Deadlines {
    /// The view over the registers, stated at `clock`.
    pub fn new(
        incidents: Arc<Incidents>,
        subprocessors: Arc<crate::subprocessors::Subprocessors>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            incidents,
            subprocessors,
            clock,
        }
    }

    /// Every register's terms, of one customer or all, stated at `now`.
    async fn terms(&self, tenant: Option<&CustomerId>, now: Timestamp) -> Result<Vec<Deadline>> {
        let mut all = self.incidents.view_deadlines(tenant, now).await?;
        all.extend(self.subprocessors.view_deadlines(tenant, now).await?);
        Ok(all)
    }

    /// Now, by the service's clock (the moment states are computed at).
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Every deadline the caller may see, filtered, in the view's order, with the moment its
    /// states were computed at (for a feed's time stamp).
    pub async fn deadlines(
        &self,
        ctx: &crate::access::RequestContext,
        who: &Principal,
        filter: &Filter,
    ) -> Result<(Timestamp, Vec<Deadline>)> {
        let op = Operation::DeadlineRead;
        let now = self.now();
        let mut out = match (&filter.customer, op.authorize(who, None)) {
            (Some(c), _) => self.of_customer(ctx, who, c, now).await?,
            (None, Ok(())) => self.terms(None, now).await?,
            (None, Err(refused)) => {
                // A customer's accounts: each of its customers the permission is held for.
                let (own, others): (Vec<&CustomerId>, Vec<&CustomerId>) = who
                    .customers()
                    .into_iter()
                    .partition(|c| op.authorize(who, Some(c)).is_ok());
                if own.is_empty() {
                    // Refused for every customer it acts for: one entry in each one's log.
                    let mut answer = refused;
                    for (i, c) in others.into_iter().enumerate() {
                        let step = op.authorize(who, Some(c)).map_err(Fail::Refused);
                        if let Err(e) = self.incidents.door(ctx, c, op, RESOURCE, step).await
                            && i == 0
                        {
                            answer = e;
                        }
                    }
                    return Err(answer);
                }
                let mut all = Vec::new();
                for c in own {
                    all.extend(self.of_customer(ctx, who, c, now).await?);
                }
                all
            }
        };
        if let Some(s) = filter.state {
            out.retain(|d| d.state == s);
        }
        deadline::order(&mut out);
        Ok((now, out))
    }

    /// One customer's deadlines, judged for it and logged in its log (one entry).
    async fn of_customer(
        &self,
        ctx: &crate::access::RequestContext,
        who: &Principal,
        c: &CustomerId,
        now: Timestamp,
    ) -> Result<Vec<Deadline>> {
        let op = Operation::DeadlineRead;
        let incidents = self.incidents.as_ref();
        let step = async {
            incidents.judge(who, c, op).await?;
            let mine = self.terms(Some(c), now).await?;
            incidents.log_read(ctx, c, op, RESOURCE).await?;
            Ok(mine)
        }
        .await;
        incidents.door(ctx, c, op, RESOURCE, step).await
    }
}
