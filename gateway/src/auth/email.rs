//! E-mail verification and password reset: `/auth/verify-email`,
//! `/auth/resend-verification`, `/auth/forgot-password`, `/auth/reset-password`.
//!
//! A token a user presents is checked here first (its MAC, with the server secret; see
//! `commands::accounts::email_tokens::EmailTokens`); then the use cases of `commands::accounts` let the
//! user's stream decide whether it is the latest of its kind, unused and unexpired.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use commands::accounts::email_tokens::EmailTokens;
use commands::accounts::{self, TokenError};
use domain::user::{TokenPurpose, UserError};
use domain::value::Email;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use super::password::check_policy;
use super::sessions;
use super::token::{customer, AuthUser};
use super::view::{Message, UserView};
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

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
    /// The new password: 12 to 128 characters, and hard to guess.
    password: String,
}

/// The tokens of this engine's links, keyed by its JWT secret.
pub fn email_tokens(state: &AppState) -> EmailTokens {
    EmailTokens::new(state.jwt_secret.expose().as_bytes())
}

fn invalid_token() -> ApiError {
    ApiError::invalid_field("token", "is not a valid token")
}

/// A refused token or request, each state with its own stable code.
impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Refused(e) => match e {
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
                other => ApiError::conflict("rejected", other.to_string()),
            },
            TokenError::Store(e) => e.into(),
            TokenError::Failed(e) => ApiError::internal(e),
        }
    }
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
        (status = 400, response = problem::NotJson),
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
    let meta = request.command_meta(customer(Some(user)), &ip);
    let verified = accounts::confirm_email(&state.handlers, user, token_id, meta).await?;
    Ok((
        crate::consistency::headers(verified.position),
        Json(UserView::from(&verified.account)),
    ))
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
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::Suspended),
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
    let meta = request.command_meta(user.actor(), &ip);
    let handled = accounts::request_verification(&state.handlers, user.user_id, meta).await?;
    Ok((
        StatusCode::ACCEPTED,
        crate::consistency::headers(handled.position),
        Json(Message {
            message: "a new verification link is on its way",
        }),
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
        (status = 400, response = problem::NotJson),
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
    // Whoever asks is not signed in, and typing an address proves nothing: the event names
    // its target by its stream, never as its actor.
    let meta = request.command_meta(commands::handler::Actor::anonymous(), &ip);
    tokio::spawn(async move {
        if let Err(e) = accounts::request_password_reset(&state.handlers, &email, meta).await {
            tracing::warn!(error = %e, "password reset request failed");
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(Message {
            message: "if an account uses this e-mail, a link to reset its password is on its way",
        }),
    ))
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
        (status = 400, response = problem::NotJson),
        (status = 403, response = problem::Suspended),
        (status = 409, description = "`token_used`, `token_expired` or `token_superseded`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a token this server issued, a password outside the policy (too short or long, or too easy to guess), or a body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::Busy),
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
    let user = user.as_uuid();
    // The account's own details are not a password; an account that is gone fails the
    // use case below with its own answer.
    let known = accounts::find(&state.handlers, user).await?;
    let inputs = known.as_ref().map_or_else(Vec::new, |a| {
        vec![
            a.email.as_str(),
            a.first_name.as_deref().unwrap_or_default(),
            a.last_name.as_deref().unwrap_or_default(),
        ]
    });
    check_policy(&body.password, &inputs)?;
    let password_hash = state.passwords.hash(body.password).await?;
    let meta = request.command_meta(customer(Some(user)), &ip);
    let reset = accounts::reset_password(
        &state.handlers,
        &state.credentials,
        user,
        token_id,
        password_hash,
        meta,
    )
    .await?;
    state.stamps.forget(user);
    sessions::reset(&state.pool, user, reset.account.email.as_str()).await?;
    Ok((
        crate::consistency::headers(reset.position),
        Json(Message {
            message: "the password is changed; sign in with the new one",
        }),
    ))
}
