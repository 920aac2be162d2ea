//! E-mail verification and password reset: `/auth/verify-email`,
//! `/auth/resend-verification`, `/auth/forgot-password`, `/auth/reset-password`.
//!
//! A token a user presents is checked here first (its MAC, with the server secret; see
//! `commands::accounts::email_tokens::EmailTokens`), then the user's stream decides whether it is the
//! latest of its kind, unused and unexpired. The messages themselves are derived from the
//! `…Requested` events by the notifications read model and sent by the worker.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use commands::accounts::email_tokens::EmailTokens;
use commands::handler::{CommandError, CommandHandler, CommandMeta, Handled};
use commands::unique;
use domain::user::{Role, TokenId, TokenPurpose, User, UserCommand, UserError, UserEvent};
use domain::value::Email;
use serde::Deserialize;
use serde_json::json;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::password::{check_policy, hash_password};
use super::routes::{command_error, meta, user_json, UserView};
use super::token::AuthUser;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

/// How long a verification link works.
pub const VERIFICATION_TTL: Duration = Duration::hours(24);
/// How long a reset link works: short, since it hands over the account.
pub const RESET_TTL: Duration = Duration::hours(1);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/verify-email", post(verify_email))
        .route("/auth/resend-verification", post(resend_verification))
        .route("/auth/forgot-password", post(forgot_password))
        .route("/auth/reset-password", post(reset_password))
}

#[derive(OpenApi)]
#[openapi(
    paths(verify_email, resend_verification, forgot_password, reset_password),
    components(schemas(TokenBody, ForgotBody, ResetBody, Message)),
    tags((name = "auth", description = "Accounts, sign-in, tokens, e-mail verification and password reset"))
)]
pub struct EmailApi;

/// A sentence for people; the status code is what a client branches on.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Message {
    message: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    /// The token from the e-mail's link.
    token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ForgotBody {
    email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    /// The token from the e-mail's link.
    token: String,
    /// The new password, 12 to 128 characters.
    password: String,
}

/// The tokens of this engine's links, keyed by its JWT secret.
pub fn email_tokens(state: &AppState) -> EmailTokens {
    EmailTokens::new(state.jwt_secret.expose().as_bytes())
}

/// Issues a verification token to `user_id` (after registration, or a resend).
pub async fn request_verification(
    state: &AppState,
    user_id: Uuid,
    meta: CommandMeta,
) -> Result<Handled<UserEvent>, CommandError<UserError>> {
    let at = meta.occurred_at;
    state
        .handlers
        .users
        .handle(
            &CommandHandler::<User>::stream_id(user_id),
            UserCommand::RequestEmailVerification {
                token_id: TokenId::new(Uuid::new_v4()),
                expires_at: at + VERIFICATION_TTL,
                at,
            },
            meta,
        )
        .await
}

fn invalid_token() -> ApiError {
    ApiError::invalid_field("token", "is not a valid token")
}

/// A refused token or request, each state with its own stable code.
fn token_refused(e: CommandError<UserError>) -> ApiError {
    match e {
        CommandError::Rejected(e) => match e {
            UserError::TokenUsed => ApiError::conflict("token_used", e.to_string()),
            UserError::TokenExpired => ApiError::conflict("token_expired", e.to_string()),
            UserError::TokenSuperseded => ApiError::conflict("token_superseded", e.to_string()),
            UserError::EmailAlreadyVerified => {
                ApiError::conflict("already_verified", e.to_string())
            }
            UserError::Suspended => ApiError::Forbidden(e.to_string()),
            UserError::TokenRecentlyIssued { retry_after_secs } => ApiError::TooManyRequests {
                code: "token_recently_issued",
                detail: e.to_string(),
                retry_after: std::time::Duration::from_secs(retry_after_secs.max(1) as u64),
            },
            // A MAC that checks out for a token or account this store never issued: a
            // token from another deployment sharing the secret, say.
            UserError::UnknownToken | UserError::NotRegistered => invalid_token(),
            other => command_error(CommandError::Rejected(other)),
        },
        other => command_error(other),
    }
}

fn consistency<E>(handled: &Handled<E>) -> HeaderMap {
    crate::consistency::headers(handled.position)
}

/// Confirms the account's e-mail with the token its verification link carries.
#[utoipa::path(
    post,
    path = "/api/v1/auth/verify-email",
    tag = "auth",
    request_body = TokenBody,
    responses(
        (status = 200, description = "The account, now verified", body = UserView,
            headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`token_used`, `token_expired`, `token_superseded` (a newer link was sent) or `already_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a token this server issued (`errors` names `token`), or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn verify_email(
    State(state): State<AppState>,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<TokenBody>,
) -> Result<impl IntoResponse, ApiError> {
    let (user, token_id) = email_tokens(&state)
        .open(TokenPurpose::VerifyEmail, &body.token)
        .map_err(|_| invalid_token())?;
    let user = user.as_uuid();
    let stream = CommandHandler::<User>::stream_id(user);
    let meta = meta(&request, &ip, Some(user), Role::Customer);
    let command = UserCommand::ConfirmEmail {
        token_id,
        at: meta.occurred_at,
    };
    let handled = state
        .handlers
        .users
        .handle(&stream, command, meta)
        .await
        .map_err(token_refused)?;
    let (s, _) = state
        .handlers
        .users
        .load(&stream)
        .await
        .map_err(command_error)?;
    let account = s
        .registered
        .ok_or_else(|| ApiError::internal("verified user not found"))?;
    Ok((consistency(&handled), Json(user_json(&account))))
}

/// Sends a new verification link; earlier links stop working.
#[utoipa::path(
    post,
    path = "/api/v1/auth/resend-verification",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A new link is on its way", body = Message,
            headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_verified`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`token_recently_issued`: a link went out moments ago; `Retry-After` says when to ask again", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn resend_verification(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
) -> Result<impl IntoResponse, ApiError> {
    let meta = meta(&request, &ip, Some(user.user_id), user.role);
    let handled = request_verification(&state, user.user_id, meta)
        .await
        .map_err(token_refused)?;
    Ok((
        StatusCode::ACCEPTED,
        consistency(&handled),
        Json(json!({ "message": "a new verification link is on its way" })),
    ))
}

/// Always 202, and the same body, whether or not the address has an account: the answer
/// must not tell an attacker which addresses exist. The work happens after the answer, so
/// its duration does not tell either.
#[utoipa::path(
    post,
    path = "/api/v1/auth/forgot-password",
    tag = "auth",
    request_body = ForgotBody,
    responses(
        (status = 202, description = "Accepted whether or not an account uses the e-mail", body = Message),
        (status = 400, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an e-mail address, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn forgot_password(
    State(state): State<AppState>,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<ForgotBody>,
) -> Result<impl IntoResponse, ApiError> {
    let email =
        Email::parse(&body.email).map_err(|e| ApiError::invalid_field("email", e.message))?;
    let meta = meta(&request, &ip, None, Role::Customer);
    tokio::spawn(async move {
        if let Err(e) = request_reset(&state, &email, meta).await {
            tracing::warn!(error = %e, "password reset request failed");
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "message": "if an account uses this e-mail, a link to reset its password is on its way"
        })),
    ))
}

async fn request_reset(
    state: &AppState,
    email: &Email,
    mut meta: CommandMeta,
) -> Result<(), ApiError> {
    let Some(user) = unique::owner_of(&*state.store, "email", email.as_str()).await? else {
        tracing::debug!("password reset asked for an unknown e-mail");
        return Ok(());
    };
    meta.actor.user_id = Some(user);
    let at: DateTime<Utc> = meta.occurred_at;
    let command = UserCommand::RequestPasswordReset {
        token_id: TokenId::new(Uuid::new_v4()),
        expires_at: at + RESET_TTL,
        at,
    };
    match state
        .handlers
        .users
        .handle(&CommandHandler::<User>::stream_id(user), command, meta)
        .await
    {
        Ok(_) => Ok(()),
        // Asked again within the minute, or a suspended account: nothing to send, and
        // nothing to tell the caller.
        Err(CommandError::Rejected(e)) => {
            tracing::debug!(%user, reason = %e, "no password reset issued");
            Ok(())
        }
        Err(e) => Err(command_error(e)),
    }
}

/// Sets a new password with the token of a reset link, and ends every session of the
/// account.
#[utoipa::path(
    post,
    path = "/api/v1/auth/reset-password",
    tag = "auth",
    request_body = ResetBody,
    responses(
        (status = 200, description = "The password is changed; sign in with it", body = Message,
            headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, description = "Not a JSON body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`token_used`, `token_expired` or `token_superseded`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a token this server issued, a password outside the policy, or a body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn reset_password(
    State(state): State<AppState>,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<ResetBody>,
) -> Result<impl IntoResponse, ApiError> {
    let (user, token_id) = email_tokens(&state)
        .open(TokenPurpose::ResetPassword, &body.token)
        .map_err(|_| invalid_token())?;
    check_policy(&body.password)?;
    let user = user.as_uuid();
    let password_hash = hash_password(body.password).await?;
    let stream = CommandHandler::<User>::stream_id(user);
    let meta = meta(&request, &ip, Some(user), Role::Customer);
    let command = UserCommand::ResetPassword {
        token_id,
        password_hash,
        at: meta.occurred_at,
    };
    let handled = state
        .handlers
        .users
        .handle(&stream, command, meta)
        .await
        .map_err(token_refused)?;
    // Whoever held a session may be the reason for the reset: every one of them ends.
    sqlx::query(
        "update auth.refresh_tokens set revoked_at = coalesce(revoked_at, now())
          where user_id = $1",
    )
    .bind(user)
    .execute(&state.pool)
    .await?;
    let (s, _) = state
        .handlers
        .users
        .load(&stream)
        .await
        .map_err(command_error)?;
    if let Some(account) = s.registered {
        // The owner proved control of the address: earlier failures no longer count.
        sqlx::query("delete from auth.login_failures where email = $1")
            .bind(account.email.as_str())
            .execute(&state.pool)
            .await?;
    }
    Ok((
        consistency(&handled),
        Json(json!({ "message": "the password is changed; sign in with the new one" })),
    ))
}
