//! `GET /api/v1/users/{id}/export`: everything the engine holds about a person, as one
//! machine-readable JSON document (the GDPR's right of access and to data portability,
//! issue 20).
//!
//! It is read from the read models: the account and its addresses (`users`), the orders
//! with their lines and status changes (`orders`), the sign-ins (`session` events) and
//! everything the person did (the events they were the actor of) from `audit`. Fields are
//! in alphabetical order, as `crate::views` explains; `format` names the document's shape,
//! so a reader can tell a later one.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::access::self_or_admin;
use super::preferences::UserPreferences;
use super::view::{address_rows, user_row, UserAccount, UserAddress};
use crate::auth::AuthUser;
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::orders::read_model;
use crate::orders::views::{HistoryEntry, OrderView};
use crate::state::AppState;

/// The shape of the document, named in it.
pub const FORMAT: &str = "ultramarket-personal-data/1";
/// Most orders and most audit entries one document holds; `truncated` says when a list
/// was cut.
const MOST: i64 = 10_000;

pub fn router() -> Router<AppState> {
    Router::new().route("/users/{id}/export", get(export))
}

#[derive(OpenApi)]
#[openapi(
    paths(export),
    components(schemas(PersonalData, SignIn, Activity)),
    tags((name = "users", description = "Accounts and their addresses (admin, or the account itself)"))
)]
pub struct ExportApi;

/// Everything held about one person.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalData {
    pub account: UserAccount,
    /// What the person did, oldest first: every event they were the actor of.
    pub activity: Vec<Activity>,
    pub addresses: Vec<UserAddress>,
    pub exported_at: DateTime<Utc>,
    /// `ultramarket-personal-data/1`.
    pub format: &'static str,
    /// Every status change of the person's orders, oldest first.
    pub order_history: Vec<HistoryEntry>,
    /// The person's orders with their lines, oldest first.
    pub orders: Vec<OrderView>,
    /// What the person consents to now; every change is in `activity`
    /// (`PreferencesChanged`).
    pub preferences: UserPreferences,
    /// Logins, failed logins, logouts and revoked sessions, oldest first.
    pub sign_ins: Vec<SignIn>,
    /// Whether `orders` or `activity` stopped at 10,000 entries.
    pub truncated: bool,
}

/// One sign-in fact.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignIn {
    /// `SignedIn`, `SignInFailed`, `SignedOut` or `SessionRevoked`.
    pub action: String,
    pub at: DateTime<Utc>,
    pub ip_address: Option<String>,
    /// Why a login failed or a session was revoked.
    pub reason: Option<String>,
    pub user_agent: Option<String>,
}

/// One thing the person did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Activity {
    /// The event, e.g. `OrderPlaced`.
    pub action: String,
    pub at: DateTime<Utc>,
    pub ip_address: Option<String>,
    /// On what: a stream category (`order`) and id.
    pub resource: String,
    pub resource_id: String,
    pub user_agent: Option<String>,
}

type AuditRow = (
    String,
    DateTime<Utc>,
    Option<String>,
    Option<String>,
    String,
    String,
    serde_json::Value,
);

/// Everything the engine holds about a person, as one JSON document (admin, or the
/// account itself).
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/export",
    tag = "users",
    params(("id" = Uuid, Path, description = "The user")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The person's data", body = PersonalData),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such user (or not the caller's own account)", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn export(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Result<Json<PersonalData>, ApiError> {
    self_or_admin(&user, id)?;
    for model in ["users", "orders", "audit"] {
        caught_up(&state, &headers, model).await?;
    }
    let pool = &state.pool;
    let account = user_row(pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    let preferences = commands::accounts::find(&state.handlers, id)
        .await?
        .map(|a| a.preferences)
        .unwrap_or_default();
    let addresses = address_rows(pool, id).await?;
    let (total_orders, orders) =
        read_model::page(pool, Some(id), None, "created_at asc", MOST, 0).await?;
    let history = read_model::history(pool, id).await?;
    let sign_ins: Vec<AuditRow> = sqlx::query_as(
        "select action, created_at, host(ip_address), user_agent, resource, resource_id, details
           from audit.audit_logs where resource = 'session' and resource_id = $1
          order by commit_position, prepare_position",
    )
    .bind(id.to_string())
    .fetch_all(pool)
    .await?;
    let activity: Vec<AuditRow> = sqlx::query_as(
        "select action, created_at, host(ip_address), user_agent, resource, resource_id, details
           from audit.audit_logs where user_id = $1 and resource <> 'session'
          order by commit_position, prepare_position limit $2",
    )
    .bind(id)
    .bind(MOST + 1)
    .fetch_all(pool)
    .await?;
    let truncated = total_orders > MOST || activity.len() as i64 > MOST;
    Ok(Json(PersonalData {
        account: account.into(),
        activity: activity
            .into_iter()
            .take(MOST as usize)
            .map(
                |(action, at, ip_address, user_agent, resource, resource_id, _)| Activity {
                    action,
                    at,
                    ip_address,
                    resource,
                    resource_id,
                    user_agent,
                },
            )
            .collect(),
        addresses: addresses.into_iter().map(UserAddress::from).collect(),
        exported_at: Utc::now(),
        format: FORMAT,
        order_history: history.into_iter().map(HistoryEntry::from).collect(),
        orders: orders.into_iter().map(OrderView::from).collect(),
        preferences: preferences.into(),
        sign_ins: sign_ins
            .into_iter()
            .map(
                |(action, at, ip_address, user_agent, _, _, details)| SignIn {
                    action,
                    at,
                    ip_address,
                    reason: details["reason"].as_str().map(str::to_owned),
                    user_agent,
                },
            )
            .collect(),
        truncated,
    }))
}
