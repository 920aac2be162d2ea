//! The `pc_builder` read model (issue 24): the catalog's products with the attributes the
//! compatibility rules read, indexed by slot (`parts`), and the builds with their parts
//! (`builds`, `build_components`). `GET /pc-builder/compatible` reads the parts of one
//! slot on sale with one indexed query and keeps those the pure `fits` accepts; a build's
//! compatibility is the pure `check` over the rows of its parts.
//!
//! Every product has a row, part or not: `ProductUpdated` carries only what changed, so
//! a product that becomes a part (gains a `pc_slot` attribute) needs its name and price
//! from the row. Variants are not parts: a build names products.

use async_trait::async_trait;
use commands::store::RecordedEvent;
use domain::catalog::{Product, ProductEvent, ProductStatus};
use domain::pc_builder::{part_slot, PcBuild, PcBuildEvent};
use domain::Aggregate;
use serde_json::{Map, Value};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::projection::{decode, event_time, Projection, ProjectionError};

pub struct PcBuilderProjection;

fn key(event: &RecordedEvent) -> Option<Uuid> {
    event.stream_key().parse().ok()
}

fn slot_of(attributes: &Map<String, Value>) -> Option<&'static str> {
    part_slot(attributes).map(|s| s.as_str())
}

async fn set_status(
    tx: &mut PgConnection,
    id: Uuid,
    status: ProductStatus,
    event: &RecordedEvent,
) -> Result<(), sqlx::Error> {
    sqlx::query("update parts set status = $2, updated_at = $3 where product_id = $1")
        .bind(id)
        .bind(status.as_str())
        .bind(event_time(event))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn apply_product(
    tx: &mut PgConnection,
    id: Uuid,
    event: &RecordedEvent,
) -> Result<(), ProjectionError> {
    match decode::<ProductEvent>(event)? {
        ProductEvent::ProductCreated {
            sku,
            name,
            price,
            attributes,
            at,
            ..
        } => {
            sqlx::query(
                "insert into parts (product_id, slot, sku, name, price_amount, currency, status,
                     attributes, updated_at)
                 values ($1, $2, $3, $4, $5, $6, 'draft', $7, $8)
                 on conflict (product_id) do nothing",
            )
            .bind(id)
            .bind(slot_of(&attributes))
            .bind(sku.as_str())
            .bind(name)
            .bind(price.amount)
            .bind(price.currency.as_str())
            .bind(Json(&attributes))
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        ProductEvent::ProductUpdated {
            name,
            attributes,
            at,
            ..
        } => {
            let slot = attributes.as_ref().map(slot_of);
            sqlx::query(
                "update parts set name = coalesce($2, name),
                     attributes = coalesce($3, attributes),
                     slot = case when $4 then $5 else slot end,
                     updated_at = $6
                 where product_id = $1",
            )
            .bind(id)
            .bind(name)
            .bind(attributes.as_ref().map(Json))
            .bind(slot.is_some())
            .bind(slot.flatten())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        ProductEvent::ProductPriceChanged { to, at, .. } => {
            sqlx::query(
                "update parts set price_amount = $2, currency = $3, updated_at = $4
                 where product_id = $1",
            )
            .bind(id)
            .bind(to.amount)
            .bind(to.currency.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        ProductEvent::ProductPublished { .. } => {
            set_status(tx, id, ProductStatus::Active, event).await?
        }
        ProductEvent::ProductArchived { .. } => {
            set_status(tx, id, ProductStatus::Archived, event).await?
        }
        ProductEvent::ProductUnpublished { .. }
        | ProductEvent::ProductSubmissionRejected { .. } => {
            set_status(tx, id, ProductStatus::Draft, event).await?
        }
        ProductEvent::ProductSubmittedForReview { .. } => {
            set_status(tx, id, ProductStatus::PendingReview, event).await?
        }
        _ => {}
    }
    Ok(())
}

async fn apply_build(
    tx: &mut PgConnection,
    id: Uuid,
    event: &RecordedEvent,
) -> Result<(), ProjectionError> {
    match decode::<PcBuildEvent>(event)? {
        PcBuildEvent::PcBuildCreated {
            owner, name, at, ..
        } => {
            sqlx::query(
                "insert into builds (build_id, owner_id, name, shared, created_at, updated_at)
                 values ($1, $2, $3, false, $4, $4)
                 on conflict (build_id) do nothing",
            )
            .bind(id)
            .bind(owner.map(|o| o.as_uuid()))
            .bind(name)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        PcBuildEvent::PcBuildComponentsSet { components, at } => {
            sqlx::query("delete from build_components where build_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "insert into build_components (build_id, slot, product_id, quantity)
                 select $1::uuid, s, p, q from unnest($2::text[], $3::uuid[], $4::int[]) as u(s, p, q)",
            )
            .bind(id)
            .bind(components.iter().map(|c| c.slot.as_str()).collect::<Vec<_>>())
            .bind(
                components
                    .iter()
                    .map(|c| c.product_id.as_uuid())
                    .collect::<Vec<_>>(),
            )
            .bind(
                components
                    .iter()
                    .map(|c| i32::try_from(c.quantity).unwrap_or(i32::MAX))
                    .collect::<Vec<_>>(),
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query("update builds set updated_at = $2 where build_id = $1")
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        PcBuildEvent::PcBuildShared { at, .. } => {
            sqlx::query("update builds set shared = true, updated_at = $2 where build_id = $1")
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
    }
    Ok(())
}

#[async_trait]
impl Projection for PcBuilderProjection {
    fn name(&self) -> &'static str {
        "pc_builder"
    }

    fn schema(&self) -> &'static str {
        "pc_builder"
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/pc_builder.sql")
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        let category = event.category();
        category == Product::CATEGORY || category == PcBuild::CATEGORY
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(id) = key(event) else {
            return Ok(());
        };
        if event.category() == Product::CATEGORY {
            apply_product(tx, id, event).await
        } else if event.category() == PcBuild::CATEGORY {
            apply_build(tx, id, event).await
        } else {
            Ok(())
        }
    }
}
