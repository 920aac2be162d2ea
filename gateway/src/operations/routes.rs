//! `/api/v1/admin/projections`, `/api/v1/admin/parked`, `/api/v1/admin/rebuilds`,
//! `/api/v1/admin/consumers` and `/api/v1/admin/outbox/{id}/retry`:
//! operations for staff and admins. Every changing route answers 403 `read_only` when
//! `CONSOLE_READ_ONLY` is set.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use projections::runtime::parked::Action;
use serde::Deserialize;
use utoipa::OpenApi;
use uuid::Uuid;

use super::consumers::{self, ConsumerView, ConsumersView};
use super::guard::OPERATORS;
use super::outbox::{self, OutboxRetryView};
use super::parked::{self, Acting, ActionBody, ParkedQuery};
use super::rebuilds;
use super::sql::{self, SqlAnswer, SqlBody, SQL_READERS};
use super::status;
use super::views::{
    ParkedActionView, ParkedOutcome, ParkedView, ProjectionStatus, ProjectionsView, RebuildView,
};
use crate::auth::AuthUser;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/projections", get(list_projections))
        .route(
            "/admin/projections/{name}/rebuild",
            post(start_rebuild).get(latest_rebuild),
        )
        .route("/admin/rebuilds/{id}", get(read_rebuild))
        .route("/admin/consumers", get(list_consumers))
        .route("/admin/sql", post(run_sql))
        .route("/admin/parked", get(list_parked))
        .route("/admin/parked/actions", get(list_actions))
        .route("/admin/parked/{id}/retry", post(retry))
        .route("/admin/parked/{id}/skip", post(skip))
        .route("/admin/parked/{id}/discard", post(discard))
        .route("/admin/outbox/{id}/retry", post(retry_notification))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_projections, start_rebuild, latest_rebuild, read_rebuild, list_consumers, run_sql,
        list_parked, list_actions, retry, skip, discard, retry_notification
    ),
    components(schemas(
        ProjectionsView, ProjectionStatus, RebuildView, ParkedView, ParkedOutcome,
        ParkedActionView, ActionBody, Page<ParkedView>, Page<ParkedActionView>,
        ConsumersView, ConsumerView, SqlBody, SqlAnswer, OutboxRetryView
    )),
    tags((name = "operations (admin)", description = "Read models' status, parked events and rebuilds, for staff and admins"))
)]
pub struct OperationsApi;

fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
}

fn acting(user: &AuthUser, request: &RequestId) -> Acting {
    Acting {
        user_id: user.user_id,
        role: user.role,
        correlation_id: request.correlation_id(),
    }
}

/// Every read model: its checkpoint against the store's head, its lag and the trend of
/// it, parked events, whether it is stalled, and its latest rebuild.
#[utoipa::path(
    get,
    path = "/api/v1/admin/projections",
    tag = "operations (admin)",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every read model's status, in name order", body = ProjectionsView),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
    )
)]
async fn list_projections(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<ProjectionsView>, ApiError> {
    user.require(OPERATORS)?;
    Ok(Json(status::read_models(&state).await?))
}

/// Starts rebuilding a read model from the store: replayed into a shadow schema while the
/// live one serves, swapped in, then verified against a fresh replay. Answers at once;
/// `GET /api/v1/admin/rebuilds/{id}` follows it.
#[utoipa::path(
    post,
    path = "/api/v1/admin/projections/{name}/rebuild",
    tag = "operations (admin)",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The read model (`catalog`)")),
    request_body = ActionBody,
    responses(
        (status = 202, description = "Started: the rebuild, `running`", body = RebuildView, headers(("Location" = String, description = "/api/v1/admin/rebuilds/{id}"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "`forbidden`: not staff; `read_only`: `CONSOLE_READ_ONLY` is set", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No read model of this name", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`rebuild_running`: a rebuild of it runs already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: no reason, or one over 500 characters", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn start_rebuild(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    Path(name): Path<String>,
    AppJson(body): AppJson<ActionBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(OPERATORS)?;
    let view = rebuilds::start(&state, acting(&user, &request), &name, &body.reason).await?;
    let location = format!("/api/v1/admin/rebuilds/{}", view.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(view),
    ))
}

/// The latest rebuild of a read model started through this API.
#[utoipa::path(
    get,
    path = "/api/v1/admin/projections/{name}/rebuild",
    tag = "operations (admin)",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The read model (`catalog`)")),
    responses(
        (status = 200, description = "Its latest rebuild", body = RebuildView),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No read model of this name, or never rebuilt through this API", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn latest_rebuild(
    State(state): State<AppState>,
    user: AuthUser,
    Path(name): Path<String>,
) -> Result<Json<RebuildView>, ApiError> {
    user.require(OPERATORS)?;
    rebuilds::latest(&state, &name)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no rebuild of {name:?} was started here")))
}

/// One rebuild and how far it has come: `running` (events replayed, the position and the
/// head it works towards), `verifying`, then `verified`, `mismatch` or `failed`.
#[utoipa::path(
    get,
    path = "/api/v1/admin/rebuilds/{id}",
    tag = "operations (admin)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The rebuild")),
    responses(
        (status = 200, description = "The rebuild", body = RebuildView),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such rebuild", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn read_rebuild(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<RebuildView>, ApiError> {
    user.require(OPERATORS)?;
    Ok(Json(rebuilds::progress(&state, id).await?))
}

/// The JetStream consumers of the relay's stream, one per read model: pending and
/// redelivered messages. `configured: false` and no items when `NATS_URL` is unset.
#[utoipa::path(
    get,
    path = "/api/v1/admin/consumers",
    tag = "operations (admin)",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The stream's consumers, in name order", body = ConsumersView),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 503, description = "`nats_unavailable`: NATS did not answer within 2 s", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_consumers(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<ConsumersView>, ApiError> {
    user.require(OPERATORS)?;
    Ok(Json(consumers::consumers(&state).await?))
}

/// `?format=` of the SQL route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SqlFormat {
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// Runs one read-only query over the read models' schemas, as the analysts' role
/// (`ANALYST_DATABASE_URL`): in a read-only transaction, stopped after 5 s, at most 1,000
/// rows (`truncated` says there were more). `?format=csv` answers the rows as CSV.
#[utoipa::path(
    post,
    path = "/api/v1/admin/sql",
    tag = "operations (admin)",
    security(("bearer" = [])),
    params(SqlFormat),
    request_body = SqlBody,
    responses(
        (status = 200, description = "The columns and rows (or, with `format=csv`, `text/csv`)", body = SqlAnswer),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "`forbidden`: not an analyst or an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`sql_error` (PostgreSQL refused the query, or it returns no rows; `detail` quotes it), `sql_forbidden` (a table outside the read models, or a write), `sql_timeout` (cancelled after 5 s), `validation_failed` (empty, or over 10,000 characters), or `format` not json or csv", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`sql_not_configured`: `ANALYST_DATABASE_URL` is unset, or names a superuser or no role", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn run_sql(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<SqlFormat>, QueryRejection>,
    AppJson(body): AppJson<SqlBody>,
) -> Result<axum::response::Response, ApiError> {
    user.require(SQL_READERS)?;
    let csv = match query(q)?.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid_field("format", "json or csv")),
    };
    let answer = sql::run(&state, &body.sql).await?;
    Ok(if csv {
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"query.csv\"",
                ),
            ],
            answer.csv(),
        )
            .into_response()
    } else {
        Json(answer).into_response()
    })
}

/// Parked events, oldest first: events a read model failed to apply the same way three
/// times and went on without, each with its error.
#[utoipa::path(
    get,
    path = "/api/v1/admin/parked",
    tag = "operations (admin)",
    security(("bearer" = [])),
    params(ParkedQuery),
    responses(
        (status = 200, description = "One page of parked events", body = Page<ParkedView>),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 422, description = "`validation_failed`: `limit` or `offset` out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_parked(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<ParkedQuery>, QueryRejection>,
) -> Result<Json<Page<ParkedView>>, ApiError> {
    user.require(OPERATORS)?;
    Ok(Json(parked::list(&state, &query(q)?).await?))
}

/// `limit` and `offset` of the actions' list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// What staff did with parked events, newest first: who, when, why, and what came of it.
#[utoipa::path(
    get,
    path = "/api/v1/admin/parked/actions",
    tag = "operations (admin)",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "One page of actions", body = Page<ParkedActionView>),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 422, description = "`validation_failed`: `limit` or `offset` out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_actions(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Page<ParkedActionView>>, ApiError> {
    user.require(OPERATORS)?;
    let q = query(q)?;
    Ok(Json(parked::actions(&state, q.limit, q.offset).await?))
}

async fn act(
    state: AppState,
    user: AuthUser,
    request: RequestId,
    id: Uuid,
    action: Action,
    body: ActionBody,
) -> Result<Json<ParkedOutcome>, ApiError> {
    user.require(OPERATORS)?;
    let done = parked::act(&state, acting(&user, &request), id, action, &body.reason).await?;
    Ok(Json(done))
}

/// Applies a parked event to its read model now, after the events that followed it. The
/// park ends when the read model takes it; refused again, it stays parked with the new
/// error (409 `retry_failed`). Audited either way.
#[utoipa::path(
    post,
    path = "/api/v1/admin/parked/{id}/retry",
    tag = "operations (admin)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The parked event (its `id` in the list)")),
    request_body = ActionBody,
    responses(
        (status = 200, description = "Applied: the park ended", body = ParkedOutcome),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "`forbidden`: not staff; `read_only`: `CONSOLE_READ_ONLY` is set", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not parked (any more)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`retry_failed`: the read model refused it again (`detail` says how); `rebuild_in_progress`: parked by a rebuild still running", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: no reason, or one over 500 characters", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn retry(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<ActionBody>,
) -> Result<Json<ParkedOutcome>, ApiError> {
    act(state, user, request, id, Action::Retry, body).await
}

/// Ends a park without applying the event: the read model goes on without it. A rebuild
/// replays it, and parks it again if it still fails. Audited.
#[utoipa::path(
    post,
    path = "/api/v1/admin/parked/{id}/skip",
    tag = "operations (admin)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The parked event")),
    request_body = ActionBody,
    responses(
        (status = 200, description = "Skipped: the park ended", body = ParkedOutcome),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "`forbidden`: not staff; `read_only`: `CONSOLE_READ_ONLY` is set", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not parked (any more)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: no reason, or one over 500 characters", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn skip(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<ActionBody>,
) -> Result<Json<ParkedOutcome>, ApiError> {
    act(state, user, request, id, Action::Skip, body).await
}

/// Ends a park for good: the read model goes on without the event, and a rebuild that
/// fails on it again drops it without parking it. Audited.
#[utoipa::path(
    post,
    path = "/api/v1/admin/parked/{id}/discard",
    tag = "operations (admin)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The parked event")),
    request_body = ActionBody,
    responses(
        (status = 200, description = "Discarded: the park ended", body = ParkedOutcome),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "`forbidden`: not staff; `read_only`: `CONSOLE_READ_ONLY` is set", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not parked (any more)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: no reason, or one over 500 characters", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn discard(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<ActionBody>,
) -> Result<Json<ParkedOutcome>, ApiError> {
    act(state, user, request, id, Action::Discard, body).await
}

/// Retries a notification whose delivery failed for good (its attempts used up): a fresh
/// round of attempts, `NOTIFY_MAX_ATTEMPTS` of them, which the notification worker starts
/// at once. Recorded as `NotificationRetried` on the notification's stream, with who asked
/// and why in its metadata (the audit trail).
#[utoipa::path(
    post,
    path = "/api/v1/admin/outbox/{id}/retry",
    tag = "operations (admin)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The notification (its `id` in `GET /api/v1/notifications`)")),
    request_body = ActionBody,
    responses(
        (status = 200, description = "Retried: pending again", body = OutboxRetryView, headers(("X-Consistency-Token" = String, description = "Send it to `GET /api/v1/notifications` to read the outbox with the retry in it"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "`forbidden`: not staff; `read_only`: `CONSOLE_READ_ONLY` is set", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notification in the outbox", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_sent`: it was delivered; `not_failed`: its delivery is still pending or in flight; `content_dropped`: retention dropped its content, nothing is left to send", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: no reason, or one over 500 characters", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn retry_notification(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<ActionBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(OPERATORS)?;
    let meta = request.command_meta(user.actor(), &ip);
    let (view, position) = outbox::retry(&state, id, meta, &body.reason).await?;
    Ok((crate::consistency::headers(position), Json(view)))
}
