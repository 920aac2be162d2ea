//! `/api/v1/auth`: register, login, refresh, logout, profile (verification and reset are in
//! `email`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use chrono::Utc;
use commands::handler::{Actor, CommandError, CommandHandler, CommandMeta};
use commands::unique::{self, UniqueError};
use domain::user::{Account, Role, User, UserCommand};
use domain::value::Email;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::password::{check_policy, hash_password, verify_password};
use super::token::{issue_access_token, AuthUser, ACCESS_TOKEN_TTL};
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

/// How long a refresh token lives.
const REFRESH_TTL_DAYS: i64 = 30;
const NAME_MAX: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/profile", get(profile).put(update_profile))
        .merge(super::email::router())
}

/// The account routes; the e-mail ones are `email::EmailApi`, merged in `docs::openapi`.
#[derive(OpenApi)]
#[openapi(
    paths(register, login, refresh, logout, profile, update_profile),
    components(schemas(RegisterBody, LoginBody, RefreshBody, ProfileBody, TokenPair, UserView)),
    tags((name = "auth", description = "Accounts, sign-in, tokens, e-mail verification and password reset"))
)]
pub struct AuthApi;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    email: String,
    /// 12 to 128 characters.
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

/// An access token (a JWT for `Authorization: Bearer`) and the opaque refresh token that
/// buys the next pair, once.
#[derive(Serialize, ToSchema)]
struct TokenPair {
    access_token: String,
    refresh_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds the access token is valid for.
    expires_in: u64,
}

/// A user as every account answer shapes it (see [`user_json`]).
#[derive(ToSchema)]
#[schema(as = User)]
#[allow(dead_code)]
pub(super) struct UserView {
    id: Uuid,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    /// `customer`, `vendor`, `staff`, `admin`, `analyst` or `auditor`.
    role: String,
    /// `pending`, `active` or `suspended`.
    status: String,
    email_verified: bool,
}

pub(super) fn user_json(a: &Account) -> serde_json::Value {
    json!({
        "id": a.user_id,
        "email": a.email,
        "first_name": a.first_name,
        "last_name": a.last_name,
        "role": a.role,
        "status": a.status,
        "email_verified": a.email_verified,
    })
}

/// A trimmed name, none when blank, refused over [`NAME_MAX`] characters.
pub(crate) fn name(field: &'static str, v: Option<String>) -> Result<Option<String>, ApiError> {
    let v = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if v.as_ref().is_some_and(|s| s.chars().count() > NAME_MAX) {
        return Err(ApiError::invalid_field(
            field,
            format!("must be at most {NAME_MAX} characters"),
        ));
    }
    Ok(v)
}

pub(super) fn meta(
    request: &RequestId,
    ip: &ClientIp,
    user: Option<Uuid>,
    role: Role,
) -> CommandMeta {
    request.command_meta(
        Actor {
            user_id: user,
            role: role.as_str().into(),
        },
        ip,
    )
}

pub(super) fn command_error<E: std::error::Error>(e: CommandError<E>) -> ApiError {
    match e {
        CommandError::Rejected(e) => ApiError::conflict("rejected", e.to_string()),
        CommandError::Store(e) => e.into(),
        other => ApiError::internal(other),
    }
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
        (status = 400, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken`: an account uses this e-mail", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad e-mail, a password outside the policy, a name too long, or a body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn register(
    State(state): State<AppState>,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<RegisterBody>,
) -> Result<impl IntoResponse, ApiError> {
    let email =
        Email::parse(&body.email).map_err(|e| ApiError::invalid_field("email", e.message))?;
    check_policy(&body.password)?;
    let first_name = name("first_name", body.first_name)?;
    let last_name = name("last_name", body.last_name)?;
    let password_hash = hash_password(body.password).await?;
    let user_id = Uuid::new_v4();
    let meta = meta(&request, &ip, Some(user_id), Role::Customer);
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
    let stream = CommandHandler::<User>::stream_id(user_id);
    let command = UserCommand::Register {
        user_id: user_id.into(),
        email: email.clone(),
        password_hash,
        first_name,
        last_name,
        role: Role::Customer,
        at: meta.occurred_at,
    };
    let mut last = match state
        .handlers
        .users
        .handle(&stream, command, meta.clone())
        .await
    {
        Ok(handled) => handled.position,
        Err(e) => {
            // Give the e-mail back so the person can try again.
            let _ = unique::release(&*state.store, "email", email.as_str(), user_id, &meta).await;
            return Err(command_error(e));
        }
    };
    // The verification link goes out through the outbox. Should this fail, the account
    // stands and the user asks for another link (`/auth/resend-verification`).
    let mut verify = meta.clone();
    verify.command_id = Uuid::new_v5(&meta.command_id, b"request-email-verification");
    verify.causation_id = meta.command_id;
    match super::email::request_verification(&state, user_id, verify).await {
        Ok(handled) => last = handled.position.or(last),
        Err(e) => {
            tracing::warn!(%user_id, error = %e, "no verification link issued at registration")
        }
    }
    let (user, _) = state
        .handlers
        .users
        .load(&stream)
        .await
        .map_err(command_error)?;
    let account = user
        .registered
        .ok_or_else(|| ApiError::internal("registered user not found"))?;
    Ok((
        StatusCode::CREATED,
        crate::consistency::headers(last),
        Json(user_json(&account)),
    ))
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized("the e-mail or password is wrong".into())
}

/// The window `LOGIN_FAILURES_LIMIT` counts failures in.
const FAILURE_WINDOW_MINUTES: i64 = 15;

/// 429 once an account has failed `LOGIN_FAILURES_LIMIT` times in the window, whatever IP
/// the attempts came from; `Retry-After` says when the oldest failure leaves the window.
async fn check_failures(state: &AppState, email: &str) -> Result<(), ApiError> {
    let limit = state.config.login_failures_limit;
    if limit == 0 {
        return Ok(());
    }
    let (count, oldest): (i64, Option<chrono::DateTime<Utc>>) = sqlx::query_as(
        "select count(*), min(failed_at) from auth.login_failures
          where email = $1 and failed_at > now() - make_interval(mins => $2)",
    )
    .bind(email)
    .bind(FAILURE_WINDOW_MINUTES as i32)
    .fetch_one(&state.pool)
    .await?;
    if count >= i64::from(limit) {
        let free_at =
            oldest.unwrap_or_else(Utc::now) + chrono::Duration::minutes(FAILURE_WINDOW_MINUTES);
        let wait = (free_at - Utc::now()).num_seconds().max(1) as u64;
        return Err(ApiError::TooManyRequests {
            code: "too_many_login_failures",
            detail: "too many failed logins for this account; try again later".into(),
            retry_after: std::time::Duration::from_secs(wait),
        });
    }
    Ok(())
}

async fn record_failure(state: &AppState, email: &str) -> Result<(), ApiError> {
    sqlx::query("insert into auth.login_failures (email) values ($1)")
        .bind(email)
        .execute(&state.pool)
        .await?;
    // Old rows only slow the count down.
    sqlx::query("delete from auth.login_failures where email = $1 and failed_at < now() - make_interval(mins => $2)")
        .bind(email)
        .bind(FAILURE_WINDOW_MINUTES as i32)
        .execute(&state.pool)
        .await?;
    Ok(())
}

/// Exchanges an e-mail and password for a token pair.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "A new token pair", body = TokenPair),
        (status = 400, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The e-mail or password is wrong (the same answer for both)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A body of the wrong shape", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_login_failures`: `LOGIN_FAILURES_LIMIT` failures for this account in 15 minutes, from any IP; `Retry-After` says when to try again", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn login(
    State(state): State<AppState>,
    AppJson(body): AppJson<LoginBody>,
) -> Result<Json<TokenPair>, ApiError> {
    let Ok(email) = Email::parse(&body.email) else {
        return Err(invalid_credentials());
    };
    check_failures(&state, email.as_str()).await?;
    let owner = unique::owner_of(&*state.store, "email", email.as_str()).await?;
    let Some(user_id) = owner else {
        // Spend what a real check costs, so timing does not reveal which e-mails exist.
        let _ = hash_password(body.password).await;
        record_failure(&state, email.as_str()).await?;
        return Err(invalid_credentials());
    };
    let (user, _) = state
        .handlers
        .users
        .load(&CommandHandler::<User>::stream_id(user_id))
        .await
        .map_err(command_error)?;
    let account = user.registered.ok_or_else(invalid_credentials)?;
    if !verify_password(body.password, account.password_hash.clone()).await? {
        record_failure(&state, email.as_str()).await?;
        return Err(invalid_credentials());
    }
    if account.status == domain::user::UserStatus::Suspended {
        return Err(ApiError::Forbidden("the account is suspended".into()));
    }
    let pair = issue_pair(&state, user_id, account.role, Uuid::new_v4()).await?;
    Ok(Json(pair))
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

async fn issue_pair(
    state: &AppState,
    user: Uuid,
    role: Role,
    family: Uuid,
) -> Result<TokenPair, ApiError> {
    let now = Utc::now();
    let access_token = issue_access_token(
        state.jwt_secret.expose().as_bytes(),
        user,
        role,
        now.timestamp(),
    )?;
    let raw: [u8; 32] = rand::random();
    let refresh_token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    sqlx::query(
        "insert into auth.refresh_tokens (token_hash, family_id, user_id, expires_at)
         values ($1, $2, $3, $4)",
    )
    .bind(token_hash(&refresh_token))
    .bind(family)
    .bind(user)
    .bind(now + chrono::Duration::days(REFRESH_TTL_DAYS))
    .execute(&state.pool)
    .await?;
    Ok(TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL.as_secs(),
    })
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
        (status = 400, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown, expired or already used refresh token; a reused one revokes its whole family", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn refresh(
    State(state): State<AppState>,
    AppJson(body): AppJson<RefreshBody>,
) -> Result<Json<TokenPair>, ApiError> {
    let mut tx = commands::database::begin(&state.pool, None).await?;
    let row: Option<(Uuid, Uuid, bool, bool, bool)> = sqlx::query_as(
        "select family_id, user_id, used_at is not null, revoked_at is not null, expires_at < now()
           from auth.refresh_tokens where token_hash = $1 for update",
    )
    .bind(token_hash(&body.refresh_token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some((family, user, used, revoked, expired)) = row else {
        return Err(ApiError::Unauthorized(
            "the refresh token is not valid".into(),
        ));
    };
    if used || revoked {
        sqlx::query("update auth.refresh_tokens set revoked_at = coalesce(revoked_at, now()) where family_id = $1")
            .bind(family)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::warn!(%user, %family, "refresh token reused; the family is revoked");
        return Err(ApiError::Unauthorized(
            "the refresh token was already used; sign in again".into(),
        ));
    }
    if expired {
        return Err(ApiError::Unauthorized(
            "the refresh token has expired; sign in again".into(),
        ));
    }
    sqlx::query("update auth.refresh_tokens set used_at = now() where token_hash = $1")
        .bind(token_hash(&body.refresh_token))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let (account, _) = state
        .handlers
        .users
        .load(&CommandHandler::<User>::stream_id(user))
        .await
        .map_err(command_error)?;
    let account = account
        .registered
        .ok_or_else(|| ApiError::Unauthorized("the account is gone".into()))?;
    if account.status == domain::user::UserStatus::Suspended {
        return Err(ApiError::Forbidden("the account is suspended".into()));
    }
    Ok(Json(issue_pair(&state, user, account.role, family).await?))
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
        (status = 400, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn logout(
    State(state): State<AppState>,
    AppJson(body): AppJson<RefreshBody>,
) -> Result<StatusCode, ApiError> {
    sqlx::query(
        "update auth.refresh_tokens set revoked_at = coalesce(revoked_at, now())
          where family_id = (select family_id from auth.refresh_tokens where token_hash = $1)",
    )
    .bind(token_hash(&body.refresh_token))
    .execute(&state.pool)
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's account.
#[utoipa::path(
    get,
    path = "/api/v1/auth/profile",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = UserView),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The token names no account", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn profile(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (s, _) = state
        .handlers
        .users
        .load(&CommandHandler::<User>::stream_id(user.user_id))
        .await
        .map_err(command_error)?;
    let account = s
        .registered
        .ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    Ok(Json(user_json(&account)))
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
        (status = 400, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
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
) -> Result<Json<serde_json::Value>, ApiError> {
    let stream = CommandHandler::<User>::stream_id(user.user_id);
    let command = UserCommand::UpdateProfile {
        first_name: name("first_name", body.first_name)?,
        last_name: name("last_name", body.last_name)?,
        at: Utc::now(),
    };
    state
        .handlers
        .users
        .handle(
            &stream,
            command,
            meta(&request, &ip, Some(user.user_id), user.role),
        )
        .await
        .map_err(command_error)?;
    profile(State(state), user).await
}
