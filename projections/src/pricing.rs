//! The `pricing` read model (issue 24): `price_rules`, one row per rule as it stands, for
//! staff's list, the scheduler's due rules and the engine's live rules.
//!
//! Each event is folded into the row with the aggregate's own `evolve` (the row is read
//! back into a `PriceRuleState` first), so the status a row shows is the one the write
//! side decides by.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::store::RecordedEvent;
use domain::id::PriceRuleId;
use domain::pricing::{
    Adjustment, PriceRule, PriceRuleEvent, PriceRuleState, PriceRuleTerms, Rule, RuleStatus, Scope,
    Segment,
};
use domain::Aggregate;
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::runtime::projection::{decode, wire_name, Projection, ProjectionError};

pub struct PricingProjection;

type Row = (Uuid, i32, Json<PriceRuleTerms>, bool, String, DateTime<Utc>);

async fn load(
    tx: &mut PgConnection,
    id: Uuid,
) -> Result<Option<(PriceRuleState, DateTime<Utc>)>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "select rule_id, version, terms, enabled, status, created_at
           from price_rules where rule_id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(
        row.map(|(id, version, terms, enabled, status, created_at)| {
            let status = serde_json::from_value(serde_json::Value::String(status))
                .unwrap_or(RuleStatus::Draft);
            let state = PriceRuleState {
                rule: Some(Rule {
                    id: PriceRuleId::new(id),
                    version: u32::try_from(version).unwrap_or(0),
                    terms: terms.0,
                    enabled,
                }),
                status,
                updated_at: None,
            };
            (state, created_at)
        }),
    )
}

/// A scope as the `scope_kind` and `scope_id` columns hold it (here and in `price_history`).
pub(crate) fn scope_columns(scope: &Scope) -> (&'static str, Option<Uuid>) {
    match scope {
        Scope::Store => ("store", None),
        Scope::Product { product_id } => ("product", Some(product_id.as_uuid())),
        Scope::Variant { variant_id } => ("variant", Some(variant_id.as_uuid())),
        Scope::Category { category_id } => ("category", Some(category_id.as_uuid())),
        Scope::Vendor { vendor_id } => ("vendor", Some(vendor_id.as_uuid())),
    }
}

fn adjustment_kind(a: &Adjustment) -> &'static str {
    match a {
        Adjustment::PercentOff { .. } => "percent_off",
        Adjustment::AmountOff { .. } => "amount_off",
        Adjustment::SetPrice { .. } => "set_price",
        Adjustment::Tiered { .. } => "tiered",
        Adjustment::BuyXGetY { .. } => "buy_x_get_y",
    }
}

fn segment_name(s: &Segment) -> String {
    match s {
        Segment::All => "all".into(),
        Segment::NewCustomers => "new_customers".into(),
        Segment::Rfm { name } => format!("rfm:{name}"),
    }
}

async fn save(
    tx: &mut PgConnection,
    state: &PriceRuleState,
    created_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let Some(rule) = &state.rule else {
        return Ok(());
    };
    let terms = &rule.terms;
    let (scope_kind, scope_id) = scope_columns(&terms.scope);
    sqlx::query(
        "insert into price_rules as t (rule_id, name, version, terms, scope_kind, scope_id,
             adjustment_kind, priority, stacks, segment, starts_at, ends_at, enabled, status,
             created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         on conflict (rule_id) do update set
             name = excluded.name, version = excluded.version, terms = excluded.terms,
             scope_kind = excluded.scope_kind, scope_id = excluded.scope_id,
             adjustment_kind = excluded.adjustment_kind, priority = excluded.priority,
             stacks = excluded.stacks, segment = excluded.segment,
             starts_at = excluded.starts_at, ends_at = excluded.ends_at,
             enabled = excluded.enabled, status = excluded.status,
             updated_at = excluded.updated_at",
    )
    .bind(rule.id.as_uuid())
    .bind(&terms.name)
    .bind(i32::try_from(rule.version).unwrap_or(i32::MAX))
    .bind(Json(terms))
    .bind(scope_kind)
    .bind(scope_id)
    .bind(adjustment_kind(&terms.adjustment))
    .bind(terms.priority)
    .bind(terms.stacks)
    .bind(segment_name(&terms.segment))
    .bind(terms.window.starts_at)
    .bind(terms.window.ends_at)
    .bind(rule.enabled)
    .bind(wire_name(&state.status))
    .bind(created_at)
    .bind(state.updated_at.unwrap_or(created_at))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[async_trait]
impl Projection for PricingProjection {
    fn name(&self) -> &'static str {
        "pricing"
    }

    fn schema(&self) -> &'static str {
        "pricing"
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/pricing.sql")
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.category() == PriceRule::CATEGORY
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let decoded = decode::<PriceRuleEvent>(event)?;
        let Some(id) = event
            .stream_id
            .strip_prefix("price_rule-")
            .and_then(|id| id.parse::<Uuid>().ok())
        else {
            return Ok(());
        };
        let (state, created_at) = match (&decoded, load(tx, id).await?) {
            (PriceRuleEvent::PriceRuleCreated { at, .. }, None) => (PriceRuleState::default(), *at),
            (_, Some(found)) => found,
            // An event of a rule whose creation this read model never saw: nothing to fold.
            (_, None) => return Ok(()),
        };
        let state = PriceRule::evolve(state, &decoded);
        save(tx, &state, created_at).await?;
        Ok(())
    }
}
