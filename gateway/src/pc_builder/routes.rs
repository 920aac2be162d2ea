//! `/pc-builds`: create a build (signed in, or anonymous and shared), list the caller's,
//! read one (the owner, or anyone with its share token), set its parts, share it, put it
//! in the cart. Each handler calls one use case of `commands::pc_builder` or reads the
//! `pc_builder` read model, and answers a [`BuildView`] with its compatibility.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use commands::pc_builder::{self as use_case, PcBuilderError};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};
use uuid::Uuid;

use super::parts::{compatible_parts, rules};
use super::read_model::{self, ComponentRow};
use super::views::{
    components, BuildView, CompatibilityView, ComponentBody, ComponentView, ComponentsBody,
    CreateBody, IssueView, PartView, RulesView, SlotView,
};
use crate::auth::viewer::Viewer;
use crate::auth::{customer, AuthUser};
use crate::consistency::{self, caught_up};
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pc-builds", get(list_builds).post(create_build))
        .route("/pc-builds/shared/{token}", get(shared_build))
        .route("/pc-builds/{id}", get(get_build))
        .route("/pc-builds/{id}/components", put(set_components))
        .route("/pc-builds/{id}/share", post(share_build))
        .route("/pc-builds/{id}/cart", post(add_to_cart))
        .route("/pc-builder/rules", get(rules))
        .route("/pc-builder/compatible", get(compatible_parts))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        create_build, list_builds, get_build, shared_build, set_components, share_build,
        add_to_cart, super::parts::rules, super::parts::compatible_parts
    ),
    components(schemas(
        BuildView, ComponentView, CompatibilityView, IssueView, ComponentBody, CreateBody,
        ComponentsBody, PartView, RulesView, SlotView, Page<BuildView>, Page<PartView>
    )),
    tags((name = "pc-builder", description = "PC builds, their compatibility, and the parts that fit"))
)]
pub struct PcBuilderApi;

impl From<PcBuilderError> for ApiError {
    fn from(e: PcBuilderError) -> Self {
        match e {
            PcBuilderError::Invalid { field, message } => ApiError::invalid_field(field, message),
            e @ PcBuilderError::NotFound => ApiError::NotFound(e.to_string()),
            PcBuilderError::Cart(e) => e.into(),
            PcBuilderError::Store(e) => e.into(),
            PcBuilderError::Failed(cause) => ApiError::internal(cause),
        }
    }
}

/// Creates a build. With a bearer token it is the caller's; without one it is anonymous:
/// it takes all its parts now, answers its share token (shown this once), and is reached
/// only through that link, read-only.
#[utoipa::path(
    post,
    path = "/api/v1/pc-builds",
    tag = "pc-builder",
    request_body = CreateBody,
    responses(
        (status = 201, description = "The build with its compatibility; `share_token` for an anonymous build", body = BuildView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, description = "A bearer token was sent and is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad name, an unknown slot or product, a product off sale or not a part of its slot, a slot over its capacity; `errors` names the field (`components[1].slot`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_build(
    State(state): State<AppState>,
    viewer: Viewer,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let parts = components(&body.components)?;
    let owner = viewer.0.as_ref().map(|u| u.user_id);
    let actor = viewer
        .0
        .as_ref()
        .map_or_else(|| customer(None), AuthUser::actor);
    let meta = request.command_meta(actor, &ip);
    let created = use_case::create_build(&state.handlers, owner, &body.name, parts, &meta).await?;
    Ok((
        StatusCode::CREATED,
        consistency::headers(created.position),
        Json(BuildView::from(&created)),
    ))
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

/// The views of `builds`, each with its parts from `rows`.
fn with_parts(builds: Vec<read_model::BuildRow>, rows: &[ComponentRow]) -> Vec<BuildView> {
    let mut by_build: BTreeMap<Uuid, Vec<&ComponentRow>> = BTreeMap::new();
    for r in rows {
        by_build.entry(r.build_id).or_default().push(r);
    }
    builds
        .into_iter()
        .map(|b| {
            let parts = by_build.remove(&b.build_id).unwrap_or_default();
            BuildView::from_rows(b, &parts)
        })
        .collect()
}

/// The caller's builds, latest change first, each with its compatibility.
#[utoipa::path(
    get,
    path = "/api/v1/pc-builds",
    tag = "pc-builder",
    security(("bearer" = [])),
    params(ListQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the pc_builder read model covers this command position")),
    responses(
        (status = 200, description = "A page of the caller's builds", body = Page<BuildView>),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 422, description = "A bad `limit` or `offset`; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn list_builds(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<BuildView>>, ApiError> {
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    caught_up(&state, &headers, "pc_builder").await?;
    let (total, builds) = read_model::builds_of(&state.pool, user.user_id, limit, offset).await?;
    let ids: Vec<Uuid> = builds.iter().map(|b| b.build_id).collect();
    let rows = read_model::components(&state.pool, &ids).await?;
    Ok(Json(Page {
        items: with_parts(builds, &rows),
        limit,
        offset,
        total,
    }))
}

/// The build `id` from the read model, if `owner` may read it.
async fn readable(state: &AppState, id: Uuid, owner: Option<Uuid>) -> Result<BuildView, ApiError> {
    let build = read_model::build(&state.pool, id)
        .await?
        .filter(|b| owner.is_some() && b.owner_id == owner)
        .ok_or_else(|| ApiError::NotFound("no such build".into()))?;
    let rows = read_model::components(&state.pool, &[id]).await?;
    Ok(with_parts(vec![build], &rows).remove(0))
}

/// One of the caller's builds, with its compatibility. Another's build is unknown (404),
/// whether or not it exists; a shared build is read through its link.
#[utoipa::path(
    get,
    path = "/api/v1/pc-builds/{id}",
    tag = "pc-builder",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The build"), ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the pc_builder read model covers this command position")),
    responses(
        (status = 200, description = "The build", body = BuildView),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such build of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn get_build(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Result<Json<BuildView>, ApiError> {
    caught_up(&state, &headers, "pc_builder").await?;
    readable(&state, id, Some(user.user_id)).await.map(Json)
}

/// The build a share link names, read-only, for anyone holding the token.
#[utoipa::path(
    get,
    path = "/api/v1/pc-builds/shared/{token}",
    tag = "pc-builder",
    params(("token" = String, Path, description = "The build's share token"), ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the pc_builder read model covers this command position")),
    responses(
        (status = 200, description = "The shared build", body = BuildView),
        (status = 404, description = "No live link has this token (never given, or replaced by a newer one)", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn shared_build(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Json<BuildView>, ApiError> {
    let id = use_case::shared_build(&state.handlers, &token)
        .await?
        .ok_or_else(|| ApiError::NotFound("no build is shared under this token".into()))?;
    caught_up(&state, &headers, "pc_builder").await?;
    let build = read_model::build(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no build is shared under this token".into()))?;
    let rows = read_model::components(&state.pool, &[id]).await?;
    Ok(Json(with_parts(vec![build], &rows).remove(0)))
}

/// Replaces the parts of one of the caller's builds. Each product must exist, be on sale
/// and carry the slot it is put in as its `pc_slot` attribute; an incompatible choice is
/// kept, and `compatibility` says why it does not work.
#[utoipa::path(
    put,
    path = "/api/v1/pc-builds/{id}/components",
    tag = "pc-builder",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The build")),
    request_body = ComponentsBody,
    responses(
        (status = 200, description = "The build with its compatibility", body = BuildView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such build of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown slot or product, a product off sale or not a part of its slot, a slot over its capacity, a product twice; `errors` names the component (`components[1].product_id`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn set_components(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<ComponentsBody>,
) -> Result<impl IntoResponse, ApiError> {
    let parts = components(&body.components)?;
    let meta = request.command_meta(user.actor(), &ip);
    let done = use_case::set_components(&state.handlers, user.user_id, id, parts, meta).await?;
    Ok((
        consistency::headers(done.position),
        Json(BuildView::from(&done)),
    ))
}

/// Shares one of the caller's builds under a new token, in this answer only; a link
/// made before stops working.
#[utoipa::path(
    post,
    path = "/api/v1/pc-builds/{id}/share",
    tag = "pc-builder",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The build")),
    responses(
        (status = 200, description = "The build with its `share_token`", body = BuildView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such build of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn share_build(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let meta = request.command_meta(user.actor(), &ip);
    let done = use_case::share_build(&state.handlers, user.user_id, id, &meta).await?;
    Ok((
        consistency::headers(done.position),
        Json(BuildView::from(&done)),
    ))
}

/// Puts every part of one of the caller's builds in their cart, in its quantity, at the
/// price now; all or nothing: when the cart refuses one part, none is left in it.
#[utoipa::path(
    post,
    path = "/api/v1/pc-builds/{id}/cart",
    tag = "pc-builder",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The build")),
    responses(
        (status = 200, description = "The cart after it", body = crate::cart::views::CartView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such build of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A build without parts, a part no longer on sale, or what the cart refuses (`cart_full`, `mixed_currencies`, a quantity too large); nothing was added", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn add_to_cart(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let meta = request.command_meta(user.actor(), &ip);
    let cart = use_case::add_to_cart(&state.handlers, user.user_id, id, meta).await?;
    Ok((
        consistency::headers(cart.position),
        Json(crate::cart::views::CartView::from(&cart)),
    ))
}
