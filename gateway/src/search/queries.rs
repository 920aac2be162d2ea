//! `GET /api/v1/search/queries` (staff): what shoppers searched for most, or most often
//! without a result, from the `search` read model (ADR 0007). Counts arrive once a
//! gateway's search log records its interval (`SEARCH_LOG_INTERVAL`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{AuthUser, STAFF};
use crate::catalog::params::{params, Check};
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::Page;

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct QueriesParams {
    /// `top` (the most searched, the default) or `zero_results` (the most searched
    /// without a result).
    kind: Option<String>,
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// One normalised query and its counts since the log began.
#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct QueryView {
    pub query: String,
    pub searches: i64,
    pub zero_result_searches: i64,
    /// Results of its last search recorded.
    pub last_results: i64,
    pub first_searched_at: DateTime<Utc>,
    pub last_searched_at: DateTime<Utc>,
    #[serde(skip)]
    #[schema(ignore)]
    pub total: i64,
}

/// Top queries, or those that found nothing (staff).
#[utoipa::path(
    get,
    path = "/api/v1/search/queries",
    tag = "search",
    security(("bearer" = [])),
    params(QueriesParams, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the search read model covers this position")),
    responses(
        (status = 200, description = "A page of queries, most searched first", body = Page<QueryView>),
        (status = 400, description = "`invalid_query`: a bad `kind`, `limit` or `offset`; `errors` names it", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 503, response = problem::ProjectionLag),
    )
)]
pub async fn queries(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<Page<QueryView>>, ApiError> {
    user.require(STAFF)?;
    let p = params(query, &["kind", "limit", "offset"])?;
    let mut c = Check::default();
    let (limit, offset) = c.page(&p);
    let zero = match p.get("kind").map(String::as_str) {
        None | Some("top") => false,
        Some("zero_results") => true,
        Some(_) => {
            c.fail("kind", "one of top, zero_results");
            false
        }
    };
    c.done()?;
    caught_up(&state, &headers, "search").await?;
    let sql = if zero {
        "select *, count(*) over () as total from search.queries
          where zero_result_searches > 0
          order by zero_result_searches desc, query limit $1 offset $2"
    } else {
        "select *, count(*) over () as total from search.queries
          order by searches desc, query limit $1 offset $2"
    };
    let items: Vec<QueryView> = sqlx::query_as(sql)
        .bind(limit)
        .bind(offset)
        .fetch_all(&state.pool)
        .await?;
    let total = items.first().map_or(0, |q| q.total);
    Ok(Json(Page {
        items,
        limit,
        offset,
        total,
    }))
}
