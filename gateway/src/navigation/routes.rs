//! `/navigation/{menu}`: anyone reads a menu; staff replace its tree.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use commands::navigation::{self as use_case, NavigationUseError};
use domain::navigation::{MenuItem, MenuName};
use utoipa::OpenApi;

use super::views::{LinkView, MenuBody, MenuItemView, MenuView};
use crate::auth::{AuthUser, STAFF};
use crate::consistency;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/navigation/{menu}", get(get_menu).put(put_menu))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_menu, put_menu),
    components(schemas(MenuView, MenuItemView, LinkView, MenuBody)),
    tags((name = "navigation", description = "The storefront's menus: header, footer and mobile, as trees of links"))
)]
pub struct NavigationApi;

impl From<NavigationUseError> for ApiError {
    fn from(e: NavigationUseError) -> Self {
        match e {
            NavigationUseError::Invalid { field, message } => {
                ApiError::invalid_field(field, message)
            }
            NavigationUseError::Store(e) => e.into(),
            NavigationUseError::Failed(cause) => ApiError::internal(cause),
        }
    }
}

fn menu_named(menu: &str) -> Result<MenuName, ApiError> {
    menu.parse()
        .map_err(|e: domain::navigation::NavigationError| ApiError::NotFound(e.to_string()))
}

/// A whole menu, in one request; anyone may read it.
#[utoipa::path(
    get,
    path = "/api/v1/navigation/{menu}",
    tag = "navigation",
    params(
        ("menu" = String, Path, description = "`header`, `footer` or `mobile`"),
        ("X-Consistency-Token" = Option<String>, Header, description = "Answer with at least this command's change"),
    ),
    responses(
        (status = 200, description = "The menu (empty until staff set it)", body = MenuView),
        (status = 400, description = "A malformed `X-Consistency-Token` (`invalid_consistency_token`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such menu", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_menu(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(menu): Path<String>,
) -> Result<Json<MenuView>, ApiError> {
    let menu = menu_named(&menu)?;
    let handlers = state.handlers.clone();
    let tree = state
        .followed
        .get(
            &use_case::menu_stream(menu),
            consistency::token(&headers)?,
            || async move { Ok::<_, ApiError>(use_case::menu(&handlers, menu).await?) },
        )
        .await?;
    Ok(Json(MenuView::of(menu, &tree)))
}

/// Replaces a menu's tree (staff). Every node is checked: its label, a URL's scheme (only
/// `http`, `https` or a path), a page's slug, the depth and the count, and that each linked
/// category and product exists; a refusal names the node's path.
#[utoipa::path(
    put,
    path = "/api/v1/navigation/{menu}",
    tag = "navigation",
    security(("bearer" = [])),
    params(("menu" = String, Path, description = "`header`, `footer` or `mobile`")),
    request_body = MenuBody,
    responses(
        (status = 200, description = "The menu now", body = MenuView, headers(("X-Consistency-Token" = String, description = "Where the change sits in the log"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such menu", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A node the rules refuse (`validation_failed`, `errors[].field` its path, e.g. `items[0].children[1].link.url`) or a body of the wrong shape (`invalid_body`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn put_menu(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(menu): Path<String>,
    AppJson(body): AppJson<MenuBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let menu = menu_named(&menu)?;
    let items: Vec<MenuItem> = body.items.into_iter().map(MenuItem::from).collect();
    let meta = request.command_meta(user.actor(), &ip);
    let done = use_case::replace_menu(&state.handlers, menu, items, &meta).await?;
    if done.position.is_some() {
        state.followed.forget(&use_case::menu_stream(menu));
    }
    Ok((
        consistency::headers(done.position),
        Json(MenuView::of(menu, &done.state)),
    ))
}
