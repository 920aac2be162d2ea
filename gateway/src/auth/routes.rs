//! `/api/v1/auth`: register, login, refresh, logout, profile (verification and reset are in
//! `email`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use commands::accounts::{self, AccountError, Names};
use domain::user::UserError;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use super::account::new_account;
use super::sessions::{self, Caller};
use super::token::{customer, AuthUser};
use super::view::{name, TokenPair, UserView};
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/logout-all", post(logout_all))
        .route("/auth/profile", get(profile).put(update_profile))
        .merge(super::email::router())
}

/// The account routes; the e-mail ones are `email::EmailApi`, merged in `docs::openapi`.
#[derive(OpenApi)]
#[openapi(
    paths(register, login, refresh, logout, logout_all, profile, update_profile),
    components(schemas(RegisterBody, LoginBody, RefreshBody, ProfileBody, TokenPair, UserView)),
    tags((name = "auth", description = "Accounts, sign-in, tokens, e-mail verification and password reset"))
)]
pub struct AuthApi;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    email: String,
    /// 12 to 128 characters, and hard to guess (a zxcvbn score of at least 3, judged
    /// with the e-mail and names).
    password: String,
    /// At most 100 characters; blank counts as absent.
    first_name: Option<String>,
    last_name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    email: String,
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ProfileBody {
    /// At most 100 characters; blank or absent clears it.
    first_name: Option<String>,
    last_name: Option<String>,
}

/// Opens a customer account and sends an e-mail verification link through the outbox.
#[utoipa::path(
    post,
    path = "/api/v1/auth/register",
    tag = "auth",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "The new account", body = UserView,
            headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 409, description = "`email_taken`: an account uses this e-mail", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad e-mail, a password outside the policy (too short or long, or too easy to guess), a name too long, or a body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::Busy),
    )
)]
async fn register(
    State(state): State<AppState>,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<RegisterBody>,
) -> Result<impl IntoResponse, ApiError> {
    let account = new_account(
        &state,
        &body.email,
        body.password,
        body.first_name,
        body.last_name,
    )
    .await?;
    let meta = request.command_meta(customer(None), &ip);
    let opened = accounts::register(&state.handlers, &state.credentials, account, meta).await?;
    Ok((
        StatusCode::CREATED,
        crate::consistency::headers(opened.position),
        Json(UserView::from(&opened.account)),
    ))
}

/// Exchanges an e-mail and password for a token pair.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "A new token pair", body = TokenPair),
        (status = 400, response = problem::NotJson),
        (status = 401, description = "The e-mail or password is wrong (the same answer for both)", body = Problem, content_type = "application/problem+json"),
        (status = 403, response = problem::Suspended),
        (status = 422, response = problem::WrongShape),
        (status = 429, description = "`too_many_login_failures`: `LOGIN_FAILURES_LIMIT` failures for this account from this client address, or `LOGIN_FAILURES_ACCOUNT_LIMIT` from all addresses, in the last 15 minutes; `Retry-After` says when to try again", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, response = problem::Busy),
    )
)]
async fn login(
    State(state): State<AppState>,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<LoginBody>,
) -> Result<Json<TokenPair>, ApiError> {
    let caller = Caller {
        request: &request,
        ip: &ip,
    };
    Ok(Json(
        sessions::sign_in(&state, &body.email, body.password, caller).await?,
    ))
}

/// Rotates a refresh token. A token presented a second time was copied: the family it
/// belongs to is revoked, so neither the thief nor the owner can go on with it.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "auth",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "A new pair; the token sent is spent", body = TokenPair),
        (status = 400, response = problem::NotJson),
        (status = 401, description = "Unknown, expired or already used refresh token (a reused one revokes its whole family), or a session past its absolute lifetime (`REFRESH_FAMILY_LIFETIME`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, response = problem::Suspended),
        (status = 422, response = problem::WrongShape),
    )
)]
async fn refresh(
    State(state): State<AppState>,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<RefreshBody>,
) -> Result<Json<TokenPair>, ApiError> {
    let caller = Caller {
        request: &request,
        ip: &ip,
    };
    Ok(Json(
        sessions::refresh(&state, &body.refresh_token, caller).await?,
    ))
}

/// Revokes the refresh token's family. Unknown tokens are accepted too: there is nothing
/// to tell.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    request_body = RefreshBody,
    responses(
        (status = 204, description = "Signed out"),
        (status = 400, response = problem::NotJson),
        (status = 422, response = problem::WrongShape),
    )
)]
async fn logout(
    State(state): State<AppState>,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<RefreshBody>,
) -> Result<StatusCode, ApiError> {
    let caller = Caller {
        request: &request,
        ip: &ip,
    };
    sessions::sign_out(&state, &body.refresh_token, caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the caller: all refresh tokens are revoked, and every access
/// token issued before, this one included, stops working at once.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout-all",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out everywhere",
            headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 401, response = problem::Unauthorized),
    )
)]
async fn logout_all(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
) -> Result<impl IntoResponse, ApiError> {
    let meta = request.command_meta(user.actor(), &ip);
    let position = sessions::sign_out_everywhere(&state, user.user_id, meta).await?;
    Ok((
        StatusCode::NO_CONTENT,
        crate::consistency::headers(position),
    ))
}

/// The caller's account.
#[utoipa::path(
    get,
    path = "/api/v1/auth/profile",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = UserView),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "The token names no account", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn profile(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<UserView>, ApiError> {
    let account = accounts::find(&state.handlers, user.user_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    Ok(Json(UserView::from(&account)))
}

/// Changes the caller's names.
#[utoipa::path(
    put,
    path = "/api/v1/auth/profile",
    tag = "auth",
    security(("bearer" = [])),
    request_body = ProfileBody,
    responses(
        (status = 200, description = "The account after the change", body = UserView),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 409, description = "`rejected`: the account cannot change now (suspended, say)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A name too long, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn update_profile(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<ProfileBody>,
) -> Result<Json<UserView>, ApiError> {
    let names = Names {
        first_name: name("first_name", body.first_name)?,
        last_name: name("last_name", body.last_name)?,
    };
    let meta = request.command_meta(user.actor(), &ip);
    let changed = accounts::update_profile(&state.handlers, user.user_id, names, meta)
        .await
        .map_err(|e| match e {
            // The caller's own account: when the token names none, the change is refused
            // as any other, unlike `/users/{id}`, where another's account is hidden.
            AccountError::Rejected(e @ UserError::NotRegistered) => {
                ApiError::conflict("rejected", e.to_string())
            }
            e => e.into(),
        })?;
    Ok(Json(UserView::from(&changed.account)))
}
