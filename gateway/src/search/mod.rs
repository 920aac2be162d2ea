//! Search (issue 21, ADR 0007): faceted search, suggestions and the search log.
//!
//! - [`results`]: `GET /search`: a page of products and the facets of the whole result.
//! - [`suggestions`]: `GET /search/suggestions`: prefix completion of names, brands and
//!   categories, with a trigram fallback.
//! - [`queries`]: `GET /search/queries` (staff): top and zero-result queries.
//! - [`recorder`]: the searches this gateway answered, counted in memory (in `AppState`).
//! - [`log`]: the task that records the counts as `SearchQueriesRecorded` events.
//!
//! Both reads ask the `SearchIndex` port of `projections::catalog::search_index` (its
//! PostgreSQL adapter today); products are read from the catalog read model.

pub mod log;
pub mod queries;
pub mod recorder;
pub mod results;
pub mod suggestions;

use axum::routing::get;
use axum::Router;
use utoipa::OpenApi;

use crate::state::AppState;

/// Every search route, relative to `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/search", get(results::search))
        .route("/search/suggestions", get(suggestions::suggestions))
        .route("/search/queries", get(queries::queries))
}

#[derive(OpenApi)]
#[openapi(
    paths(results::search, suggestions::suggestions, queries::queries),
    components(schemas(
        results::SearchAnswer,
        results::FacetView,
        results::FacetValueView,
        suggestions::SuggestionsAnswer,
        suggestions::SuggestionView,
        queries::QueryView,
        crate::views::Page<queries::QueryView>
    )),
    tags((name = "search", description = "Faceted search, suggestions, and the search log for staff"))
)]
pub struct SearchApi;
