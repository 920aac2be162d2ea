//! `POST /api/v1/users/{id}/erase`: the right to erasure (issue 20, ADR 0005). The person
//! themself, signing in again with their password, or an admin, has the account forgotten:
//! its data key is destroyed, so everything the log and its copies hold of them reads as
//! erased; every read model drops it; the e-mail is free to register again. Orders, totals
//! and stock keep their numbers. The erasure is an event of its own in the audit trail,
//! holding no personal data.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use commands::accounts;
use domain::user::ErasedBy;
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
    Router::new().route("/users/{id}/erase", post(erase))
}

#[derive(OpenApi)]
#[openapi(
    paths(erase),
    components(schemas(ErasureBody, Erasure)),
    tags((name = "users", description = "Accounts and their addresses (admin, or the account itself)"))
)]
pub struct ErasureApi;

/// The person's own password, which an erasure of one's own account asks for again; an
/// admin erasing someone else's sends `{}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ErasureBody {
    #[serde(default)]
    password: Option<String>,
}

/// An erased account. Fields in alphabetical order, as `crate::views` explains.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Erasure {
    /// Who asked: `subject` (the person) or `admin`.
    #[schema(value_type = String, example = "subject")]
    pub by: ErasedBy,
    /// When this request was answered.
    pub erased_at: DateTime<Utc>,
    pub id: Uuid,
    /// Always `erased`.
    #[schema(example = "erased")]
    pub status: &'static str,
}

/// Forgets the person (their own account with their password, or any account as an admin).
/// Asking again answers the same and changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/erase",
    tag = "users",
    params(("id" = Uuid, Path, description = "The user")),
    security(("bearer" = [])),
    request_body = ErasureBody,
    responses(
        (status = 200, description = "The account is erased", body = Erasure,
            headers(("X-Consistency-Token" = String, description = "Send it back on a query to read the read models without the person"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Erasing one's own account needs one's password, and this is not it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user (or not the caller's own account)", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = problem::WrongShape),
    )
)]
async fn erase(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<ErasureBody>,
) -> Result<(axum::http::HeaderMap, Json<Erasure>), ApiError> {
    self_or_admin(&user, id)?;
    let account = accounts::find(&state.handlers, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    let by = if user.user_id == id {
        // A stolen access token must not be enough to forget someone for good.
        let password = body.password.ok_or_else(|| {
            ApiError::Forbidden("erasing your own account needs your password".into())
        })?;
        if !crate::auth::password_is_right(&state, &account, password).await? {
            return Err(ApiError::Forbidden("the password is not right".into()));
        }
        ErasedBy::Subject
    } else {
        ErasedBy::Admin
    };
    let meta = request.command_meta(user.actor(), &ip);
    let position = crate::auth::erase(&state, id, by, meta).await?;
    Ok((
        crate::consistency::headers(position),
        Json(Erasure {
            by,
            erased_at: Utc::now(),
            id,
            status: "erased",
        }),
    ))
}
