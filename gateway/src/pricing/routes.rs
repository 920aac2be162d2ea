//! `/pricing/rules` (staff): create, list, read, change, enable and disable price rules;
//! and `/products/{id}/price` (anyone): a product's price for a quantity, explained rule
//! by rule. Each handler calls one use case of `commands::pricing` or reads a read model.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SubsecRound, Utc};
use commands::pricing::{self as use_case, PricingUseError, RuleDecided};
use domain::money::{Currency, Money as DomainMoney};
use domain::pricing::{Customer, Outcome};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use super::book::Item;
use super::list;
use super::views::{RuleBody, RuleView, StepView};
use crate::auth::viewer::Viewer;
use crate::auth::{AuthUser, STAFF};
use crate::consistency::{self, caught_up};
use crate::error::responses as problem;
use crate::error::{ApiError, AppJson, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::{Money, Page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pricing/rules", get(list_rules).post(create_rule))
        .route("/pricing/rules/{id}", get(get_rule).put(update_rule))
        .route("/pricing/rules/{id}/enable", post(enable_rule))
        .route("/pricing/rules/{id}/disable", post(disable_rule))
        .route("/products/{id}/price", get(product_price))
}

#[derive(OpenApi)]
#[openapi(
    paths(create_rule, list_rules, get_rule, update_rule, enable_rule, disable_rule, product_price),
    components(schemas(RuleBody, RuleView, Page<RuleView>, PriceView, StepView)),
    tags((name = "pricing", description = "Price rules (staff) and explained prices"))
)]
pub struct PricingApi;

impl From<PricingUseError> for ApiError {
    fn from(e: PricingUseError) -> Self {
        match e {
            PricingUseError::Invalid { field, message } => ApiError::invalid_field(field, message),
            e @ PricingUseError::NotFound => ApiError::NotFound(e.to_string()),
            PricingUseError::Store(e) => e.into(),
            PricingUseError::Failed(cause) => ApiError::internal(cause),
        }
    }
}

fn rule_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::NotFound("no such price rule".into()))
}

fn answer(status: StatusCode, decided: &RuleDecided) -> Result<impl IntoResponse, ApiError> {
    let view = RuleView::of(&decided.state)
        .ok_or_else(|| ApiError::internal("the rule has no state after its command"))?;
    Ok((status, consistency::headers(decided.position), Json(view)))
}

/// Creates a price rule (staff): a draft, or enabled at once with `enabled: true`.
#[utoipa::path(
    post,
    path = "/api/v1/pricing/rules",
    tag = "pricing",
    security(("bearer" = [])),
    request_body = RuleBody,
    responses(
        (status = 201, description = "The rule", body = RuleView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 422, description = "A bad term (name, scope naming no product or category, adjustment, window, priority, segment) or a body of the wrong shape; `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_rule(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    AppJson(body): AppJson<RuleBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let meta = request.command_meta(user.actor(), &ip);
    let (terms, enabled) = body.terms();
    let created = use_case::create_rule(&state.handlers, terms, enabled, &meta).await?;
    answer(StatusCode::CREATED, &created)
}

/// Replaces a rule's terms (staff); its version goes up by one. `enabled` is ignored:
/// enable and disable say that.
#[utoipa::path(
    put,
    path = "/api/v1/pricing/rules/{id}",
    tag = "pricing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The rule")),
    request_body = RuleBody,
    responses(
        (status = 200, description = "The rule", body = RuleView, headers(("X-Consistency-Token" = String, description = "Send it back on a query to read this change"))),
        (status = 400, response = problem::NotJson),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such rule", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad term; `errors` names the field", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn update_rule(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<String>,
    AppJson(body): AppJson<RuleBody>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let id = rule_id(&id)?;
    let meta = request.command_meta(user.actor(), &ip);
    let (terms, _) = body.terms();
    let updated = use_case::update_rule(&state.handlers, id, terms, &meta).await?;
    answer(StatusCode::OK, &updated)
}

/// Enables a rule (staff): it applies within its window.
#[utoipa::path(
    post,
    path = "/api/v1/pricing/rules/{id}/enable",
    tag = "pricing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The rule")),
    responses(
        (status = 200, description = "The rule", body = RuleView),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such rule", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn enable_rule(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let id = rule_id(&id)?;
    let meta = request.command_meta(user.actor(), &ip);
    answer(
        StatusCode::OK,
        &use_case::enable_rule(&state.handlers, id, &meta).await?,
    )
}

/// Disables a rule (staff): back to a draft, no longer applied.
#[utoipa::path(
    post,
    path = "/api/v1/pricing/rules/{id}/disable",
    tag = "pricing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The rule")),
    responses(
        (status = 200, description = "The rule", body = RuleView),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such rule", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn disable_rule(
    State(state): State<AppState>,
    user: AuthUser,
    request: RequestId,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    user.require(STAFF)?;
    let id = rule_id(&id)?;
    let meta = request.command_meta(user.actor(), &ip);
    answer(
        StatusCode::OK,
        &use_case::disable_rule(&state.handlers, id, &meta).await?,
    )
}

/// One rule as it stands now, from its stream (staff).
#[utoipa::path(
    get,
    path = "/api/v1/pricing/rules/{id}",
    tag = "pricing",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The rule")),
    responses(
        (status = 200, description = "The rule", body = RuleView),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 404, description = "No such rule", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_rule(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<RuleView>, ApiError> {
    user.require(STAFF)?;
    let id = rule_id(&id)?;
    let rule = use_case::price_rule(&state.handlers, id).await?;
    RuleView::of(&rule)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no such price rule".into()))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only rules in this status: `draft`, `scheduled`, `active` or `expired`.
    status: Option<String>,
    /// Only rules of this scope: `store`, `product`, `variant`, `category` or `vendor`.
    scope: Option<String>,
    /// 1 to 100, default 20.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// Price rules, highest priority first (staff).
#[utoipa::path(
    get,
    path = "/api/v1/pricing/rules",
    tag = "pricing",
    security(("bearer" = [])),
    params(ListQuery, ("X-Consistency-Token" = Option<String>, Header, description = "Answer once the pricing read model covers this command position")),
    responses(
        (status = 200, description = "A page of rules", body = Page<RuleView>),
        (status = 400, description = "An unknown or malformed query parameter, or a malformed `X-Consistency-Token`", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = problem::Unauthorized),
        (status = 403, response = problem::NotStaff),
        (status = 422, description = "A bad `status`, `scope`, `limit` or `offset`; `errors` names it", body = Problem, content_type = "application/problem+json"),
        (status = 503, response = problem::ProjectionLag),
    )
)]
async fn list_rules(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<RuleView>>, ApiError> {
    user.require(STAFF)?;
    let (limit, offset) = ApiError::page(q.limit, q.offset)?;
    let filter = list::Filter::new(q.status, q.scope)?;
    caught_up(&state, &headers, "pricing").await?;
    Ok(Json(list::page(&state.pool, &filter, limit, offset).await?))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PriceQuery {
    /// Units, 1 to 10,000; default 1. Tiers and "buy X get Y" count them.
    quantity: Option<u32>,
    /// The variant, for a product with variants; its price is the list price.
    variant: Option<Uuid>,
}

/// A product's price, explained.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceView {
    pub product_id: Uuid,
    pub variant_id: Option<Uuid>,
    pub quantity: u32,
    /// One unit's list price.
    pub unit_list_price: Money,
    /// `unit_list_price × quantity`.
    pub list_total: Money,
    /// What the quantity costs after every rule that applies.
    pub total: Money,
    /// `list_total − total`.
    pub discount: Money,
    /// When the price was computed: a rule's window is read against this instant.
    pub at: DateTime<Utc>,
    /// Every rule whose scope covers the line, in the order the engine considered them,
    /// with what each did.
    pub steps: Vec<StepView>,
}

fn outcome_name(o: &Outcome) -> (String, Option<i64>) {
    let amount = match o {
        Outcome::Applied { amount_off } => Some(*amount_off),
        _ => None,
    };
    let name = serde_json::to_value(o)
        .ok()
        .and_then(|v| v.get("outcome").and_then(|o| o.as_str()).map(str::to_owned))
        .unwrap_or_default();
    (name, amount)
}

/// A product's price for a quantity (and a variant), rule by rule: what each rule whose
/// scope covers it did. Priced for the caller's customer segments when signed in, else
/// for every customer.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/price",
    tag = "pricing",
    params(("id" = Uuid, Path, description = "The product"), PriceQuery),
    responses(
        (status = 200, description = "The price, explained", body = PriceView),
        (status = 400, description = "An unknown or malformed query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product, or one not on sale", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad `quantity`, or a `variant` the product does not have (`unknown_variant`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn product_price(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<PriceQuery>,
) -> Result<Json<PriceView>, ApiError> {
    let quantity = q.quantity.unwrap_or(1);
    if !(1..=10_000).contains(&quantity) {
        return Err(ApiError::invalid_field("quantity", "must be 1 to 10000"));
    }
    let product_id =
        Uuid::parse_str(&id).map_err(|_| ApiError::NotFound("no such product".into()))?;
    let product = super::items::catalog_item(&state.pool, product_id, q.variant, viewer.is_staff())
        .await?
        .ok_or_else(|| ApiError::NotFound("no such product".into()))?;
    let item = Item {
        quantity,
        ..product?
    };
    let set = state.current_rules().await?;
    let customer = match viewer.0.as_ref().map(|u| u.user_id) {
        Some(user) => super::segments::of(&state.pool, user).await?,
        None => Customer::default(),
    };
    let at = Utc::now().trunc_subsecs(0);
    let priced = set
        .price(at, &customer, &[item])
        .map_err(|e| ApiError::internal(e.to_string()))?
        .pop()
        .ok_or_else(|| ApiError::internal("the engine priced no line"))?;
    let currency: Currency = item.unit_price.currency;
    let money = |amount: i64| Money::from(DomainMoney::new(amount, currency));
    let steps = priced
        .steps
        .iter()
        .map(|s| {
            let (outcome, amount_off) = outcome_name(&s.outcome);
            StepView {
                rule_id: s.rule_id.as_uuid(),
                rule_version: s.rule_version,
                rule_name: set.name(s.rule_id).map(str::to_owned),
                outcome,
                amount_off,
            }
        })
        .collect();
    Ok(Json(PriceView {
        product_id,
        variant_id: q.variant,
        quantity,
        unit_list_price: item.unit_price.into(),
        list_total: money(priced.list_total),
        total: money(priced.total),
        discount: money(priced.list_total - priced.total),
        at,
        steps,
    }))
}
