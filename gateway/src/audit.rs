//! `GET /api/v1/audit`: the audit trail (auditors and admins), read from the `audit` read
//! model: who did what, on which resource, when, through which request.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::user::Role;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Who reads the audit trail, here and in the console.
pub const READERS: &[Role] = &[Role::Auditor, Role::Admin];

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(list), components(schemas(AuditEntry, AuditPage)))]
pub struct AuditApi;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// The acting user's id.
    actor: Option<Uuid>,
    /// The resource type (`order`, `product`, ...), or `type:id` for one resource.
    resource: Option<String>,
    /// The event type (`OrderPlaced`).
    action: Option<String>,
    /// The request or flow.
    correlation_id: Option<Uuid>,
    /// The `X-Request-Id` the client sent with its request.
    client_request_id: Option<String>,
    /// From this time, inclusive (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Until this time, exclusive.
    to: Option<DateTime<Utc>>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// One event of the trail: who did what, on which resource, when, through which
/// request.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// The event's id.
    pub id: Uuid,
    /// The acting user; `null` for the engine itself.
    pub user_id: Option<Uuid>,
    pub role: String,
    /// The event type (`OrderPlaced`).
    pub action: String,
    /// The resource type (`order`, `product`, ...).
    pub resource: String,
    pub resource_id: String,
    /// The event's data, personal fields redacted.
    #[schema(value_type = Object)]
    pub details: Value,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub occurred_at: Option<DateTime<Utc>>,
    /// The request or flow, as the server named it.
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<Uuid>,
    /// The `X-Request-Id` the client sent, if any: its own label, not a correlation.
    pub client_request_id: Option<String>,
    pub stream_id: String,
    pub stream_version: i64,
}

/// One page of the trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

impl From<Row> for AuditEntry {
    fn from(r: Row) -> Self {
        AuditEntry {
            id: r.event_id,
            user_id: r.user_id,
            role: r.role,
            action: r.action,
            resource: r.resource,
            resource_id: r.resource_id,
            details: r.details,
            ip_address: r.ip_address,
            user_agent: r.user_agent,
            created_at: r.created_at,
            occurred_at: r.occurred_at,
            correlation_id: r.correlation_id,
            causation_id: r.causation_id,
            client_request_id: r.client_request_id,
            stream_id: r.stream_id,
            stream_version: r.stream_version,
        }
    }
}

/// A row of `audit.audit_logs`.
#[derive(sqlx::FromRow)]
struct Row {
    event_id: Uuid,
    user_id: Option<Uuid>,
    role: String,
    action: String,
    resource: String,
    resource_id: String,
    details: Value,
    ip_address: Option<String>,
    user_agent: Option<String>,
    created_at: DateTime<Utc>,
    occurred_at: Option<DateTime<Utc>>,
    correlation_id: Option<Uuid>,
    causation_id: Option<Uuid>,
    client_request_id: Option<String>,
    stream_id: String,
    stream_version: i64,
}

/// The audit trail, newest first: one entry per event with its actor, request and
/// redacted details. `resource=order` is every order's trail; `resource=order:<id>` one
/// order's.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    params(AuditQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the audit trail covers this command position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of the trail, newest first", body = AuditPage),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "Not an auditor or admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`limit` or `offset` out of range", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    user.require(READERS)?;
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    let (resource, resource_id) = match q.resource.as_deref() {
        Some(r) => match r.split_once(':') {
            Some((kind, id)) => (Some(kind.to_owned()), Some(id.to_owned())),
            None => (Some(r.to_owned()), None),
        },
        None => (None, None),
    };
    caught_up(&state, &headers, "audit").await?;
    let filter = Filter {
        actor: q.actor,
        resource,
        resource_id,
        action: q.action,
        correlation_id: q.correlation_id,
        client_request_id: q.client_request_id,
        from: q.from,
        to: q.to,
    };
    Ok(Json(find(&state.pool, &filter, limit, offset).await?))
}

/// What a reader of the trail asks for; each `None` is no filter.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub actor: Option<Uuid>,
    pub resource: Option<String>,
    pub resource_id: Option<String>,
    pub action: Option<String>,
    pub correlation_id: Option<Uuid>,
    pub client_request_id: Option<String>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

/// One page of the trail under `f`, newest first (log order breaks ties), with the count
/// of every entry that passes. `/audit`, the admin API's search and export, and the
/// console's audit pages all ask through here.
pub async fn find(
    pool: &PgPool,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> Result<AuditPage, ApiError> {
    let filter = "($1::uuid is null or user_id = $1)
          and ($2::text is null or resource = $2)
          and ($3::text is null or resource_id = $3)
          and ($4::text is null or action = $4)
          and ($5::uuid is null or correlation_id = $5)
          and ($6::timestamptz is null or created_at >= $6)
          and ($7::timestamptz is null or created_at < $7)
          and ($8::text is null or client_request_id = $8)";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from audit.audit_logs where {filter}"
    )))
    .bind(f.actor)
    .bind(&f.resource)
    .bind(&f.resource_id)
    .bind(&f.action)
    .bind(f.correlation_id)
    .bind(f.from)
    .bind(f.to)
    .bind(&f.client_request_id)
    .fetch_one(pool)
    .await?;
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select event_id, user_id, role, action, resource, resource_id, details,
                host(ip_address) as ip_address, user_agent, created_at, occurred_at,
                correlation_id, causation_id, client_request_id, stream_id, stream_version
           from audit.audit_logs where {filter}
          order by created_at desc, commit_position desc, prepare_position desc
          limit $9 offset $10"
    )))
    .bind(f.actor)
    .bind(&f.resource)
    .bind(&f.resource_id)
    .bind(&f.action)
    .bind(f.correlation_id)
    .bind(f.from)
    .bind(f.to)
    .bind(&f.client_request_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok(AuditPage {
        items: rows.into_iter().map(AuditEntry::from).collect(),
        total,
        limit,
        offset,
    })
}
