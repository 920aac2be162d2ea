//! `GET /api/v1/search/suggestions`: what a shopper's first letters complete to, from
//! product names, brands and category names (ADR 0007): one range of an index on the
//! lower-cased terms, heaviest first; the most similar terms (trigrams) only when nothing
//! starts so. Answers go through the catalog's answer cache.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use projections::catalog::search_index::{PgSearchIndex, SearchIndex};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::catalog::cache::cached;
use crate::catalog::params::{params, Check};
use crate::error::ApiError;
use crate::state::AppState;

/// The longest prefix, in characters.
pub const MAX_PREFIX: usize = 100;
pub const DEFAULT_SUGGESTIONS: i64 = 8;
pub const MAX_SUGGESTIONS: i64 = 20;

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SuggestionParams {
    /// What the shopper typed so far: 1 to 100 characters, case does not matter.
    q: String,
    /// 1 to 20, default 8.
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionsAnswer {
    /// The prefix as matched (trimmed, lower-cased).
    pub q: String,
    pub items: Vec<SuggestionView>,
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionView {
    pub term: String,
    /// `product`, `brand` or `category`.
    pub kind: String,
    /// Products on sale behind the term (1 for a product's name).
    pub weight: i32,
}

/// Completions of `q`: product names, brands, category names.
#[utoipa::path(
    get,
    path = "/api/v1/search/suggestions",
    tag = "search",
    params(SuggestionParams),
    responses(
        (status = 200, description = "Terms starting with `q`, heaviest first; when none does, the most similar", body = SuggestionsAnswer),
        (status = 400, description = "`invalid_query`: `q` missing, blank or too long, or a bad `limit`; `errors` names it", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, response = crate::error::responses::ProjectionLag),
    )
)]
pub async fn suggestions(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = params(query, &["q", "limit"])?;
    let mut c = Check::default();
    let q = match p.get("q").map(|q| q.trim().to_lowercase()) {
        None => {
            c.fail("q", "is required");
            String::new()
        }
        Some(q) if q.is_empty() || q.chars().count() > MAX_PREFIX => {
            c.fail("q", format!("must be 1 to {MAX_PREFIX} characters"));
            q
        }
        Some(q) => q,
    };
    let limit = c
        .int(&p, "limit", 1..=MAX_SUGGESTIONS)
        .unwrap_or(DEFAULT_SUGGESTIONS);
    c.done()?;
    let key = format!("suggest|{limit}|{q}");
    let pool = state.pool.clone();
    cached(&state, &headers, key, move || async move {
        let found = PgSearchIndex::new(pool)
            .suggest(&q, limit)
            .await
            .map_err(ApiError::internal)?;
        Ok(SuggestionsAnswer {
            q,
            items: found
                .into_iter()
                .map(|s| SuggestionView {
                    term: s.term,
                    kind: s.kind,
                    weight: s.weight,
                })
                .collect(),
        })
    })
    .await
}
