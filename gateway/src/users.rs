//! `/api/v1/users`: accounts and their addresses (the seed's user service).
//!
//! Admins list, create, re-role and suspend accounts; everyone else reads and edits only
//! their own, and another account answers 404, as if it did not exist, so ids cannot be
//! probed. Queries read the `users` read model; commands go through the `User` aggregate.
//! `DELETE /users/:id` suspends: the stream is the account's history and is never erased.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use commands::handler::{CommandError, CommandHandler, CommandMeta, Handled};
use commands::unique::{self, UniqueError};
use domain::user::{Role, User, UserCommand, UserError, UserEvent};
use domain::value::{Address, Email};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use crate::auth::{check_policy, hash_password, name, AuthUser};
use crate::consistency::caught_up;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

const ADMINS: &[Role] = &[Role::Admin];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{id}", get(get_one).put(update).delete(suspend))
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
    paths(
        list,
        create,
        get_one,
        update,
        suspend,
        list_addresses,
        add_address,
        update_address,
        remove_address
    ),
    components(schemas(UserAccount, UserAddress, CreateUserBody, UpdateUserBody, AddressBody)),
    tags((name = "users", description = "Accounts and their addresses (admin, or the account itself)"))
)]
pub struct UsersApi;

/// An account as the user routes show it.
#[derive(ToSchema)]
#[allow(dead_code)]
struct UserAccount {
    id: Uuid,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    /// `customer`, `vendor`, `staff`, `admin`, `analyst` or `auditor`.
    role: String,
    /// `pending` (e-mail not verified), `active` or `suspended`.
    status: String,
    email_verified: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// One of an account's addresses.
#[derive(ToSchema)]
#[allow(dead_code)]
struct UserAddress {
    id: Uuid,
    label: Option<String>,
    name: Option<String>,
    line1: String,
    line2: Option<String>,
    city: String,
    region: Option<String>,
    postal_code: String,
    /// ISO 3166-1 alpha-2.
    country: String,
}

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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AddressBody {
    /// At most 100 characters, e.g. `home`.
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

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct UsersQuery {
    /// `customer`, `vendor`, `staff`, `admin`, `analyst` or `auditor`.
    role: Option<String>,
    /// `pending`, `active` or `suspended`.
    status: Option<String>,
    /// Part of the e-mail, any case.
    email: Option<String>,
    /// `created_at`, `-created_at` (the default), `email` or `-email`.
    sort: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    user_id: Uuid,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    role: String,
    status: String,
    email_verified: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl UserRow {
    fn json(&self) -> Value {
        json!({
            "id": self.user_id,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "role": self.role,
            "status": self.status,
            "email_verified": self.email_verified,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

const USER_COLUMNS: &str = "user_id, email, first_name, last_name, role, status, email_verified,
     created_at, updated_at";

fn address_json(id: Uuid, label: &Option<String>, a: &Address) -> Value {
    json!({
        "id": id,
        "label": label,
        "name": a.name,
        "line1": a.line1,
        "line2": a.line2,
        "city": a.city,
        "region": a.region,
        "postal_code": a.postal_code,
        "country": a.country,
    })
}

fn meta(request: &RequestId, ip: &ClientIp, user: &AuthUser) -> CommandMeta {
    request.command_meta(user.actor(), ip)
}

fn command_error(e: CommandError<UserError>) -> ApiError {
    match e {
        CommandError::Rejected(UserError::NotRegistered) => {
            ApiError::NotFound("no such user".into())
        }
        CommandError::Rejected(UserError::UnknownAddress(_)) => {
            ApiError::NotFound("no such address".into())
        }
        CommandError::Rejected(UserError::TooLong { field, max }) => {
            ApiError::invalid_field(field, format!("must be at most {max} characters"))
        }
        CommandError::Rejected(e) => ApiError::conflict("rejected", e.to_string()),
        CommandError::Store(e) => e.into(),
        other => ApiError::internal(other),
    }
}

/// 404 unless the caller is an admin or `id` is the caller: another's account is not
/// shown to exist.
fn self_or_admin(user: &AuthUser, id: Uuid) -> Result<(), ApiError> {
    if user.role == Role::Admin || user.user_id == id {
        Ok(())
    } else {
        Err(ApiError::NotFound("no such user".into()))
    }
}

async fn handle(
    state: &AppState,
    id: Uuid,
    command: UserCommand,
    meta: CommandMeta,
) -> Result<Handled<UserEvent>, ApiError> {
    state
        .handlers
        .users
        .handle(&CommandHandler::<User>::stream_id(id), command, meta)
        .await
        .map_err(command_error)
}

/// The account as the write side has it, for command answers (the read model may not
/// have caught up yet).
async fn account_json(state: &AppState, id: Uuid) -> Result<Value, ApiError> {
    let (s, _) = state
        .handlers
        .users
        .load(&CommandHandler::<User>::stream_id(id))
        .await
        .map_err(command_error)?;
    let a = s
        .registered
        .ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    Ok(json!({
        "id": a.user_id,
        "email": a.email,
        "first_name": a.first_name,
        "last_name": a.last_name,
        "role": a.role,
        "status": a.status,
        "email_verified": a.email_verified,
        "created_at": a.created_at,
    }))
}

/// Accounts, newest first unless `sort` says otherwise (admin).
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    params(UsersQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the read model covers this command position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{items, total, limit, offset}`, each item a `UserAccount`", body = Object),
        (status = 400, description = "`invalid_query`: an unknown or malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`role`, `status`, `sort`, `limit` or `offset` out of range", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`projection_lag`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    query: Result<Query<UsersQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    user.require(ADMINS)?;
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    if let Some(r) = q.role.as_deref() {
        if serde_json::from_value::<Role>(json!(r)).is_err() {
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
    caught_up(&state, &headers, "users").await?;
    let filter = "($1::text is null or role = $1)
          and ($2::text is null or status = $2)
          and ($3::text is null or strpos(email, lower($3)) > 0)";
    let total: i64 =
        sqlx::query_scalar(&format!("select count(*) from users.users where {filter}"))
            .bind(&q.role)
            .bind(&q.status)
            .bind(&q.email)
            .fetch_one(&state.pool)
            .await?;
    let rows: Vec<UserRow> = sqlx::query_as(&format!(
        "select {USER_COLUMNS} from users.users where {filter}
          order by {order} limit $4 offset $5"
    ))
    .bind(&q.role)
    .bind(&q.status)
    .bind(&q.email)
    .bind(limit)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    let items: Vec<Value> = rows.iter().map(UserRow::json).collect();
    Ok(Json(
        json!({ "items": items, "total": total, "limit": limit, "offset": offset }),
    ))
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
        (status = 400, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken`: an account uses this e-mail", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad e-mail, a password outside the policy, a name too long, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
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
    let email =
        Email::parse(&body.email).map_err(|e| ApiError::invalid_field("email", e.message))?;
    check_policy(&body.password)?;
    let first_name = name("first_name", body.first_name)?;
    let last_name = name("last_name", body.last_name)?;
    let password_hash = hash_password(body.password).await?;
    let user_id = Uuid::new_v4();
    let meta = meta(&request, &ip, &user);
    match unique::claim(&*state.store, "email", email.as_str(), user_id, &meta).await {
        Ok(()) => {}
        Err(UniqueError::Taken { .. }) => {
            return Err(ApiError::conflict(
                "email_taken",
                "an account with this e-mail exists",
            ))
        }
        Err(UniqueError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(ApiError::internal(e)),
    }
    let command = UserCommand::Register {
        user_id: user_id.into(),
        email: email.clone(),
        password_hash,
        first_name,
        last_name,
        role: body.role.unwrap_or(Role::Customer),
        at: meta.occurred_at,
    };
    let handled = match handle(&state, user_id, command, meta.clone()).await {
        Ok(h) => h,
        Err(e) => {
            // Give the e-mail back so the admin can try again.
            let _ = unique::release(&*state.store, "email", email.as_str(), user_id, &meta).await;
            return Err(e);
        }
    };
    Ok((
        StatusCode::CREATED,
        crate::consistency::headers(handled.position),
        Json(account_json(&state, user_id).await?),
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
        (status = 400, description = "A malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`projection_lag`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_one(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, ApiError> {
    self_or_admin(&user, id)?;
    caught_up(&state, &headers, "users").await?;
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "select {USER_COLUMNS} from users.users where user_id = $1"
    ))
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    let row = row.ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    Ok(Json(row.json()))
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
        (status = 400, description = "Not a JSON body, or a malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
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
    let meta = meta(&request, &ip, &user);
    let mut last = None;
    if body.first_name.is_some() || body.last_name.is_some() {
        let command = UserCommand::UpdateProfile {
            first_name: name("first_name", body.first_name)?,
            last_name: name("last_name", body.last_name)?,
            at: meta.occurred_at,
        };
        last = handle(&state, id, command, meta.clone()).await?.position;
    }
    if let Some(role) = body.role {
        let current = account_json(&state, id).await?;
        // Setting the role an account already has is a no-op, not a conflict: a PUT states
        // the wanted result.
        if current["role"] != json!(role) {
            let mut change = meta.clone();
            change.command_id = Uuid::new_v5(&meta.command_id, b"change-role");
            change.causation_id = meta.command_id;
            let handled = handle(&state, id, UserCommand::ChangeRole { role }, change).await?;
            last = handled.position.or(last);
        }
    }
    Ok((
        crate::consistency::headers(last),
        Json(account_json(&state, id).await?),
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
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
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
    let reason = q
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "suspended by an admin".into());
    let meta = meta(&request, &ip, &user);
    let command = UserCommand::Suspend {
        reason,
        at: meta.occurred_at,
    };
    let handled = handle(&state, id, command, meta).await?;
    Ok((
        StatusCode::NO_CONTENT,
        crate::consistency::headers(handled.position),
    ))
}

/// An account's addresses (admin, or the account itself).
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/addresses",
    tag = "users",
    params(("id" = Uuid, Path, description = "The user"), ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the read model covers this command position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{items, total, limit, offset}`, each item a `UserAddress`, oldest first", body = Object),
        (status = 400, description = "A malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user, or not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`projection_lag`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_addresses(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, ApiError> {
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
    type Row = (
        Uuid,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        String,
        Option<String>,
        String,
        String,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "select address_id, label, name, line1, line2, city, region, postal_code, country
           from users.user_addresses where user_id = $1 order by created_at, address_id",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({
                "id": r.0, "label": r.1, "name": r.2, "line1": r.3, "line2": r.4,
                "city": r.5, "region": r.6, "postal_code": r.7, "country": r.8.trim(),
            })
        })
        .collect();
    let total = items.len();
    // An account holds at most `MAX_ADDRESSES`, so one page always holds them all.
    Ok(Json(json!({
        "items": items,
        "total": total,
        "limit": domain::user::MAX_ADDRESSES,
        "offset": 0,
    })))
}

/// The label and the address a body describes, checked by the domain's own rules.
fn address_of(body: AddressBody) -> Result<(Option<String>, Address), ApiError> {
    let label = name("label", body.label)?;
    let address: Address = serde_json::from_value(json!({
        "name": body.name,
        "line1": body.line1,
        "line2": body.line2,
        "city": body.city,
        "region": body.region,
        "postal_code": body.postal_code,
        "country": body.country,
    }))
    .map_err(|e| {
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
        (status = 400, description = "Not a JSON body, or a malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
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
    let meta = meta(&request, &ip, &user);
    // Derived from the command id, so a retried request names the same address.
    let address_id = Uuid::new_v5(&meta.command_id, b"address");
    let command = UserCommand::AddAddress {
        address_id: address_id.into(),
        label: label.clone(),
        address: address.clone(),
    };
    let handled = handle(&state, id, command, meta).await?;
    Ok((
        StatusCode::CREATED,
        crate::consistency::headers(handled.position),
        Json(address_json(address_id, &label, &address)),
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
        (status = 400, description = "Not a JSON body, or a malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
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
    let command = UserCommand::UpdateAddress {
        address_id: address_id.into(),
        label: label.clone(),
        address: address.clone(),
    };
    let handled = handle(&state, id, command, meta(&request, &ip, &user)).await?;
    Ok((
        crate::consistency::headers(handled.position),
        Json(address_json(address_id, &label, &address)),
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
        (status = 400, description = "A malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
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
    let command = UserCommand::RemoveAddress {
        address_id: address_id.into(),
    };
    let handled = handle(&state, id, command, meta(&request, &ip, &user)).await?;
    Ok((
        StatusCode::NO_CONTENT,
        crate::consistency::headers(handled.position),
    ))
}
