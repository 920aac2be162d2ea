//! `GET /vendors`: the stores, from the `vendors` read model. Anyone lists the approved
//! ones (the storefront's directory); staff list any status, the applications waiting for
//! a decision among them, oldest first.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::views::{VendorRow, VendorView};
use crate::auth::viewer::Viewer;
use crate::auth::STAFF;
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::views::Page;

/// The statuses a listing may ask for; `all` is every one.
const STATUSES: &[&str] = &["pending", "approved", "rejected", "suspended", "all"];

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VendorsQuery {
    /// `approved` (the default); staff only: `pending`, `rejected`, `suspended` or `all`.
    status: Option<String>,
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// The stores in one status, in the order they applied.
#[utoipa::path(
    get,
    path = "/api/v1/vendors",
    tag = "vendors",
    params(VendorsQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the vendors read model covers this command position")),
    responses(
        (status = 200, description = "A page of stores, oldest application first", body = Page<VendorView>),
        (status = 400, description = "An unknown query parameter, or a malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, description = "A status other than `approved`, asked by someone not staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown `status`, or a bad `limit` or `offset`; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
pub async fn list_vendors(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Query(q): Query<VendorsQuery>,
) -> Result<Json<Page<VendorView>>, ApiError> {
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    let status = q.status.as_deref().unwrap_or("approved");
    if !STATUSES.contains(&status) {
        return Err(ApiError::invalid_field(
            "status",
            "one of pending, approved, rejected, suspended, all",
        ));
    }
    let staff = viewer.0.as_ref().is_some_and(|u| STAFF.contains(&u.role));
    if status != "approved" && !staff {
        return Err(ApiError::Forbidden(
            "only staff list stores that are not approved".into(),
        ));
    }
    caught_up(&state, &headers, "vendors").await?;
    let status = (status != "all").then_some(status);
    let (total, rows) = page(&state.pool, status, limit, offset).await?;
    Ok(Json(Page {
        items: rows.into_iter().map(VendorView::from).collect(),
        limit,
        offset,
        total,
    }))
}

/// The stores in `status` (any when `None`), oldest application first, and how many.
pub async fn page(
    pool: &sqlx::PgPool,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<VendorRow>), sqlx::Error> {
    let total: i64 = sqlx::query_scalar(
        "select count(*) from vendors.vendors where ($1::text is null or status = $1)",
    )
    .bind(status)
    .fetch_one(pool)
    .await?;
    let rows: Vec<VendorRow> = sqlx::query_as(
        "select v.vendor_id, v.owner_id, v.slug, v.store_name, v.description, v.logo_url,
                v.status, v.applied_at, r.average::float8 as rating_average,
                r.review_count::int8 as rating_count
           from vendors.vendors v
           left join reviews.vendor_ratings r using (vendor_id)
          where ($1::text is null or v.status = $1)
          order by v.applied_at, v.vendor_id
          limit $2 offset $3",
    )
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok((total, rows))
}
