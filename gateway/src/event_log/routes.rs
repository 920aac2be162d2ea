//! `/api/v1/admin/streams`, `/api/v1/admin/streams/{stream_id}` and
//! `/api/v1/admin/events`: the event log for staff, admins and auditors.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use domain::user::Role;

use super::queries::{self, EventsQuery, StreamQuery, StreamsQuery};
use super::views::{EventPage, EventView, StreamEvents, StreamPage, StreamSummary};
use crate::auth::AuthUser;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Who reads the event log: those who run the shop, and those who audit it.
pub const READERS: &[Role] = &[Role::Staff, Role::Admin, Role::Auditor];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/streams", get(list_streams))
        .route("/admin/streams/{stream_id}", get(read_stream))
        .route("/admin/events", get(list_events))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_streams, read_stream, list_events),
    components(schemas(StreamSummary, StreamPage, EventView, EventPage, StreamEvents)),
    tags((name = "event log", description = "The event store's streams and `$all`, for staff, admins and auditors"))
)]
pub struct EventLogApi;

fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
}

/// Streams of the log in id order, searched by category, id pattern and last activity.
#[utoipa::path(
    get,
    path = "/api/v1/admin/streams",
    tag = "event log",
    params(StreamsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of streams, in id order", body = StreamPage),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not staff, an admin or an auditor", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_streams(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<StreamsQuery>, QueryRejection>,
) -> Result<Json<StreamPage>, ApiError> {
    user.require(READERS)?;
    Ok(Json(queries::streams(&*state.store, &query(q)?).await?))
}

/// One stream's events, oldest first, each with its data, metadata, schema version,
/// position and actor. Sealed personal fields read `[encrypted for <subject>]`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/streams/{stream_id}",
    tag = "event log",
    params(("stream_id" = String, Path, description = "The stream's id (`order-<uuid>`)"), StreamQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of the stream's events", body = StreamEvents),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not staff, an admin or an auditor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No stream of this id", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn read_stream(
    State(state): State<AppState>,
    user: AuthUser,
    Path(stream_id): Path<String>,
    q: Result<Query<StreamQuery>, QueryRejection>,
) -> Result<Json<StreamEvents>, ApiError> {
    user.require(READERS)?;
    Ok(Json(
        queries::stream(&*state.store, &stream_id, &query(q)?).await?,
    ))
}

/// `$all`, newest first, filtered by category, type, time, correlation and causation,
/// and paged both ways by position: `older` and `newer` are the cursors of the pages
/// beside this one, and walking them meets every event once.
#[utoipa::path(
    get,
    path = "/api/v1/admin/events",
    tag = "event log",
    params(EventsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of events, newest first", body = EventPage),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not staff, an admin or an auditor", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_events(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<EventPage>, ApiError> {
    user.require(READERS)?;
    Ok(Json(queries::events(&*state.store, &query(q)?).await?))
}
