//! The `vendors` read model (issue 23): every store with its public page's data (name,
//! slug, description, logo), its status and terms. Contact and payout details never come
//! here: they are personal, sealed in the log and read by the owner and staff from the
//! write side. Every value comes from the event, so a rebuild equals the live build.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::store::RecordedEvent;
use domain::vendors::{CommissionRule, Vendor, VendorEvent};
use domain::Aggregate;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::projection::{decode, Projection, ProjectionError};

pub struct VendorsProjection;

#[async_trait]
impl Projection for VendorsProjection {
    fn name(&self) -> &'static str {
        "vendors"
    }

    fn schema(&self) -> &'static str {
        "vendors"
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.category() == Vendor::CATEGORY
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/vendors.sql")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(id) = event.stream_uuid() else {
            return Ok(());
        };
        match decode::<VendorEvent>(event)? {
            VendorEvent::VendorApplied {
                owner_id,
                store_name,
                slug,
                description,
                logo_url,
                at,
                ..
            } => {
                sqlx::query(
                    "insert into vendors (vendor_id, owner_id, store_name, slug, description,
                         logo_url, status, applied_at, updated_at)
                     values ($1, $2, $3, $4, $5, $6, 'pending', $7, $7)
                     on conflict (vendor_id) do nothing",
                )
                .bind(id)
                .bind(owner_id.as_uuid())
                .bind(&store_name)
                .bind(slug.as_str())
                .bind(&description)
                .bind(&logo_url)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            VendorEvent::VendorApproved { at, .. } | VendorEvent::VendorReinstated { at, .. } => {
                status(tx, id, "approved", None, at).await?;
            }
            VendorEvent::VendorRejected { reason, at } => {
                status(tx, id, "rejected", Some(reason), at).await?;
            }
            VendorEvent::VendorSuspended { reason, at } => {
                status(tx, id, "suspended", Some(reason), at).await?;
            }
            VendorEvent::VendorTermsChanged {
                commission_bp,
                trusted,
                at,
            } => {
                // A changed rate is a plain-percent rule of the store's own, a new version
                // (as the aggregate's `evolve` counts it).
                let rule = commission_bp.map(CommissionRule::percent);
                sqlx::query(
                    "update vendors set
                         commission_rule = case when commission_bp is distinct from $2
                                                then $5 else commission_rule end,
                         commission_version = commission_version
                             + case when commission_bp is distinct from $2 then 1 else 0 end,
                         commission_bp = $2, trusted = $3, updated_at = $4
                      where vendor_id = $1",
                )
                .bind(id)
                .bind(commission_bp.map(|c| c as i32))
                .bind(trusted)
                .bind(at)
                .bind(rule.map(sqlx::types::Json))
                .execute(&mut *tx)
                .await?;
            }
            VendorEvent::VendorCommissionChanged { rule, version, at } => {
                sqlx::query(
                    "update vendors set commission_rule = $2, commission_version = $3,
                         commission_bp = $4, updated_at = $5
                      where vendor_id = $1",
                )
                .bind(id)
                .bind(rule.map(sqlx::types::Json))
                .bind(version as i32)
                .bind(rule.map(|r| r.percent_bp as i32))
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
        }
        Ok(())
    }
}

async fn status(
    tx: &mut PgConnection,
    id: Uuid,
    status: &str,
    reason: Option<String>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update vendors set status = $2, status_reason = $3, updated_at = $4,
             approved_at = case when $2 = 'approved' then coalesce(approved_at, $4)
                                else approved_at end
          where vendor_id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(reason)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
