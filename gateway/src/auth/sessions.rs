//! Sessions: signing in, refresh tokens (rotated on use, revoked by family) and the
//! failed-login count, in the gateway's own `auth` tables. They are not business facts:
//! they live outside the log, and a reset of the database only signs everyone out.
//!
//! Signing in is the edge's use case rather than the write side's: it changes no account,
//! and it is mostly argon2 work, which stays beside the password policy in the gateway.
//! The account itself is read from the write side (`commands::accounts::find_by_email`).

use base64::Engine;
use chrono::{DateTime, Utc};
use commands::accounts;
use domain::user::{Role, UserStatus};
use domain::value::Email;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::password::{hash_password, verify_password};
use super::token::{issue_access_token, ACCESS_TOKEN_TTL};
use super::view::TokenPair;
use crate::error::ApiError;
use crate::state::AppState;

/// How long a refresh token lives.
const REFRESH_TTL_DAYS: i64 = 30;
/// The window `LOGIN_FAILURES_LIMIT` counts failures in.
const FAILURE_WINDOW_MINUTES: i64 = 15;

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized("the e-mail or password is wrong".into())
}

fn suspended() -> ApiError {
    ApiError::Forbidden("the account is suspended".into())
}

/// A new session for whoever `email` and `password` name: the same 401 for an unknown
/// address and a wrong password, a 429 past the failed-login limit, a 403 when suspended.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: String,
) -> Result<TokenPair, ApiError> {
    let Ok(email) = Email::parse(email) else {
        return Err(invalid_credentials());
    };
    let limit = state.config.login_failures_limit;
    check_failures(&state.pool, limit, email.as_str()).await?;
    let Some(account) = accounts::find_by_email(&state.handlers, &email).await? else {
        // Spend what a real check costs, so timing does not reveal which e-mails exist.
        let _ = hash_password(password).await;
        record_failure(&state.pool, email.as_str()).await?;
        return Err(invalid_credentials());
    };
    if !verify_password(password, account.password_hash.clone()).await? {
        record_failure(&state.pool, email.as_str()).await?;
        return Err(invalid_credentials());
    }
    if account.status == UserStatus::Suspended {
        return Err(suspended());
    }
    issue_pair(
        state,
        account.user_id.as_uuid(),
        account.role,
        Uuid::new_v4(),
    )
    .await
}

/// The next pair of the session `refresh_token` belongs to (see [`spend`]), with the
/// account's current role.
pub async fn refresh(state: &AppState, refresh_token: &str) -> Result<TokenPair, ApiError> {
    let (family, user) = spend(&state.pool, refresh_token).await?;
    let account = accounts::find(&state.handlers, user)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the account is gone".into()))?;
    if account.status == UserStatus::Suspended {
        return Err(suspended());
    }
    issue_pair(state, user, account.role, family).await
}

/// After a password reset: every session of `user` ends (whoever held one may be the
/// reason for the reset), and the failed logins of `email` no longer count (the owner
/// proved control of the address).
pub async fn reset(pool: &PgPool, user: Uuid, email: &str) -> Result<(), ApiError> {
    revoke_all(pool, user).await?;
    clear_failures(pool, email).await
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// 429 once an account has failed `limit` times in the window, whatever IP the attempts
/// came from; `Retry-After` says when the oldest failure leaves the window.
async fn check_failures(pool: &PgPool, limit: u32, email: &str) -> Result<(), ApiError> {
    if limit == 0 {
        return Ok(());
    }
    let (count, oldest): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
        "select count(*), min(failed_at) from auth.login_failures
          where email = $1 and failed_at > now() - make_interval(mins => $2)",
    )
    .bind(email)
    .bind(FAILURE_WINDOW_MINUTES as i32)
    .fetch_one(pool)
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

async fn record_failure(pool: &PgPool, email: &str) -> Result<(), ApiError> {
    sqlx::query("insert into auth.login_failures (email) values ($1)")
        .bind(email)
        .execute(pool)
        .await?;
    // Old rows only slow the count down.
    sqlx::query("delete from auth.login_failures where email = $1 and failed_at < now() - make_interval(mins => $2)")
        .bind(email)
        .bind(FAILURE_WINDOW_MINUTES as i32)
        .execute(pool)
        .await?;
    Ok(())
}

async fn clear_failures(pool: &PgPool, email: &str) -> Result<(), ApiError> {
    sqlx::query("delete from auth.login_failures where email = $1")
        .bind(email)
        .execute(pool)
        .await?;
    Ok(())
}

/// A new access token and a new refresh token of `family`.
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

/// Spends `refresh_token` and answers its family and user. A token presented a second
/// time was copied: its whole family is revoked, so neither the thief nor the owner can
/// go on with it.
async fn spend(pool: &PgPool, refresh_token: &str) -> Result<(Uuid, Uuid), ApiError> {
    let mut tx = pool.begin().await?;
    let row: Option<(Uuid, Uuid, bool, bool, bool)> = sqlx::query_as(
        "select family_id, user_id, used_at is not null, revoked_at is not null, expires_at < now()
           from auth.refresh_tokens where token_hash = $1 for update",
    )
    .bind(token_hash(refresh_token))
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
        .bind(token_hash(refresh_token))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((family, user))
}

/// Revokes the family of `refresh_token`; an unknown token revokes nothing.
pub async fn revoke_family(pool: &PgPool, refresh_token: &str) -> Result<(), ApiError> {
    sqlx::query(
        "update auth.refresh_tokens set revoked_at = coalesce(revoked_at, now())
          where family_id = (select family_id from auth.refresh_tokens where token_hash = $1)",
    )
    .bind(token_hash(refresh_token))
    .execute(pool)
    .await?;
    Ok(())
}

async fn revoke_all(pool: &PgPool, user: Uuid) -> Result<(), ApiError> {
    sqlx::query(
        "update auth.refresh_tokens set revoked_at = coalesce(revoked_at, now())
          where user_id = $1",
    )
    .bind(user)
    .execute(pool)
    .await?;
    Ok(())
}
