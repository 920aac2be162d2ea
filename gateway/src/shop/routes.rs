//! `/store`: anyone reads the store's settings; staff replace them.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use commands::shop::{self as use_case, ShopError};
use utoipa::OpenApi;

use super::views::{StoreBody, StoreView};
use crate::auth::viewer::Viewer;
use crate::auth::{AuthUser, STAFF};
use crate::consistency;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/store", get(get_store).put(put_store))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_store, put_store),
    components(schemas(StoreView, StoreBody)),
    tags((name = "store", description = "The store's settings: name, currencies, locales, address, price display, order numbers"))
)]
pub struct ShopApi;

impl From<ShopError> for ApiError {
    fn from(e: ShopError) -> Self {
        match e {
            ShopError::Invalid { field, message } => ApiError::invalid_field(field, message),
            ShopError::Store(e) => e.into(),
            ShopError::Failed(cause) => ApiError::internal(cause),
        }
    }
}

/// The store's settings; anyone may read them (staff also see the order-number format).
#[utoipa::path(
    get,
    path = "/api/v1/store",
    tag = "store",
    params(("X-Consistency-Token" = Option<String>, Header, description = "Answer with at least this command's change")),
    responses(
        (status = 200, description = "The settings (the defaults until staff set them)", body = StoreView),
        (status = 400, description = "A malformed `X-Consistency-Token` (`invalid_consistency_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "An `Authorization` header with a token that is not valid", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_store(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
) -> Result<Json<StoreView>, ApiError> {
    let handlers = state.handlers.clone();
    let settings = state
        .followed
        .get(
            &use_case::settings_stream(),
            consistency::token(&headers)?,
            || async move { Ok::<_, ApiError>(use_case::store_settings(&handlers).await?) },
        )
        .await?;
    Ok(Json(StoreView::of(&settings, viewer.is_staff())))
}

/// Replaces the store's settings (staff): the whole document, every field checked. The
/// same document again appends nothing.
#[utoipa::path(
    put,
    path = "/api/v1/store",
    tag = "store",
    security(("bearer" = [])),
    request_body = StoreBody,
    responses(
        (status = 200, description = "The settings now", body = StoreView, headers(("X-Consistency-Token" = String, description = "Where the change sits in the log"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 422, description = "A field the rules refuse (`validation_failed`) or a body of the wrong shape (`invalid_body`); `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn put_store(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<StoreBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let draft = body.into_draft()?;
    let meta = request.command_meta(user.actor(), &ip);
    let done = use_case::replace_settings(&state.handlers, draft, &meta).await?;
    if done.position.is_some() {
        state.followed.forget(&use_case::settings_stream());
    }
    Ok((
        consistency::headers(done.position),
        Json(StoreView::of(&done.state, true)),
    ))
}
