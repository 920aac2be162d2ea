//! An account's addresses: list, add, replace, remove (admin, or the account itself).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use commands::accounts;
use domain::value::Address;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::access::self_or_admin;
use super::view::{address_rows, AddressPage, UserAddress};
use crate::auth::{name, AuthUser};
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/users/{id}/addresses",
            get(list_addresses).post(add_address),
        )
        .route(
            "/users/{id}/addresses/{address_id}",
            put(update_address).delete(remove_address),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(list_addresses, add_address, update_address, remove_address),
    components(schemas(UserAddress, AddressPage, AddressBody)),
    tags((name = "users", description = "Accounts and their addresses (admin, or the account itself)"))
)]
pub struct AddressesApi;

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AddressBody {
    /// At most 100 characters, e.g. `home`.
    #[serde(skip_serializing)]
    label: Option<String>,
    name: Option<String>,
    line1: String,
    line2: Option<String>,
    city: String,
    region: Option<String>,
    postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. `US`.
    country: String,
}

/// The label and the address a body describes, checked by the domain's own rules (the
/// body's address fields are the domain's accepted shape, so they go through its
/// deserializer).
fn address_of(body: AddressBody) -> Result<(Option<String>, Address), ApiError> {
    let fields = serde_json::to_value(&body).map_err(ApiError::internal)?;
    let label = name("label", body.label)?;
    let address: Address = serde_json::from_value(fields).map_err(|e| {
        // The domain names the field first: `country: must be ...`.
        let text = e.to_string();
        match text.split_once(": ") {
            Some((field, message)) if !field.contains(' ') => {
                ApiError::invalid_field(field.to_owned(), message.to_owned())
            }
            _ => ApiError::invalid_field("address", text),
        }
    })?;
    Ok((label, address))
}

/// An account's addresses (admin, or the account itself).
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/addresses",
    tag = "users",
    params(("id" = Uuid, Path, description = "The user"), ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the read model covers this command position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "All of the account's addresses, oldest first", body = AddressPage),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such user, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn list_addresses(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Result<Json<AddressPage>, ApiError> {
    self_or_admin(&user, id)?;
    caught_up(&state, &headers, "users").await?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from users.users where user_id = $1)")
            .bind(id)
            .fetch_one(&state.pool)
            .await?;
    if !exists {
        return Err(ApiError::NotFound("no such user".into()));
    }
    let items: Vec<UserAddress> = address_rows(&state.pool, id)
        .await?
        .into_iter()
        .map(UserAddress::from)
        .collect();
    Ok(Json(items.into()))
}

/// Adds an address (admin, or the account itself); at most 20 per account.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/addresses",
    tag = "users",
    params(("id" = Uuid, Path, description = "The user")),
    security(("bearer" = [])),
    request_body = AddressBody,
    responses(
        (status = 201, description = "The new address", body = UserAddress,
            headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such user, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`rejected`: suspended, or 20 addresses already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field out of range, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn add_address(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<AddressBody>,
) -> Result<impl IntoResponse, ApiError> {
    self_or_admin(&user, id)?;
    let (label, address) = address_of(body)?;
    let meta = request.command_meta(user.actor(), &ip);
    let added =
        accounts::add_address(&state.handlers, id, label.clone(), address.clone(), meta).await?;
    Ok((
        StatusCode::CREATED,
        crate::consistency::headers(added.position),
        Json(UserAddress::new(added.address_id, label, address)),
    ))
}

/// Replaces an address (admin, or the account itself).
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/addresses/{address_id}",
    tag = "users",
    params(("id" = Uuid, Path, description = "The user"), ("address_id" = Uuid, Path, description = "The address")),
    security(("bearer" = [])),
    request_body = AddressBody,
    responses(
        (status = 200, description = "The address after the change", body = UserAddress,
            headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such user or address, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`rejected`: the account is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field out of range, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn update_address(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path((id, address_id)): Path<(Uuid, Uuid)>,
    AppJson(body): AppJson<AddressBody>,
) -> Result<impl IntoResponse, ApiError> {
    self_or_admin(&user, id)?;
    let (label, address) = address_of(body)?;
    let meta = request.command_meta(user.actor(), &ip);
    let changed = accounts::update_address(
        &state.handlers,
        id,
        address_id,
        label.clone(),
        address.clone(),
        meta,
    )
    .await?;
    Ok((
        crate::consistency::headers(changed.position),
        Json(UserAddress::new(address_id, label, address)),
    ))
}

/// Removes an address (admin, or the account itself).
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/addresses/{address_id}",
    tag = "users",
    params(("id" = Uuid, Path, description = "The user"), ("address_id" = Uuid, Path, description = "The address")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed",
            headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such user or address, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`rejected`: the account is suspended", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn remove_address(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path((id, address_id)): Path<(Uuid, Uuid)>,
) -> Result<impl IntoResponse, ApiError> {
    self_or_admin(&user, id)?;
    let meta = request.command_meta(user.actor(), &ip);
    let position = accounts::remove_address(&state.handlers, id, address_id, meta).await?;
    Ok((
        StatusCode::NO_CONTENT,
        crate::consistency::headers(position),
    ))
}
