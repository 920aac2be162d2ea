//! The query behind `GET /pricing/rules` and the console's price rules page: rules from
//! the `pricing` read model, highest priority first, filtered by status and scope.

use chrono::{DateTime, Utc};
use domain::pricing::PriceRuleTerms;
use sqlx::types::Json as SqlJson;
use sqlx::PgPool;

use super::views::RuleView;
use crate::error::ApiError;
use crate::views::Page;
use uuid::Uuid;

pub const STATUSES: &[&str] = &["draft", "scheduled", "active", "expired"];
pub const SCOPES: &[&str] = &["store", "product", "variant", "category", "vendor"];

/// Which rules: by status and scope kind, each checked against what exists.
#[derive(Debug, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub scope: Option<String>,
}

impl Filter {
    /// A 422 naming the field for a status or scope that is none of the known ones.
    pub fn new(status: Option<String>, scope: Option<String>) -> Result<Filter, ApiError> {
        let one_of = |field: &str, value: Option<String>, allowed: &[&str]| match value {
            Some(v) if !allowed.contains(&v.as_str()) => Err(ApiError::invalid_field(
                field,
                format!("must be one of {}", allowed.join(", ")),
            )),
            other => Ok(other),
        };
        Ok(Filter {
            status: one_of("status", status, STATUSES)?,
            scope: one_of("scope", scope, SCOPES)?,
        })
    }
}

type RuleRow = (
    Uuid,
    i32,
    SqlJson<PriceRuleTerms>,
    bool,
    String,
    DateTime<Utc>,
    i64,
);

const WHERE: &str = "($1::text is null or status = $1) and ($2::text is null or scope_kind = $2)";

/// A page of the rules `filter` lets through, with their count.
pub async fn page(
    pool: &PgPool,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<Page<RuleView>, ApiError> {
    let rows: Vec<RuleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select rule_id, version, terms, enabled, status, updated_at, count(*) over ()
           from pricing.price_rules
          where {WHERE}
          order by priority desc, rule_id
          limit $3 offset $4"
    )))
    .bind(&filter.status)
    .bind(&filter.scope)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total = match rows.first() {
        Some(r) => r.6,
        // A page past the end carries no row, and so no count.
        None if offset > 0 => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "select count(*) from pricing.price_rules where {WHERE}"
            )))
            .bind(&filter.status)
            .bind(&filter.scope)
            .fetch_one(pool)
            .await?
        }
        None => 0,
    };
    let items = rows
        .into_iter()
        .map(|(id, version, terms, enabled, status, updated_at, _)| {
            let t = terms.0;
            RuleView {
                id,
                name: t.name,
                version: u32::try_from(version).unwrap_or(0),
                scope: t.scope,
                adjustment: t.adjustment,
                starts_at: t.window.starts_at,
                ends_at: t.window.ends_at,
                priority: t.priority,
                stacks: t.stacks,
                segment: t.segment,
                enabled,
                status,
                updated_at: Some(updated_at),
            }
        })
        .collect();
    Ok(Page {
        items,
        limit,
        offset,
        total,
    })
}
