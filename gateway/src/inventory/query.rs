//! The paging of the inventory's lists, read as strictly as the catalog reads its own: an
//! unknown parameter, or a `limit` or `offset` out of range, answers 400 `invalid_query`
//! naming it (docs/api.md, "Lists").

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use serde::Deserialize;

use crate::error::{ApiError, FieldError};

/// `?limit=&offset=` and nothing else.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    /// 0 or more, default 0.
    pub offset: Option<i64>,
}

/// The `(limit, offset)` of a list's query string.
pub fn page(query: Result<Query<PageQuery>, QueryRejection>) -> Result<(i64, i64), ApiError> {
    let Query(q) = query.map_err(|e| ApiError::invalid_query("query", e.body_text()))?;
    let mut errors = Vec::new();
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        errors.push(FieldError::new(
            "limit",
            "must be a whole number from 1 to 100",
        ));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        errors.push(FieldError::new("offset", "must not be negative"));
    }
    if errors.is_empty() {
        Ok((limit, offset))
    } else {
        Err(ApiError::InvalidQuery(errors))
    }
}
