//! Console sessions. Signing in to the console is signing in to the API
//! (`auth::sign_in`: the same accounts, failed-login limits and audit facts); the
//! session's refresh token, never shown to a script, is the `um_console` cookie
//! (`HttpOnly`, `SameSite=Strict`, `Path=/admin`, `Secure` when the request came over
//! HTTPS). A row of `console.sessions` beside the token keeps the role and security
//! version the session began with, checked on every request as an access token's are, so a
//! demotion, a suspension or a new password ends it at once; and the CSRF token of its
//! forms. The console never spends the refresh token, so signing out everywhere or a
//! password reset (which revoke it) end the console session too.
//!
//! CSRF: every form carries a token in a hidden `csrf` field, checked on POST against the
//! session's (the sign-in form, which has no session yet, against the `um_console_login`
//! cookie it was served with). `SameSite=Strict` already keeps other sites' forms from
//! sending the cookies; the token holds even where a browser does not honour it.

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, HOST};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use base64::Engine;
use chrono::{Duration, Utc};
use domain::user::Role;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::page::{PageError, Viewer};
use crate::error::ApiError;
use crate::state::AppState;

/// The session cookie: the session's refresh token.
pub const SESSION_COOKIE: &str = "um_console";
/// The sign-in form's CSRF cookie, before there is a session.
pub const LOGIN_COOKIE: &str = "um_console_login";
/// A console session ends this long after sign-in, however busy.
const SESSION_LIFETIME: Duration = Duration::hours(12);

/// The roles that may sign in to the console. Customers and vendors have the storefront
/// and the API; the console is for the people who run, audit and study the shop.
pub const CONSOLE_ROLES: &[Role] = &[Role::Staff, Role::Admin, Role::Auditor, Role::Analyst];

/// A fresh random token: 32 bytes, URL-safe base64.
pub fn random_token() -> String {
    let raw: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Equal, in a time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of cookie `name` in the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Whether the browser reached us over HTTPS: through a trusted proxy that says so, or
/// at the public URL when that is an HTTPS one. A `Secure` cookie set over plain HTTP
/// would never come back, so it is set only then.
fn over_https(state: &AppState, headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if state.config.trust_forwarded_for && header("x-forwarded-proto") == Some("https") {
        return true;
    }
    let public = &state.config.notifier.public_url;
    let public_host = public
        .strip_prefix("https://")
        .map(|rest| rest.split('/').next().unwrap_or(rest));
    public_host.is_some_and(|h| headers.get(HOST).and_then(|v| v.to_str().ok()) == Some(h))
}

/// A `Set-Cookie` value: `value` for `max_age` seconds (0 deletes it).
pub fn set_cookie(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    value: &str,
    max_age: i64,
) -> String {
    let secure = if over_https(state, headers) {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/admin; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

/// The `Set-Cookie` of a new session.
pub fn session_cookie(state: &AppState, headers: &HeaderMap, refresh_token: &str) -> String {
    set_cookie(
        state,
        headers,
        SESSION_COOKIE,
        refresh_token,
        SESSION_LIFETIME.num_seconds(),
    )
}

/// Starts a console session on the sign-in that issued `refresh_token`; answers the
/// session's CSRF token.
pub async fn open(
    state: &AppState,
    refresh_token: &str,
    user_id: Uuid,
    role: Role,
    security_version: u32,
) -> Result<String, ApiError> {
    let csrf = random_token();
    sqlx::query(
        "insert into console.sessions
             (token_hash, user_id, role, security_version, csrf_token, expires_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash(refresh_token))
    .bind(user_id)
    .bind(role.as_str())
    .bind(i64::from(security_version))
    .bind(&csrf)
    .bind(Utc::now() + SESSION_LIFETIME)
    .execute(&state.pool)
    .await?;
    Ok(csrf)
}

/// Forgets the console session of `refresh_token` (the sign-in's family is ended by
/// `auth::sign_out`).
pub async fn close(state: &AppState, refresh_token: &str) -> Result<(), ApiError> {
    sqlx::query("delete from console.sessions where token_hash = $1")
        .bind(token_hash(refresh_token))
        .execute(&state.pool)
        .await?;
    Ok(())
}

/// Someone signed in to the console, with a live session.
#[derive(Debug, Clone)]
pub struct Signed {
    pub user_id: Uuid,
    pub role: Role,
    /// The token every form of this session carries.
    pub csrf: String,
    /// The session's refresh token, to end it.
    pub refresh_token: String,
}

impl Signed {
    /// The session of the request's cookie, if one is live.
    pub async fn of(state: &AppState, headers: &HeaderMap) -> Result<Option<Signed>, ApiError> {
        let Some(token) = cookie(headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let row: Option<(Uuid, String, i64, String)> = sqlx::query_as(
            "select s.user_id, s.role, s.security_version, s.csrf_token
               from console.sessions s
               join auth.refresh_tokens t on t.token_hash = s.token_hash
              where s.token_hash = $1 and s.expires_at > now()
                and t.revoked_at is null and t.used_at is null and t.expires_at > now()",
        )
        .bind(token_hash(&token))
        .fetch_optional(&state.pool)
        .await?;
        let Some((user_id, role, version, csrf)) = row else {
            return Ok(None);
        };
        // The same check an access token passes: the account's security version has not
        // moved (no new role, password or suspension) since the session began.
        let live = state
            .stamps
            .current(user_id)
            .await?
            .is_some_and(|s| i64::from(s.version) == version && !s.suspended);
        let role = serde_json::from_value::<Role>(serde_json::Value::String(role)).ok();
        match role {
            Some(role) if live => Ok(Some(Signed {
                user_id,
                role,
                csrf,
                refresh_token: token,
            })),
            _ => Ok(None),
        }
    }

    /// A 403 page unless the session's role is one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), PageError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(PageError::Api(ApiError::Forbidden(format!(
                "this page is not for the role {}",
                self.role.as_str()
            ))))
        }
    }

    /// A 403 page unless `given` is this session's form token.
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), PageError> {
        check_csrf(Some(&self.csrf), given)
    }

    /// Who acts through this session, on the request `request`, for an operation.
    pub fn acting(&self, request: &crate::middleware::RequestId) -> crate::operations::Acting {
        crate::operations::Acting {
            user_id: self.user_id,
            role: self.role,
            correlation_id: request.correlation_id(),
        }
    }

    /// The metadata of a command this session sends on `request`, with the reason its
    /// confirm step asked for (kept in the events' metadata, read by History tabs).
    pub fn command_meta(
        &self,
        request: &crate::middleware::RequestId,
        ip: &crate::middleware::ClientIp,
        reason: &str,
    ) -> commands::handler::CommandMeta {
        let mut meta = request.command_meta(self.api_user().actor(), ip);
        meta.reason = Some(reason.to_owned());
        meta
    }

    /// The session as the API's caller: the same account and role a token would carry.
    pub fn api_user(&self) -> crate::auth::AuthUser {
        crate::auth::AuthUser {
            user_id: self.user_id,
            role: self.role,
        }
    }

    pub fn viewer(&self) -> Viewer<'_> {
        Viewer {
            user_id: self.user_id,
            role: self.role,
            csrf: &self.csrf,
        }
    }
}

/// A 403 page unless `given` equals `expected` and neither is missing.
pub fn check_csrf(expected: Option<&str>, given: Option<&str>) -> Result<(), PageError> {
    match (expected, given) {
        (Some(e), Some(g)) if same(e, g) => Ok(()),
        _ => Err(PageError::Api(ApiError::Forbidden(
            "the form's security token is missing or stale; reload the page and send it again"
                .into(),
        ))),
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        match Signed::of(state, &parts.headers).await? {
            Some(signed) => Ok(signed),
            None => Err(PageError::SignIn {
                // Back where the reader was going, unless it was a form being sent.
                next: match parts.method {
                    Method::GET => parts
                        .uri
                        .path_and_query()
                        .map_or("/admin".into(), |p| p.as_str().to_owned()),
                    _ => "/admin".into(),
                },
            }),
        }
    }
}
