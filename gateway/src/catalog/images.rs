//! `/products/{id}/images`: a product's images, added and removed by staff or the vendor
//! who sells it. An image is an http(s) link until a file service exists.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, post};
use axum::{Json, Router};
use commands::catalog::{self as use_case, NewImage};
use domain::id::{ImageId, ProductId};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::products::{seller, SELLERS};
use super::views::ImageView;
use crate::auth::AuthUser;
use crate::consistency;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/products/{id}/images", post(add_image))
        .route("/products/{id}/images/{image_id}", delete(remove_image))
}

#[derive(OpenApi)]
#[openapi(
    paths(add_image, remove_image),
    components(schemas(ImageBody, ImageView))
)]
pub struct ImagesApi;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ImageBody {
    /// http or https, at most 2048 characters.
    url: String,
    /// One line of at most 500 characters.
    alt: Option<String>,
    /// 0 to 10000; after the product's last image when absent.
    position: Option<u32>,
}

/// Adds an image to a product (staff; a vendor their own products).
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/images",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The product")),
    request_body = ImageBody,
    responses(
        (status = 201, description = "The image", body = ImageView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Neither staff nor vendor, or another vendor's product", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`catalog_rule`: the product is archived", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad URL, alt text or position, too many images, or a body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn add_image(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<ImageBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(SELLERS)?;
    let new = NewImage {
        image_id: ImageId::new(Uuid::new_v4()),
        url: body.url,
        alt: body.alt,
        position: body.position,
    };
    let meta = request.command_meta(user.actor(), &ip);
    let added = use_case::add_image(
        &state.handlers,
        ProductId::new(id),
        new,
        seller(&user),
        &meta,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        consistency::headers(added.position),
        Json(ImageView::from(&added)),
    ))
}

/// Removes one of a product's images (staff; a vendor their own products).
#[utoipa::path(
    delete,
    path = "/api/v1/products/{id}/images/{image_id}",
    tag = "catalog",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The product"),
        ("image_id" = Uuid, Path, description = "The image"),
    ),
    responses(
        (status = 204, description = "Removed", headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Neither staff nor vendor, or another vendor's product", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product, or no such image of it", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn remove_image(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path((id, image_id)): Path<(Uuid, Uuid)>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(SELLERS)?;
    let meta = request.command_meta(user.actor(), &ip);
    let position = use_case::remove_image(
        &state.handlers,
        ProductId::new(id),
        ImageId::new(image_id),
        seller(&user),
        &meta,
    )
    .await?;
    Ok((StatusCode::NO_CONTENT, consistency::headers(position)))
}
