//! `/warehouses` (staff): creating a warehouse (its code unique, claimed on the write
//! side), deactivating one, and reading them from the `inventory` read model.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use commands::inventory::{self as use_case, NewWarehouse, WarehouseDecided, WarehouseUseError};
use domain::id::WarehouseId;
use domain::inventory::{WarehouseError, WarehouseState};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::query::{page, PageQuery};
use crate::auth::{AuthUser, STAFF};
use crate::consistency::{self, caught_up};
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/warehouses", get(list).post(create))
        .route("/warehouses/{code}", get(one).delete(deactivate))
}

#[derive(OpenApi)]
#[openapi(
    paths(create, list, one, deactivate),
    components(schemas(WarehouseBody, WarehouseView, WarehouseTimes, Page<WarehouseView>))
)]
pub struct WarehousesApi;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct WarehouseBody {
    /// 1 to 64 lowercase letters, digits, `.`, `_` or `-`; what stock movements name.
    code: String,
    /// 1 to 200 characters, one line.
    name: String,
    /// ISO 3166-1 alpha-2.
    country: Option<String>,
    region: Option<String>,
    /// 0 (the default) to 1000.
    priority: Option<i32>,
}

/// A warehouse. A command answers what the write side holds; a query adds its times.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarehouseView {
    /// False once deactivated: it receives nothing more.
    pub active: bool,
    pub code: String,
    pub country: Option<String>,
    pub id: Uuid,
    pub name: String,
    pub priority: i32,
    pub region: Option<String>,
    /// Queries only.
    #[serde(flatten)]
    #[schema(value_type = WarehouseTimes)]
    pub times: Option<WarehouseTimes>,
}

/// When a warehouse was created and deactivated, as the read model recorded it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarehouseTimes {
    #[schema(required = false)]
    pub created_at: DateTime<Utc>,
    #[schema(required = false)]
    pub deactivated_at: Option<DateTime<Utc>>,
}

impl From<&WarehouseState> for WarehouseView {
    fn from(w: &WarehouseState) -> Self {
        WarehouseView {
            active: w.active,
            code: w.code.clone(),
            country: w.country.clone(),
            id: w.warehouse_id.map(|id| id.as_uuid()).unwrap_or_default(),
            name: w.name.clone(),
            priority: w.priority,
            region: w.region.clone(),
            times: None,
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    warehouse_id: Uuid,
    code: String,
    name: String,
    country: Option<String>,
    region: Option<String>,
    priority: i32,
    active: bool,
    created_at: DateTime<Utc>,
    deactivated_at: Option<DateTime<Utc>>,
}

impl From<Row> for WarehouseView {
    fn from(r: Row) -> Self {
        WarehouseView {
            active: r.active,
            code: r.code,
            country: r.country,
            id: r.warehouse_id,
            name: r.name,
            priority: r.priority,
            region: r.region,
            times: Some(WarehouseTimes {
                created_at: r.created_at,
                deactivated_at: r.deactivated_at,
            }),
        }
    }
}

const COLUMNS: &str =
    "warehouse_id, code, name, country, region, priority, active, created_at, deactivated_at";

impl From<WarehouseUseError> for ApiError {
    fn from(e: WarehouseUseError) -> Self {
        match e {
            e @ WarehouseUseError::CodeTaken { .. } => {
                ApiError::conflict("warehouse_code_taken", e.to_string())
            }
            e @ WarehouseUseError::NotFound { .. } => ApiError::NotFound(e.to_string()),
            WarehouseUseError::Rejected(WarehouseError::Invalid { field, reason }) => {
                ApiError::invalid_field(field, reason)
            }
            WarehouseUseError::Rejected(e @ WarehouseError::NotCreated) => {
                ApiError::NotFound(e.to_string())
            }
            WarehouseUseError::Rejected(e @ WarehouseError::AlreadyCreated) => {
                ApiError::conflict("warehouse_code_taken", e.to_string())
            }
            WarehouseUseError::Store(e) => e.into(),
            WarehouseUseError::Failed(e) => ApiError::internal(e),
        }
    }
}

fn answer(status: StatusCode, decided: WarehouseDecided) -> impl IntoResponse {
    let mut headers = consistency::headers(decided.position);
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/warehouses/{}", decided.state.code)) {
        headers.insert(header::LOCATION, v);
    }
    (status, headers, Json(WarehouseView::from(&decided.state)))
}

/// Creates a warehouse (staff). Its code is unique: stock movements name it.
#[utoipa::path(
    post,
    path = "/api/v1/warehouses",
    tag = "inventory",
    security(("bearer" = [])),
    request_body = WarehouseBody,
    responses(
        (status = 201, description = "The warehouse; `Location` names it", body = WarehouseView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 409, description = "`warehouse_code_taken`: another warehouse has the code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad code, name, country, region or priority (`validation_failed`), or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<WarehouseBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let new = NewWarehouse {
        warehouse_id: WarehouseId::new(Uuid::new_v4()),
        code: body.code,
        name: body.name,
        country: body.country,
        region: body.region,
        priority: body.priority,
    };
    let meta = request.command_meta(user.actor(), &ip);
    let created = use_case::create_warehouse(&state.handlers, new, &meta).await?;
    Ok(answer(StatusCode::CREATED, created))
}

/// Deactivates a warehouse (staff): it receives nothing more; its stock stays, can be
/// counted and moved out. Asking again changes nothing.
#[utoipa::path(
    delete,
    path = "/api/v1/warehouses/{code}",
    tag = "inventory",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The warehouse's code")),
    responses(
        (status = 200, description = "The warehouse, inactive", body = WarehouseView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No warehouse has this code (the default `main` included, until it is created)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn deactivate(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let meta = request.command_meta(user.actor(), &ip);
    let done = use_case::deactivate_warehouse(&state.handlers, &code, &meta).await?;
    Ok(answer(StatusCode::OK, done))
}

/// Every warehouse created (staff), highest priority first, then by code.
#[utoipa::path(
    get,
    path = "/api/v1/warehouses",
    tag = "inventory",
    params(PageQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the inventory read model covers this command position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of warehouses", body = Page<WarehouseView>),
        (status = 400, response = problem::InvalidQuery),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Page<WarehouseView>>, ApiError> {
    user.require(STAFF)?;
    let (limit, offset) = page(query)?;
    caught_up(&state, &headers, "inventory").await?;
    let total: i64 = sqlx::query_scalar("select count(*) from inventory.warehouses")
        .fetch_one(&state.pool)
        .await?;
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from inventory.warehouses
          order by priority desc, code limit $1 offset $2"
    )))
    .bind(limit)
    .bind(offset)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(Page {
        items: rows.into_iter().map(WarehouseView::from).collect(),
        total,
        limit,
        offset,
    }))
}

/// One warehouse by its code (staff).
#[utoipa::path(
    get,
    path = "/api/v1/warehouses/{code}",
    tag = "inventory",
    params(("code" = String, Path, description = "The warehouse's code"), ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the inventory read model covers this command position")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The warehouse", body = WarehouseView),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No warehouse has this code", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn one(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Json<WarehouseView>, ApiError> {
    user.require(STAFF)?;
    caught_up(&state, &headers, "inventory").await?;
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from inventory.warehouses where code = $1"
    )))
    .bind(&code)
    .fetch_optional(&state.pool)
    .await?;
    row.map(|r| Json(WarehouseView::from(r)))
        .ok_or_else(|| ApiError::NotFound(format!("no warehouse has code {code:?}")))
}
