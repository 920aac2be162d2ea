//! `GET/PUT /api/v1/users/{id}/preferences`: what a person consents to (marketing e-mail,
//! SMS, personalised recommendations, analytics tracking), read from and written to the
//! account itself (issue 20, item 4). Nothing is consented to until the person says so;
//! every change is a `PreferencesChanged` event with its time and source (the person, or
//! an admin on their behalf), which the audit trail keeps.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use commands::accounts::{self, AccountError};
use domain::user::{Account, ConsentSource, Preferences, UserError};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::access::self_or_admin;
use crate::auth::AuthUser;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/users/{id}/preferences",
        get(get_preferences).put(put_preferences),
    )
}

#[derive(OpenApi)]
#[openapi(
    paths(get_preferences, put_preferences),
    components(schemas(UserPreferences, PreferencesBody)),
    tags((name = "users", description = "Accounts and their addresses (admin, or the account itself)"))
)]
pub struct PreferencesApi;

/// What a person consents to. Fields in alphabetical order, as `crate::views` explains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UserPreferences {
    /// Recording their browsing behaviour for analytics.
    pub analytics_tracking: bool,
    /// Marketing e-mail (order and account e-mail is not marketing).
    pub marketing_email: bool,
    /// Recommendations chosen from what they viewed and bought.
    pub personalised_recommendations: bool,
    /// Marketing text messages.
    pub sms: bool,
}

impl From<Preferences> for UserPreferences {
    fn from(p: Preferences) -> Self {
        UserPreferences {
            analytics_tracking: p.analytics_tracking,
            marketing_email: p.marketing_email,
            personalised_recommendations: p.personalised_recommendations,
            sms: p.sms,
        }
    }
}

/// The four consents, all given at once: a field left out is not consented to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PreferencesBody {
    #[serde(default)]
    analytics_tracking: bool,
    #[serde(default)]
    marketing_email: bool,
    #[serde(default)]
    personalised_recommendations: bool,
    #[serde(default)]
    sms: bool,
}

/// An account's consents as the write side holds them; 404 when there is none.
async fn account(state: &AppState, id: Uuid) -> Result<Account, ApiError> {
    accounts::find(&state.handlers, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such user".into()))
}

/// What the person consents to (admin, or the account itself).
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/preferences",
    tag = "users",
    params(("id" = Uuid, Path, description = "The user")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The consents; all false until given", body = UserPreferences),
        (status = 400, response = problem::BadId),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such user (or not the caller's own account)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_preferences(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<UserPreferences>, ApiError> {
    self_or_admin(&user, id)?;
    Ok(Json(account(&state, id).await?.preferences.into()))
}

/// Records what the person consents to (admin, or the account itself; an admin's change
/// is recorded as theirs). Withdrawing consent is never refused, suspended or not.
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}/preferences",
    tag = "users",
    params(("id" = Uuid, Path, description = "The user")),
    security(("bearer" = [])),
    request_body = PreferencesBody,
    responses(
        (status = 200, description = "The consents now recorded", body = UserPreferences,
            headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such user (or not the caller's own account)", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = problem::WrongShape),
    )
)]
async fn put_preferences(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<PreferencesBody>,
) -> Result<(axum::http::HeaderMap, Json<UserPreferences>), ApiError> {
    self_or_admin(&user, id)?;
    let preferences = Preferences {
        marketing_email: body.marketing_email,
        sms: body.sms,
        personalised_recommendations: body.personalised_recommendations,
        analytics_tracking: body.analytics_tracking,
    };
    let source = if user.user_id == id {
        ConsentSource::User
    } else {
        ConsentSource::Admin
    };
    let meta = request.command_meta(user.actor(), &ip);
    let changed = accounts::set_preferences(&state.handlers, id, preferences, source, meta)
        .await
        .map_err(|e| match e {
            AccountError::Rejected(UserError::NotRegistered) => {
                ApiError::NotFound("no such user".into())
            }
            e => e.into(),
        })?;
    Ok((
        crate::consistency::headers(changed.position),
        Json(changed.account.preferences.into()),
    ))
}
