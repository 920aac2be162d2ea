//! The audit trail's routes under `/api/v1/admin`, their OpenAPI description, and who may
//! read: the trail (search, export, a correlation's timeline) for auditors and admins, as
//! `/audit`; an aggregate's state and a stream's steps for every reader of the event log.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};

use super::aggregate::{self, AggregateState, StateQuery, Step};
use super::diff::FieldChange;
use super::search::{self, TrailQuery};
use super::timeline::{self, ReadModelMark, RequestRecord, Timeline, TimelineEvent};
use super::timeline_export::{timeline_file, ExportQuery};
use crate::audit::{AuditEntry, AuditPage, READERS as AUDITORS};
use crate::auth::AuthUser;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::event_log::READERS;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/audit", get(search_trail))
        .route("/admin/audit/export", get(export_trail))
        .route(
            "/admin/audit/correlations/{correlation_id}",
            get(correlation_timeline),
        )
        .route(
            "/admin/audit/correlations/{correlation_id}/export",
            get(export_timeline),
        )
        .route("/admin/streams/{stream_id}/state", get(aggregate_state))
        .route(
            "/admin/streams/{stream_id}/steps/{revision}",
            get(stream_step),
        )
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        search_trail,
        export_trail,
        correlation_timeline,
        export_timeline,
        aggregate_state,
        stream_step
    ),
    components(schemas(
        AuditEntry, AuditPage, Timeline, TimelineEvent, RequestRecord, ReadModelMark,
        AggregateState, Step, FieldChange
    )),
    tags((name = "audit trail", description = "The audit trail searched and exported, a request's whole trail, and aggregates' states over time"))
)]
pub struct AuditTrailApi;

pub fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
}

/// The audit trail, newest first, by actor, correlation id, event type, resource and time,
/// paged by `limit` and `offset` with the `total` that pass.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    tag = "audit trail",
    params(TrailQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of the trail, newest first", body = AuditPage),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not an auditor or admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` or `offset` out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn search_trail(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<TrailQuery>, QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    user.require(AUDITORS)?;
    Ok(Json(search::search(&state.pool, &query(q)?).await?))
}

/// Every entry of the trail under the same filters as the search (up to 10,000, newest
/// first) as a download: `format=csv` (the default; a header line, then one line per entry,
/// `details` as JSON) or `format=json` (`{items, total, truncated}`).
/// `X-Export-Truncated: true` when more entries passed than the file holds.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit/export",
    tag = "audit trail",
    params(TrailQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`text/csv` or `application/json`, as an attachment", body = String),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not an auditor or admin", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn export_trail(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<TrailQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    user.require(AUDITORS)?;
    search::export(&state.pool, &query(q)?).await
}

/// One request's whole trail: the request as the audit trail recorded it, every event
/// with its correlation id nested under the event that caused it, and for each event the
/// read models that want it, `reached` or not yet.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit/correlations/{correlation_id}",
    tag = "audit trail",
    params(("correlation_id" = uuid::Uuid, Path, description = "The request's or flow's correlation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The flow, from its request to its read models", body = Timeline),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not an auditor or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No event has this correlation id", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn correlation_timeline(
    State(state): State<AppState>,
    user: AuthUser,
    Path(correlation_id): Path<String>,
) -> Result<Json<Timeline>, ApiError> {
    user.require(AUDITORS)?;
    Ok(Json(
        timeline::timeline(&*state.store, &state.pool, &correlation_id).await?,
    ))
}

/// One request's whole trail as a download: `format=csv` (the default; one line per event
/// in the timeline's order, with the read models reached and not yet) or `format=json`
/// (the timeline as `GET .../correlations/{id}` answers it).
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit/correlations/{correlation_id}/export",
    tag = "audit trail",
    params(("correlation_id" = uuid::Uuid, Path, description = "The request's or flow's correlation id"), ExportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`text/csv` or `application/json`, as an attachment", body = String),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not an auditor or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No event has this correlation id", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn export_timeline(
    State(state): State<AppState>,
    user: AuthUser,
    Path(correlation_id): Path<String>,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    user.require(AUDITORS)?;
    let q = query(q)?;
    let t = timeline::timeline(&*state.store, &state.pool, &correlation_id).await?;
    timeline_file(&t, &q)
}

/// An aggregate's state at a version or at a time (the latest without either), folded
/// from its stream with the domain's own rules; sealed personal fields are folded as their
/// erasure placeholders.
#[utoipa::path(
    get,
    path = "/api/v1/admin/streams/{stream_id}/state",
    tag = "audit trail",
    params(("stream_id" = String, Path, description = "The aggregate's stream (`order-<uuid>`)"), StateQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The state as of then", body = AggregateState),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not staff, an admin or an auditor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No stream of this id", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: a malformed version or time, a version past the stream's last, a time before its first event, both given; `not_an_aggregate`: the stream's category has no state", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn aggregate_state(
    State(state): State<AppState>,
    user: AuthUser,
    Path(stream_id): Path<String>,
    q: Result<Query<StateQuery>, QueryRejection>,
) -> Result<Json<AggregateState>, ApiError> {
    user.require(READERS)?;
    Ok(Json(
        aggregate::state_at(&*state.store, &stream_id, &query(q)?).await?,
    ))
}

/// One event of a stream with the aggregate's state before and after it, and every field
/// it added, removed or changed.
#[utoipa::path(
    get,
    path = "/api/v1/admin/streams/{stream_id}/steps/{revision}",
    tag = "audit trail",
    params(
        ("stream_id" = String, Path, description = "The aggregate's stream"),
        ("revision" = u64, Path, description = "The event's revision, from 0"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event and what it changed", body = Step),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not staff, an admin or an auditor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No stream of this id", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A revision that is not a number or past the stream's last; `not_an_aggregate`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn stream_step(
    State(state): State<AppState>,
    user: AuthUser,
    Path((stream_id, revision)): Path<(String, String)>,
) -> Result<Json<Step>, ApiError> {
    user.require(READERS)?;
    Ok(Json(
        aggregate::step(&*state.store, &stream_id, &revision).await?,
    ))
}
