//! `/config` and `/config/{key}`.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use commands::configuration::{self as use_case, ConfigUseError};
use domain::configuration::{known, ConfigKey, ConfigState, REGISTRY};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use super::views::{ConfigBody, ConfigEntryView};
use crate::auth::viewer::Viewer;
use crate::auth::{AuthUser, STAFF};
use crate::consistency;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/config", get(list_keys))
        .route("/config/{key}", get(get_key).put(put_key))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_keys, get_key, put_key),
    components(schemas(ConfigEntryView, ConfigBody, Page<ConfigEntryView>)),
    tags((name = "config", description = "Feature flags and settings: typed keys from a registry"))
)]
pub struct ConfigApi;

impl From<ConfigUseError> for ApiError {
    fn from(e: ConfigUseError) -> Self {
        match e {
            e @ ConfigUseError::UnknownKey(_) => ApiError::NotFound(e.to_string()),
            ConfigUseError::InvalidValue(message) => ApiError::invalid_field("value", message),
            ConfigUseError::Store(e) => e.into(),
            ConfigUseError::Failed(cause) => ApiError::internal(cause),
        }
    }
}

fn unknown(key: &str) -> ApiError {
    ApiError::NotFound(format!("no configuration key is named {key:?}"))
}

/// The values, from the cache when it may.
async fn values(state: &AppState, headers: &HeaderMap) -> Result<ConfigState, ApiError> {
    let handlers = state.handlers.clone();
    state
        .followed
        .get(
            &use_case::config_stream(),
            consistency::token(headers)?,
            || async move { Ok::<_, ApiError>(use_case::configuration(&handlers).await?) },
        )
        .await
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// Every configuration key with its value (staff), by key.
#[utoipa::path(
    get,
    path = "/api/v1/config",
    tag = "config",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of keys", body = Page<ConfigEntryView>),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 422, description = "A bad `limit` or `offset`; `errors` names it", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_keys(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<ConfigEntryView>>, ApiError> {
    user.require(STAFF)?;
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    let values = values(&state, &headers).await?;
    let items = REGISTRY
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|k| ConfigEntryView::of(k, &values))
        .collect();
    Ok(Json(Page {
        items,
        limit,
        offset,
        total: REGISTRY.len() as i64,
    }))
}

/// The key, when the viewer may read it: public keys to anyone, the others to staff.
fn readable(key: &str, viewer: &Viewer) -> Result<&'static ConfigKey, ApiError> {
    let entry = known(key).ok_or_else(|| unknown(key))?;
    if !entry.public {
        match &viewer.0 {
            None => {
                return Err(ApiError::Unauthorized(
                    "this key is for staff: sign in".into(),
                ))
            }
            Some(user) => user.require(STAFF)?,
        }
    }
    Ok(entry)
}

/// One key and its value: a public key to anyone, the others to staff.
#[utoipa::path(
    get,
    path = "/api/v1/config/{key}",
    tag = "config",
    params(
        ("key" = String, Path, description = "A key of the registry, e.g. `reviews.enabled`"),
        ("X-Consistency-Token" = Option<String>, Header, description = "Answer with at least this command's change"),
    ),
    responses(
        (status = 200, description = "The key", body = ConfigEntryView),
        (status = 400, description = "A malformed `X-Consistency-Token` (`invalid_consistency_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A staff-only key asked without a token, or an invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A staff-only key asked by another role", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No key of the registry has this name", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_key(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Result<Json<ConfigEntryView>, ApiError> {
    let entry = readable(&key, &viewer)?;
    let values = values(&state, &headers).await?;
    Ok(Json(ConfigEntryView::of(entry, &values)))
}

/// Sets a key (staff), its value checked against the key's type and range. Setting what
/// the key holds already appends nothing.
#[utoipa::path(
    put,
    path = "/api/v1/config/{key}",
    tag = "config",
    security(("bearer" = [])),
    params(("key" = String, Path, description = "A key of the registry, e.g. `reviews.enabled`")),
    request_body = ConfigBody,
    responses(
        (status = 200, description = "The key", body = ConfigEntryView, headers(("X-Consistency-Token" = String, description = "Where the change sits in the log"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No key of the registry has this name", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value not of the key's type or outside its range (`validation_failed` naming `value`), or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn put_key(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(key): Path<String>,
    AppJson(body): AppJson<ConfigBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let entry = known(&key).ok_or_else(|| unknown(&key))?;
    let meta = request.command_meta(user.actor(), &ip);
    let done = use_case::set_value(&state.handlers, key, body.value, &meta).await?;
    if done.position.is_some() {
        state.followed.forget(&use_case::config_stream());
    }
    Ok((
        consistency::headers(done.position),
        Json(ConfigEntryView::of(entry, &done.state)),
    ))
}
