//! `/vendors`: a signed-in account applies for a store; anyone reads an approved store's
//! page (its owner and staff read any, with its private part); admins decide on it and
//! set its terms. Commands call one use case of `commands::vendors` and answer the store
//! as the write side has it; the page reads the `vendors` read model.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use commands::vendors::{self as use_case, NewVendor};
use domain::user::Role;
use domain::vendors::{CommissionRule, VendorStatus};
use serde::{Deserialize, Deserializer};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::views::{
    CommissionView, PayoutView, VendorPrivateView, VendorRating, VendorRow, VendorView,
};
use crate::auth::viewer::Viewer;
use crate::auth::{AuthUser, STAFF};
use crate::consistency::caught_up;
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/vendors", post(apply).get(super::list::list_vendors))
        .route("/vendors/{id}", get(vendor_page))
        .route("/vendors/{id}/status", put(change_status))
        .route("/vendors/{id}/terms", put(change_terms))
        .route("/vendors/{id}/commission", put(change_commission))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        apply,
        super::list::list_vendors,
        vendor_page,
        change_status,
        change_terms,
        change_commission
    ),
    components(schemas(
        ApplyBody,
        PayoutBody,
        StatusBody,
        TermsBody,
        CommissionBody,
        RuleBody,
        CommissionView,
        VendorView,
        VendorPrivateView,
        VendorRating,
        PayoutView
    )),
    tags((name = "vendors", description = "The stores of the marketplace: applications, their pages, staff's decisions and terms"))
)]
pub struct VendorsApi;

const ADMIN: &[Role] = &[Role::Admin];

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PayoutBody {
    account_holder: String,
    /// The account at the payout provider (an IBAN, an account number).
    account: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VendorApplyBody)]
struct ApplyBody {
    /// 1 to 100 characters.
    store_name: String,
    /// a-z, 0-9 and single dashes; made from the store name when absent. Unique.
    slug: Option<String>,
    description: Option<String>,
    /// An http(s) URL.
    logo_url: Option<String>,
    contact_email: String,
    contact_phone: Option<String>,
    payout: Option<PayoutBody>,
}

/// Applies for a store (any signed-in account, once). The store starts `pending` and its
/// id is the applicant's; an admin approves it, and the applicant becomes its vendor
/// member (a customer's role turns `vendor`, which ends their open sessions: they sign in
/// again). Contact and payout details are personal: sealed in the log with the
/// applicant's key, shown to no one but the owner and staff.
#[utoipa::path(
    post,
    path = "/api/v1/vendors",
    tag = "vendors",
    security(("bearer" = [])),
    request_body = ApplyBody,
    responses(
        (status = 201, description = "The store, `pending`, with its private part", body = VendorView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 409, description = "`already_applied` (this account has a store), `slug_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field the rules refuse (`errors` names it), or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn apply(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<ApplyBody>,
) -> Result<impl IntoResponse, ApiError> {
    let input = NewVendor {
        store_name: body.store_name,
        slug: body.slug,
        description: body.description,
        logo_url: body.logo_url,
        contact_email: body.contact_email,
        contact_phone: body.contact_phone,
        payout: body.payout.map(|p| (p.account_holder, p.account)),
    };
    let outcome = use_case::apply(
        &state.handlers,
        user.user_id,
        input,
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    let commission = use_case::commission_of(&state.handlers, &outcome.vendor).await?;
    Ok((
        StatusCode::CREATED,
        crate::consistency::headers(outcome.position),
        Json(VendorView::private(&outcome.vendor, commission)),
    ))
}

/// A store's page by its slug (or id): anyone reads an approved store's; a pending, rejected or
/// suspended store is found only by its owner and staff, who also get its private part
/// (contact, payout, terms), read from the write side.
#[utoipa::path(
    get,
    path = "/api/v1/vendors/{id}",
    tag = "vendors",
    params(
        ("id" = String, Path, description = "The store's slug, or its id"),
        ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the vendors read model covers this command position"),
    ),
    responses(
        (status = 200, description = "The store", body = VendorView),
        (status = 400, description = "A malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 404, description = "No such store, or not one the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn vendor_page(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Result<Json<VendorView>, ApiError> {
    caught_up(&state, &headers, "vendors").await?;
    let row: Option<VendorRow> = sqlx::query_as(
        "select v.vendor_id, v.owner_id, v.slug, v.store_name, v.description, v.logo_url,
                v.status, v.applied_at, r.average::float8 as rating_average,
                r.review_count::int8 as rating_count
           from vendors.vendors v
           left join reviews.vendor_ratings r using (vendor_id)
          where v.slug = $1 or v.vendor_id::text = $1",
    )
    .bind(slug.trim().to_ascii_lowercase())
    .fetch_optional(&state.pool)
    .await?;
    let caller = viewer.0.as_ref();
    let insider =
        |r: &VendorRow| caller.is_some_and(|u| STAFF.contains(&u.role) || u.user_id == r.owner_id);
    let Some(row) = row.filter(|r| r.status == VendorStatus::Approved.as_str() || insider(r))
    else {
        return Err(ApiError::NotFound("no such store".into()));
    };
    let private = if insider(&row) {
        match use_case::find(&state.handlers, row.vendor_id).await? {
            Some(v) => {
                let commission = use_case::commission_of(&state.handlers, &v).await?;
                Some(VendorPrivateView::of(&v, commission))
            }
            None => None,
        }
    } else {
        None
    };
    let mut view = VendorView::from(row);
    view.private = private;
    Ok(Json(view))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VendorStatusBody)]
struct StatusBody {
    /// `approved` (from `pending` or `rejected`; from `suspended` it reinstates the
    /// store), `rejected` (from `pending`) or `suspended` (from `approved`).
    status: String,
    /// Required to reject or suspend.
    reason: Option<String>,
}

/// Decides on a store (admin): approve (the applicant becomes its vendor member),
/// reject, suspend (its products leave the storefront at once: list, search, product
/// pages) or reinstate (they come back). Asking for the status it has changes nothing.
#[utoipa::path(
    put,
    path = "/api/v1/vendors/{id}/status",
    tag = "vendors",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The store")),
    request_body = StatusBody,
    responses(
        (status = 200, description = "The store after the decision", body = VendorView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotAdmin),
        (status = 404, description = "No such store", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_status`: a move the store's status does not allow (suspending a pending store, rejecting an approved one)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown status, a rejection or suspension without a reason, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn change_status(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<StatusBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(ADMIN)?;
    let (view, position) = decide(
        &state,
        id,
        &body.status,
        body.reason,
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    Ok((crate::consistency::headers(position), Json(view)))
}

/// Moves store `id` to the status named `to` for an admin (the caller checks the role):
/// the API's decision and the console's. Answers the store as its owner and staff see it,
/// and the position to read it back at.
pub async fn decide(
    state: &AppState,
    id: Uuid,
    to: &str,
    reason: Option<String>,
    meta: commands::handler::CommandMeta,
) -> Result<(VendorView, Option<commands::store::Position>), ApiError> {
    let to: VendorStatus = to
        .trim()
        .parse()
        .map_err(|m: String| ApiError::invalid_field("status", m))?;
    if to == VendorStatus::Pending {
        return Err(ApiError::invalid_field(
            "status",
            "a store cannot go back to pending; use approved, rejected or suspended",
        ));
    }
    let outcome = use_case::change_status(&state.handlers, id, to, reason, meta).await?;
    // The owner's role may have changed: their tokens are checked afresh at once.
    state.stamps.forget(outcome.vendor.owner_id.as_uuid());
    let commission = use_case::commission_of(&state.handlers, &outcome.vendor).await?;
    Ok((
        VendorView::private(&outcome.vendor, commission),
        outcome.position,
    ))
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VendorTermsBody)]
struct TermsBody {
    /// The store's own commission in basis points, 0 to 10000; `null` goes back to the
    /// store setting `vendors.default_commission_bp`; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    commission_rate_bp: Option<Option<u32>>,
    /// Whether its products go on sale when it publishes them, without review; absent
    /// leaves it.
    trusted: Option<bool>,
}

/// Sets a store's terms (admin): its commission rate and whether it is trusted.
#[utoipa::path(
    put,
    path = "/api/v1/vendors/{id}/terms",
    tag = "vendors",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The store")),
    request_body = TermsBody,
    responses(
        (status = 200, description = "The store with its terms", body = VendorView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotAdmin),
        (status = 404, description = "No such store", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A commission outside 0 to 10000, or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn change_terms(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<TermsBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(ADMIN)?;
    let outcome = use_case::change_terms(
        &state.handlers,
        id,
        body.commission_rate_bp,
        body.trusted,
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    let commission = use_case::commission_of(&state.handlers, &outcome.vendor).await?;
    Ok((
        crate::consistency::headers(outcome.position),
        Json(VendorView::private(&outcome.vendor, commission)),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VendorCommissionRuleBody)]
struct RuleBody {
    /// Basis points of each line's sale without tax, 0 to 10000 (1000 = 10%).
    percent_bp: u32,
    /// Minor units added to each line (the line's fee). Default 0.
    #[serde(default)]
    fixed: i64,
    /// The least a line pays, in minor units. Default 0.
    #[serde(default)]
    min: i64,
    /// The most a line pays, in minor units; absent or `null`: no cap.
    max: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VendorCommissionBody)]
struct CommissionBody {
    /// The store's own rule; `null` goes back to the store setting
    /// `vendors.default_commission_bp`.
    rule: Option<RuleBody>,
}

/// Sets a store's commission rule (staff): stacked fees, a percent of each line's sale
/// (without tax) plus a fixed amount, at least `min` and at most `max`, never more than
/// the sale. The percent is rounded half up to the minor unit once per line. Each change
/// is the rule's next version; the sales paid from then on record the rule and its
/// version on each line, so a dispute recomputes them by replay.
#[utoipa::path(
    put,
    path = "/api/v1/vendors/{id}/commission",
    tag = "vendors",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The store")),
    request_body = CommissionBody,
    responses(
        (status = 200, description = "The store with its rule and version", body = VendorView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJsonOrBadId),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such store", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A part of the rule out of range (`errors` names it: `percent_bp`, `fixed`, `min`, `max`), or a body of the wrong shape", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn change_commission(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    AppJson(body): AppJson<CommissionBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let rule = body.rule.map(|r| CommissionRule {
        percent_bp: r.percent_bp,
        fixed: r.fixed,
        min: r.min,
        max: r.max,
    });
    let outcome = use_case::change_commission(
        &state.handlers,
        id,
        rule,
        request.command_meta(user.actor(), &ip),
    )
    .await?;
    let commission = use_case::commission_of(&state.handlers, &outcome.vendor).await?;
    Ok((
        crate::consistency::headers(outcome.position),
        Json(VendorView::private(&outcome.vendor, commission)),
    ))
}
