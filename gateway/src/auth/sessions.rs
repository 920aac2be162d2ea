//! Sessions: signing in, refresh tokens (rotated on use, revoked by family, with an
//! absolute lifetime per family) and signing out. The tokens live in the gateway's own
//! `auth` tables, outside the log: a reset of the database only signs everyone out. What
//! happened to a session (a login, a failed one, a logout, a family revoked on reuse) is
//! a fact of the log, recorded in the account's `session` stream through
//! `commands::accounts::sessions`, so the audit trail and NATS carry it with the client's
//! address and user agent; never a password or a token.
//!
//! Signing in is the edge's use case rather than the write side's: it changes no account,
//! and it is mostly argon2 work, which stays beside the password policy in the gateway.
//! The account itself is read from the write side (`commands::accounts::find_by_email`).
//! The failed-login limits are `lockout`'s.

use base64::Engine;
use chrono::{DateTime, Utc};
use commands::accounts;
use commands::accounts::sessions::{self as facts, Revocation, SessionFact, SignInFailure};
use commands::handler::{Actor, CommandError, CommandMeta};
use domain::user::{Account, ErasedBy, Role, UserStatus};
use domain::value::Email;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::lockout::{self, Limits};
use super::token::{issue_access_token, ACCESS_TOKEN_TTL};
use super::view::TokenPair;
use crate::error::ApiError;
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

/// How long one refresh token lives (a family's absolute lifetime may end it sooner).
const REFRESH_TTL_DAYS: i64 = 30;

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized("the e-mail or password is wrong".into())
}

fn suspended() -> ApiError {
    ApiError::Forbidden("the account is suspended".into())
}

/// Who a sign-in fact is recorded as: the account's owner once proven (a right password,
/// a refresh token), an anonymous caller otherwise.
fn actor(owner: Option<(Uuid, Role)>) -> Actor {
    match owner {
        Some((user_id, role)) => Actor {
            user_id: Some(user_id),
            role: role.as_str().into(),
        },
        None => Actor {
            user_id: None,
            role: "anonymous".into(),
        },
    }
}

/// Records a sign-in fact in the account's `session` stream (the audit trail reads it
/// there). A fact that cannot be recorded fails the request: a sign-in the audit trail
/// does not show must not happen.
async fn record(
    state: &AppState,
    user: Uuid,
    fact: SessionFact,
    meta: CommandMeta,
) -> Result<(), ApiError> {
    match facts::record(&state.handlers, user, fact, meta).await {
        Ok(_) => Ok(()),
        Err(CommandError::Store(e)) => Err(e.into()),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// The request details a sign-in fact carries.
pub struct Caller<'a> {
    pub request: &'a RequestId,
    pub ip: &'a ClientIp,
}

impl Caller<'_> {
    fn meta(&self, owner: Option<(Uuid, Role)>) -> CommandMeta {
        self.request.command_meta(actor(owner), self.ip)
    }
}

/// A new session for whoever `email` and `password` name: the same 401 for an unknown
/// address and a wrong password, a 429 past the failed-login limits (see `lockout`), a
/// 403 when suspended, a 503 `busy` when the hashing pool is full.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: String,
    caller: Caller<'_>,
) -> Result<TokenPair, ApiError> {
    let Ok(email) = Email::parse(email) else {
        return Err(invalid_credentials());
    };
    let limits = Limits {
        per_address: state.config.login_failures_limit,
        per_account: state.config.login_failures_account_limit,
    };
    let attempt = lockout::claim(&state.pool, limits, email.as_str(), caller.ip.0).await?;
    let account = match accounts::find_by_email(&state.handlers, &email).await {
        Ok(account) => account,
        Err(e) => {
            attempt.give_back(&state.pool).await?;
            return Err(e.into());
        }
    };
    let Some(account) = account else {
        // Spend what a real check costs, so timing does not reveal which e-mails exist.
        // There is no account whose trail could show it: the log says so instead.
        match state.passwords.hash(password).await {
            Ok(_) => attempt.keep(),
            Err(e) => {
                attempt.give_back(&state.pool).await?;
                return Err(e);
            }
        }
        tracing::info!(ip = %caller.ip.0, "login for an e-mail no account uses");
        return Err(invalid_credentials());
    };
    let user = account.user_id.as_uuid();
    let hash = match state.credentials.hash_of(&*state.store, &account).await {
        Ok(hash) => hash,
        Err(e) => {
            attempt.give_back(&state.pool).await?;
            return Err(e.into());
        }
    };
    // No hash in force (a credentials row lost with a restored database): no password
    // can be right, and the owner resets it.
    let hash = hash.unwrap_or_default();
    let right = match state.passwords.verify(password, hash).await {
        Ok(right) => right,
        Err(e) => {
            // Busy, say: the password was not checked, so the attempt does not count.
            attempt.give_back(&state.pool).await?;
            return Err(e);
        }
    };
    if !right {
        attempt.keep();
        let fact = SessionFact::SignInFailed {
            reason: SignInFailure::WrongPassword,
        };
        record(state, user, fact, caller.meta(None)).await?;
        return Err(invalid_credentials());
    }
    attempt.give_back(&state.pool).await?;
    if account.status == UserStatus::Suspended {
        let fact = SessionFact::SignInFailed {
            reason: SignInFailure::Suspended,
        };
        record(state, user, fact, caller.meta(None)).await?;
        return Err(suspended());
    }
    let family = Uuid::new_v4();
    let pair = issue_pair(state, &account, family, Utc::now()).await?;
    let fact = SessionFact::SignedIn { family_id: family };
    record(state, user, fact, caller.meta(Some((user, account.role)))).await?;
    Ok(pair)
}

/// The next pair of the session `refresh_token` belongs to (see [`spend`]), with the
/// account's current role. A reused token revokes its family, which the audit trail
/// records.
pub async fn refresh(
    state: &AppState,
    refresh_token: &str,
    caller: Caller<'_>,
) -> Result<TokenPair, ApiError> {
    let spent = match spend(state, refresh_token).await? {
        Spent::Live(spent) => spent,
        Spent::Reused { family, user } => {
            if let Some(user) = user {
                let fact = SessionFact::Revoked {
                    family_id: family,
                    reason: Revocation::RefreshTokenReused,
                };
                record(state, user, fact, caller.meta(None)).await?;
            }
            return Err(ApiError::Unauthorized(
                "the refresh token was already used; sign in again".into(),
            ));
        }
    };
    let account = accounts::find(&state.handlers, spent.user)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the account is gone".into()))?;
    if account.status == UserStatus::Suspended {
        return Err(suspended());
    }
    issue_pair(state, &account, spent.family, spent.family_started_at).await
}

/// Ends the session `refresh_token` belongs to; an unknown or already ended one is not
/// an error (there is nothing to tell), and records nothing.
pub async fn sign_out(
    state: &AppState,
    refresh_token: &str,
    caller: Caller<'_>,
) -> Result<(), ApiError> {
    let ended: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "update auth.refresh_tokens set revoked_at = now()
          where family_id = (select family_id from auth.refresh_tokens where token_hash = $1)
            and revoked_at is null
         returning family_id, user_id",
    )
    .bind(token_hash(refresh_token))
    .fetch_all(&state.pool)
    .await?;
    if let Some(&(family, user)) = ended.first() {
        let role = accounts::find(&state.handlers, user)
            .await?
            .map_or(Role::Customer, |a| a.role);
        let fact = SessionFact::SignedOut { family_id: family };
        record(state, user, fact, caller.meta(Some((user, role)))).await?;
    }
    Ok(())
}

/// After a password reset: every session of `user` ends (whoever held one may be the
/// reason for the reset), and the failed logins of `email` no longer count (the owner
/// proved control of the address).
pub async fn reset(pool: &PgPool, user: Uuid, email: &str) -> Result<(), ApiError> {
    revoke_all(pool, user).await?;
    lockout::clear(pool, email).await
}

/// Every session of `user` ends: the refresh tokens here, and the access tokens through
/// the security version `SignedOutEverywhere` raises (the write side's part). Answers the
/// event's position, for the consistency token.
pub async fn sign_out_everywhere(
    state: &AppState,
    user: Uuid,
    meta: CommandMeta,
) -> Result<Option<commands::store::Position>, ApiError> {
    // The refresh tokens go first: should the event fail, no session is left able to
    // mint new access tokens, and the caller retries.
    revoke_all(&state.pool, user).await?;
    let position = accounts::sign_out_everywhere(&state.handlers, user, meta).await?;
    state.stamps.forget(user);
    Ok(position)
}

/// Forgets `user` (issue 20): their sessions end with them, refresh tokens first, as in
/// [`sign_out_everywhere`].
pub async fn erase(
    state: &AppState,
    user: Uuid,
    by: ErasedBy,
    meta: CommandMeta,
) -> Result<Option<commands::store::Position>, ApiError> {
    revoke_all(&state.pool, user).await?;
    let position = accounts::erase(&state.handlers, &state.credentials, user, by, meta).await?;
    state.stamps.forget(user);
    Ok(position)
}

/// Whether `password` is `account`'s, for a step that asks the person to sign in again.
pub async fn password_is_right(
    state: &AppState,
    account: &Account,
    password: String,
) -> Result<bool, ApiError> {
    let hash = state.credentials.hash_of(&*state.store, account).await?;
    match hash {
        Some(hash) => state.passwords.verify(password, hash).await,
        None => Ok(false),
    }
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new access token and a new refresh token of `family`, which began at
/// `family_started_at`: the refresh token expires after [`REFRESH_TTL_DAYS`] or at the
/// family's absolute end (`REFRESH_FAMILY_LIFETIME` after its first login), whichever
/// comes first, however often it was rotated.
async fn issue_pair(
    state: &AppState,
    account: &Account,
    family: Uuid,
    family_started_at: DateTime<Utc>,
) -> Result<TokenPair, ApiError> {
    let now = Utc::now();
    let lifetime = chrono::Duration::from_std(state.config.refresh_family_lifetime)
        .map_err(ApiError::internal)?;
    let expires_at =
        (now + chrono::Duration::days(REFRESH_TTL_DAYS)).min(family_started_at + lifetime);
    if expires_at <= now {
        return Err(ApiError::Unauthorized(
            "the session has reached its absolute lifetime; sign in again".into(),
        ));
    }
    let user = account.user_id.as_uuid();
    let access_token = issue_access_token(
        state.jwt_secret.expose().as_bytes(),
        user,
        account.role,
        account.security_version,
        now.timestamp(),
    )?;
    let raw: [u8; 32] = rand::random();
    let refresh_token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    sqlx::query(
        "insert into auth.refresh_tokens
             (token_hash, family_id, user_id, expires_at, family_started_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash(&refresh_token))
    .bind(family)
    .bind(user)
    .bind(expires_at)
    .bind(family_started_at)
    .execute(&state.pool)
    .await?;
    Ok(TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_TTL.as_secs(),
    })
}

/// A refresh token that was spent: the session it continues.
struct Session {
    family: Uuid,
    user: Uuid,
    family_started_at: DateTime<Utc>,
}

enum Spent {
    Live(Session),
    /// The token had been spent (or its family revoked) before. `user` is set when this
    /// use revoked a family that was still live, which is worth recording once.
    Reused {
        family: Uuid,
        user: Option<Uuid>,
    },
}

/// Spends `refresh_token`. A token presented a second time was copied: its whole family
/// is revoked, so neither the thief nor the owner can go on with it.
async fn spend(state: &AppState, refresh_token: &str) -> Result<Spent, ApiError> {
    let mut tx = state.pool.begin().await?;
    let row: Option<(Uuid, Uuid, bool, bool, bool, DateTime<Utc>)> = sqlx::query_as(
        "select family_id, user_id, used_at is not null, revoked_at is not null,
                expires_at < now(), coalesce(family_started_at, issued_at)
           from auth.refresh_tokens where token_hash = $1 for update",
    )
    .bind(token_hash(refresh_token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some((family, user, used, revoked, expired, family_started_at)) = row else {
        return Err(ApiError::Unauthorized(
            "the refresh token is not valid".into(),
        ));
    };
    if used || revoked {
        let newly_revoked = sqlx::query(
            "update auth.refresh_tokens set revoked_at = now()
              where family_id = $1 and revoked_at is null",
        )
        .bind(family)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        tracing::warn!(%user, %family, "refresh token reused; the family is revoked");
        return Ok(Spent::Reused {
            family,
            user: (newly_revoked > 0).then_some(user),
        });
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
    Ok(Spent::Live(Session {
        family,
        user,
        family_started_at,
    }))
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
