//! The account routes: list, create, read, update, suspend.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use commands::accounts::{self, Names};
use domain::user::Role;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use super::access::{self_or_admin, ADMINS};
use super::view::{user_row, UserAccount, UserPage, UserRow, USER_COLUMNS};
use crate::auth::{name, new_account, AuthUser};
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{id}", get(get_one).put(update).delete(suspend))
        .route("/users/{id}/reactivate", post(reactivate))
        .merge(super::addresses::router())
        .merge(super::erasure::router())
        .merge(super::export::router())
        .merge(super::preferences::router())
}

#[derive(OpenApi)]
#[openapi(
    paths(list, create, get_one, update, suspend, reactivate),
    components(schemas(UserAccount, UserPage, CreateUserBody, UpdateUserBody)),
    tags((name = "users", description = "Accounts and their addresses (admin, or the account itself)"))
)]
pub struct UsersApi;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateUserBody {
    email: String,
    /// 12 to 128 characters.
    password: String,
    /// At most 100 characters; blank counts as absent.
    first_name: Option<String>,
    last_name: Option<String>,
    /// `customer` when absent.
    #[schema(value_type = Option<String>)]
    role: Option<Role>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateUserBody {
    /// At most 100 characters; blank clears it. Both names change together when either
    /// is sent.
    first_name: Option<String>,
    last_name: Option<String>,
    /// Admins only.
    #[schema(value_type = Option<String>)]
    role: Option<Role>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SuspendQuery {
    /// Why; a default reason is recorded when absent.
    reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// `customer`, `vendor`, `staff`, `admin`, `analyst` or `auditor`.
    pub role: Option<String>,
    /// `pending`, `active` or `suspended`.
    pub status: Option<String>,
    /// Part of the e-mail, any case.
    pub email: Option<String>,
    /// `created_at`, `-created_at` (the default), `email` or `-email`.
    pub sort: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Accounts, newest first unless `sort` says otherwise (admin).
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    params(UsersQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the read model covers this command position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of accounts", body = UserPage),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotAdmin),
        (status = 422, description = "`role`, `status`, `sort`, `limit` or `offset` out of range", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    query: Result<Query<UsersQuery>, QueryRejection>,
) -> Result<Json<UserPage>, ApiError> {
    user.require(ADMINS)?;
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    caught_up(&state, &headers, "users").await?;
    Ok(Json(search(&state.pool, &q).await?))
}

/// A page of accounts as `GET /users` answers it (the console's customers page too).
pub async fn search(pool: &sqlx::PgPool, q: &UsersQuery) -> Result<UserPage, ApiError> {
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    if let Some(r) = q.role.as_deref() {
        if serde_json::from_value::<Role>(serde_json::Value::from(r)).is_err() {
            return Err(ApiError::invalid_field(
                "role",
                "one of customer, vendor, staff, admin, analyst, auditor",
            ));
        }
    }
    if let Some(s) = q.status.as_deref() {
        if !["pending", "active", "suspended"].contains(&s) {
            return Err(ApiError::invalid_field(
                "status",
                "one of pending, active, suspended",
            ));
        }
    }
    let order = match q.sort.as_deref().unwrap_or("-created_at") {
        "created_at" => "created_at, user_id",
        "-created_at" => "created_at desc, user_id",
        "email" => "email, user_id",
        "-email" => "email desc, user_id",
        _ => {
            return Err(ApiError::invalid_field(
                "sort",
                "one of created_at, -created_at, email, -email",
            ))
        }
    };
    let filter = "($1::text is null or role = $1)
          and ($2::text is null or status = $2)
          and ($3::text is null or strpos(email, lower($3)) > 0)";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from users.users where {filter}"
    )))
    .bind(&q.role)
    .bind(&q.status)
    .bind(&q.email)
    .fetch_one(pool)
    .await?;
    let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {USER_COLUMNS} from users.users where {filter}
          order by {order} limit $4 offset $5"
    )))
    .bind(&q.role)
    .bind(&q.status)
    .bind(&q.email)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok(UserPage {
        items: rows.into_iter().map(UserAccount::from).collect(),
        total,
        limit,
        offset,
    })
}

/// Opens an account with any role (admin). The e-mail is not verified: the account stays
/// `pending` until its owner verifies it.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    security(("bearer" = [])),
    request_body = CreateUserBody,
    responses(
        (status = 201, description = "The new account", body = UserAccount,
            headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotAdmin),
        (status = 409, description = "`email_taken`: an account uses this e-mail", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad e-mail, a password outside the policy (too short or long, or too easy to guess), a name too long, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::Busy),
    )
)]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<CreateUserBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(ADMINS)?;
    let account = new_account(
        &state,
        &body.email,
        body.password,
        body.first_name,
        body.last_name,
    )
    .await?;
    let role = body.role.unwrap_or(Role::Customer);
    let meta = request.command_meta(user.actor(), &ip);
    let created =
        accounts::create_user(&state.handlers, &state.credentials, account, role, meta).await?;
    Ok((
        StatusCode::CREATED,
        crate::consistency::headers(created.position),
        Json(UserAccount::from(&created.account)),
    ))
}

/// One account (admin, or the account itself).
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = Uuid, Path, description = "The user"), ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the read model covers this command position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = UserAccount),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such user, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn get_one(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Result<Json<UserAccount>, ApiError> {
    self_or_admin(&user, id)?;
    caught_up(&state, &headers, "users").await?;
    let row = user_row(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    Ok(Json(row.into()))
}

/// Changes an account's names (admin, or the account itself) and its role (admin).
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = Uuid, Path, description = "The user")),
    security(("bearer" = [])),
    request_body = UpdateUserBody,
    responses(
        (status = 200, description = "The account after the change", body = UserAccount,
            headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "A role change by someone not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`rejected`: the account cannot change now (suspended, say)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A name too long, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<UpdateUserBody>,
) -> Result<impl IntoResponse, ApiError> {
    self_or_admin(&user, id)?;
    if body.role.is_some() {
        user.require(ADMINS)?;
    }
    let names = if body.first_name.is_some() || body.last_name.is_some() {
        Some(Names {
            first_name: name("first_name", body.first_name)?,
            last_name: name("last_name", body.last_name)?,
        })
    } else {
        None
    };
    let meta = request.command_meta(user.actor(), &ip);
    let changed = accounts::update_user(&state.handlers, id, names, body.role, meta).await?;
    state.stamps.forget(id);
    Ok((
        crate::consistency::headers(changed.position),
        Json(UserAccount::from(&changed.account)),
    ))
}

/// Suspends an account (admin): it can no longer sign in. Its history stays.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = Uuid, Path, description = "The user"), SuspendQuery),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Suspended",
            headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, description = "A malformed id or query", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotAdmin),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`rejected`: already suspended; `self_suspension`: an admin cannot suspend themself", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn suspend(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    query: Result<Query<SuspendQuery>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(ADMINS)?;
    if id == user.user_id {
        // The last admin locking themself out would need an operator to undo.
        return Err(ApiError::conflict(
            "self_suspension",
            "an admin cannot suspend their own account",
        ));
    }
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let meta = request.command_meta(user.actor(), &ip);
    let position = accounts::suspend(&state.handlers, id, q.reason, meta).await?;
    state.stamps.forget(id);
    Ok((
        StatusCode::NO_CONTENT,
        crate::consistency::headers(position),
    ))
}

/// Reinstates a suspended account (admin): it can sign in again, `active`, or `pending`
/// while its e-mail is unverified. The sessions its suspension ended stay ended.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/reactivate",
    tag = "users",
    params(("id" = Uuid, Path, description = "The user")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Reinstated",
            headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, description = "A malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotAdmin),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`rejected`: the account is not suspended", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn reactivate(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(ADMINS)?;
    let meta = request.command_meta(user.actor(), &ip);
    let position = accounts::reactivate(&state.handlers, id, meta).await?;
    state.stamps.forget(id);
    Ok((
        StatusCode::NO_CONTENT,
        crate::consistency::headers(position),
    ))
}
