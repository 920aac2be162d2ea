//! Price rules in the back office (issue 24's service, issue 25's page): `/admin/pricing`,
//! the rules by priority filtered by status and scope (the query of
//! `GET /api/v1/pricing/rules`); one rule with its terms and a History tab folded from its
//! events, which answers who changed a price, when and why; and the confirm steps of
//! creating a rule (`POST /api/v1/pricing/rules`), enabling and disabling one
//! (`POST /api/v1/pricing/rules/{id}/enable|disable`), refused when the console is
//! read-only. The form writes the common rules (a percentage or an amount off, a set price);
//! tiers and "buy X get Y" are written through the API.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use chrono::{DateTime, NaiveDateTime, Utc};
use commands::handler::CommandHandler;
use commands::pricing as use_case;
use commands::store::{Direction, ReadFrom};
use domain::money::{Currency, Money as DomainMoney};
use domain::pricing::{Adjustment, PriceRule, Scope, Segment};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::confirm::{self, ReasonForm};
use super::forms::{accepted, amount, answered, given, see_other, whole, Confirmed};
use super::history::{self, MAX_EVENTS};
use super::links::{stream as stream_link, with_query};
use super::page;
use super::page::{at, html, layout, shown, PageError};
use super::session::Signed;
use crate::auth::STAFF;
use crate::error::ApiError;
use crate::middleware::{ClientIp, RequestId};
use crate::pricing::list::{self, Filter, SCOPES, STATUSES};
use crate::pricing::views::{RuleBody, RuleView};
use crate::state::AppState;

const PAGE: i64 = 25;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesQuery {
    status: Option<String>,
    scope: Option<String>,
    offset: Option<i64>,
}

/// What a rule applies to, as people read it.
fn scope(s: &Scope) -> Markup {
    match s {
        Scope::Store => html! { "the whole store" },
        Scope::Product { product_id } => {
            html! { "product " a href=(format!("/admin/products/{product_id}")) { code { (product_id) } } }
        }
        Scope::Variant { variant_id } => html! { "variant " code { (variant_id) } },
        Scope::Category { category_id } => html! { "category " code { (category_id) } },
        Scope::Vendor { vendor_id } => {
            html! { "store " a href=(format!("/admin/vendors/{vendor_id}")) { code { (vendor_id) } } }
        }
    }
}

fn percent(basis_points: u32) -> String {
    format!("{}.{:02}%", basis_points / 100, basis_points % 100)
}

/// What a rule takes off, as people read it.
fn adjustment(a: &Adjustment) -> String {
    let shown = |m: &DomainMoney| page::money(&crate::views::Money::from(*m));
    match a {
        Adjustment::PercentOff { basis_points } => format!("{} off", percent(*basis_points)),
        Adjustment::AmountOff { amount } => format!("{} off each unit", shown(amount)),
        Adjustment::SetPrice { amount } => format!("each unit at {}", shown(amount)),
        Adjustment::Tiered { tiers } => tiers
            .iter()
            .map(|t| format!("{}+ units: {} off", t.min_quantity, percent(t.basis_points)))
            .collect::<Vec<_>>()
            .join("; "),
        Adjustment::BuyXGetY {
            buy,
            get,
            basis_points,
        } => format!("buy {buy}, get {get} at {} off", percent(*basis_points)),
    }
}

fn segment(s: &Segment) -> String {
    match s {
        Segment::All => "every customer".into(),
        Segment::NewCustomers => "new customers".into(),
        Segment::Rfm { name } => format!("the {name} segment"),
    }
}

fn window(r: &RuleView) -> String {
    let end = |t: Option<DateTime<Utc>>| t.map(|t| t.format("%Y-%m-%d %H:%M").to_string());
    match (end(r.starts_at), end(r.ends_at)) {
        (None, None) => "always".into(),
        (Some(s), None) => format!("from {s}"),
        (None, Some(e)) => format!("until {e}"),
        (Some(s), Some(e)) => format!("{s} to {e}"),
    }
}

/// `GET /admin/pricing`
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    q: Result<Query<RulesQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let status = given(q.status.as_deref().unwrap_or_default());
    let scope_kind = given(q.scope.as_deref().unwrap_or_default());
    let offset = q.offset.unwrap_or(0).max(0);
    let result = async {
        let filter = Filter::new(status.clone(), scope_kind.clone())?;
        let (limit, offset) = ApiError::page(Some(PAGE), Some(offset))?;
        list::page(&state.pool, &filter, limit, offset).await
    }
    .await;
    let (code, answer) = shown(result)?;
    let writable = !state.config.console_read_only;
    let link = |offset: i64| {
        with_query(
            "/admin/pricing",
            &[
                ("status", status.as_deref()),
                ("scope", scope_kind.as_deref()),
                ("offset", Some(&offset.to_string())),
            ],
        )
    };
    let body = html! {
        (confirm::read_only_notice(&state))
        @if writable { p.actions { a.button #new-rule href="/admin/pricing/new" { "New rule…" } } }
        form.filters method="get" action="/admin/pricing" role="search" {
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" { "Any" }
                    @for s in STATUSES { option value=(s) selected[status.as_deref() == Some(*s)] { (s) } }
                }
            }
            div.field {
                label for="scope" { "Applies to" }
                select #scope name="scope" {
                    option value="" { "Anything" }
                    @for s in SCOPES { option value=(s) selected[scope_kind.as_deref() == Some(*s)] { (s) } }
                }
            }
            button type="submit" { "Show" }
        }
        @match &answer {
            Err(refusal) => (refusal),
            Ok(page) if page.items.is_empty() => p #empty { "No price rule matches." },
            Ok(page) => {
                table #rules {
                    caption { (page.total) " rules, highest priority first" }
                    thead { tr {
                        th scope="col" { "Rule" } th scope="col" { "Applies to" } th scope="col" { "Takes off" }
                        th scope="col" { "When" } th scope="col" { "Priority" } th scope="col" { "Status" }
                    } }
                    tbody {
                        @for r in &page.items {
                            tr.rule data-id=(r.id) data-status=(r.status) {
                                td { a href=(format!("/admin/pricing/{}", r.id)) { (r.name) } }
                                td { (scope(&r.scope)) }
                                td { (adjustment(&r.adjustment)) }
                                td { (window(r)) }
                                td.num { (r.priority) @if r.stacks { " (stacks)" } }
                                td.status { (r.status) }
                            }
                        }
                    }
                }
                nav.pager aria-label="Pages" {
                    @if page.offset > 0 { a rel="prev" href=(link((page.offset - page.limit).max(0))) { "← Previous" } }
                    @if page.offset + page.limit < page.total { a rel="next" href=(link(page.offset + page.limit)) { "Next →" } }
                }
            }
        }
    };
    Ok(html(
        code,
        layout("Price rules", Some(&signed.viewer()), body),
    ))
}

async fn rule(state: &AppState, id: Uuid) -> Result<RuleView, ApiError> {
    let decided = use_case::price_rule(&state.handlers, id).await?;
    RuleView::of(&decided).ok_or_else(|| ApiError::NotFound("no such price rule".into()))
}

/// `GET /admin/pricing/{id}`
pub async fn one(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let r = rule(&state, id).await?;
    let stream = CommandHandler::<PriceRule>::stream_id(id);
    let events = state
        .handlers
        .store
        .read_stream(&stream, ReadFrom::End, Direction::Forwards, MAX_EVENTS)
        .await?;
    let changes = history::changes::<PriceRule>(&events, |s| RuleView::of(s).map(|v| json!(v)))?;
    let writable = !state.config.console_read_only;
    let body = html! {
        (confirm::read_only_notice(&state))
        dl.summary {
            dt { "Applies to" } dd #applies { (scope(&r.scope)) }
            dt { "Takes off" } dd #takes { (adjustment(&r.adjustment)) }
            dt { "For" } dd { (segment(&r.segment)) }
            dt { "When" } dd { (window(&r)) }
            dt { "Priority" } dd { (r.priority) ", " (if r.stacks { "combines with other rules" } else { "does not combine" }) }
            dt { "Status" } dd #status { (r.status) }
            dt { "Version" } dd { (r.version) }
            @if let Some(t) = r.updated_at { dt { "Changed" } dd { (at(t)) } }
            dt { "Events" } dd { a.stream href=(stream_link(&stream)) { (stream) } }
        }
        @if writable {
            nav.actions aria-label="Actions" {
                @if r.enabled {
                    a #disable href=(format!("/admin/pricing/{id}/disable")) { "Disable…" }
                } @else {
                    a #enable href=(format!("/admin/pricing/{id}/enable")) { "Enable…" }
                }
            }
        }
        (history::tab(&changes, events.len() >= MAX_EVENTS))
    };
    Ok(html(
        StatusCode::OK,
        layout(&r.name, Some(&signed.viewer()), body),
    ))
}

/// What the rule forms send.
#[derive(Debug, Default, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    name: String,
    /// `store`, `product`, `variant`, `category` or `vendor`.
    #[serde(default)]
    scope: String,
    /// The id the scope names (not for `store`).
    #[serde(default)]
    scope_id: String,
    /// `percent_off`, `amount_off` or `set_price`.
    #[serde(default)]
    kind: String,
    /// A percentage (`10`, `12.5`) or an amount (`5.00`).
    #[serde(default)]
    value: String,
    #[serde(default)]
    currency: String,
    /// `YYYY-MM-DDTHH:MM`, UTC, as a `datetime-local` field sends it; blank: open.
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    stacks: Option<String>,
    #[serde(default)]
    enabled: Option<String>,
}

impl Confirmed for RuleForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
    fn reason(&self) -> &str {
        &self.reason
    }
}

/// An instant typed in a `datetime-local` field, read as UTC.
fn instant(field: &str, text: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(text) = given(text) else {
        return Ok(None);
    };
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| {
            ApiError::invalid_field(field, "a date and time such as 2026-12-24T18:00 (UTC)")
        })
}

impl RuleForm {
    /// The API's body for what the form says; the API's own reading (`RuleBody`) checks
    /// the shapes, and the domain the rules.
    fn body(&self) -> Result<RuleBody, ApiError> {
        let kind = self.scope.trim();
        let scope = match kind {
            "store" => json!({ "kind": "store" }),
            "product" | "variant" | "category" | "vendor" => {
                let id = Uuid::parse_str(self.scope_id.trim()).map_err(|_| {
                    ApiError::invalid_field("scope_id", format!("the {kind}'s id, a UUID"))
                })?;
                json!({ "kind": kind, format!("{kind}_id"): id })
            }
            _ => return Err(ApiError::invalid_field("scope", SCOPES.join(", "))),
        };
        let money = || -> Result<Value, ApiError> {
            let currency = Currency::parse(self.currency.trim().to_uppercase().as_str())
                .map_err(|e| ApiError::invalid_field("currency", e.to_string()))?;
            Ok(json!(DomainMoney::new(
                amount("value", &self.value)?,
                currency
            )))
        };
        let adjustment = match self.kind.as_str() {
            // Hundredths of a percent: 12.5 % is 1250 basis points.
            "percent_off" => {
                json!({ "kind": "percent_off", "basis_points": amount("value", &self.value)? })
            }
            "amount_off" => json!({ "kind": "amount_off", "amount": money()? }),
            "set_price" => json!({ "kind": "set_price", "amount": money()? }),
            _ => {
                return Err(ApiError::invalid_field(
                    "kind",
                    "percent_off, amount_off or set_price",
                ))
            }
        };
        let priority = match given(&self.priority) {
            Some(p) => whole("priority", &p, -1_000_000, 1_000_000)?,
            None => 0,
        };
        let body = json!({
            "name": self.name.trim(),
            "scope": scope,
            "adjustment": adjustment,
            "starts_at": instant("starts_at", &self.starts_at)?,
            "ends_at": instant("ends_at", &self.ends_at)?,
            "priority": priority,
            "stacks": self.stacks.is_some(),
            "enabled": self.enabled.is_some(),
        });
        serde_json::from_value(body).map_err(|e| ApiError::invalid_field("rule", e.to_string()))
    }
}

fn new_page(signed: &Signed, f: &RuleForm) -> Markup {
    let what = html! {
        p.effect { "Creates a price rule for every customer. A draft changes no price until it is enabled; an enabled rule applies within its window at once, on product pages, in carts and at checkout." }
    };
    let fields = html! {
        div.field {
            label for="name" { "Name" }
            input #name name="name" type="text" value=(f.name) required maxlength="200" autocomplete="off";
        }
        div.field {
            label for="rule-scope" { "Applies to" }
            select #rule-scope name="scope" {
                @for s in SCOPES { option value=(s) selected[f.scope == *s] { (s) } }
            }
        }
        div.field {
            label for="scope_id" { "Its id (blank for the whole store)" }
            input #scope_id name="scope_id" type="text" value=(f.scope_id) autocomplete="off";
        }
        div.field {
            label for="kind" { "Takes off" }
            select #kind name="kind" {
                option value="percent_off" selected[f.kind == "percent_off"] { "A percentage" }
                option value="amount_off" selected[f.kind == "amount_off"] { "An amount per unit" }
                option value="set_price" selected[f.kind == "set_price"] { "Sets the unit price" }
            }
        }
        div.field {
            label for="value" { "Percentage or amount (10, 12.5, 5.00)" }
            input #value name="value" type="text" inputmode="decimal" value=(f.value) required;
        }
        div.field {
            label for="currency" { "Currency of an amount" }
            input #currency name="currency" type="text" value=(f.currency) maxlength="3";
        }
        div.field {
            label for="starts_at" { "From (UTC; blank: now)" }
            input #starts_at name="starts_at" type="datetime-local" value=(f.starts_at);
        }
        div.field {
            label for="ends_at" { "Until (UTC; blank: no end)" }
            input #ends_at name="ends_at" type="datetime-local" value=(f.ends_at);
        }
        div.field {
            label for="priority" { "Priority (higher first)" }
            input #priority name="priority" type="number" value=(f.priority);
        }
        div.field.check {
            input #stacks name="stacks" type="checkbox" value="on" checked[f.stacks.is_some()];
            label for="stacks" { "Combines with other rules" }
        }
        div.field.check {
            input #enabled name="enabled" type="checkbox" value="on" checked[f.enabled.is_some()];
            label for="enabled" { "Enable at once" }
        }
    };
    confirm::form_with(
        signed,
        "/admin/pricing/new",
        "Create the rule",
        "/admin/pricing",
        &f.reason,
        what,
        fields,
    )
}

/// `GET /admin/pricing/new`
pub async fn new_form(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    crate::operations::writable(&state)?;
    let f = RuleForm {
        scope: "store".into(),
        kind: "percent_off".into(),
        currency: "USD".into(),
        priority: "0".into(),
        ..RuleForm::default()
    };
    Ok(html(
        StatusCode::OK,
        layout(
            "New price rule",
            Some(&signed.viewer()),
            new_page(&signed, &f),
        ),
    ))
}

/// `POST /admin/pricing/new`
pub async fn create(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    body: Result<Form<RuleForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let (f, reason) = accepted(&state, &signed, body)?;
    let result = async {
        let reason = reason?;
        let (terms, enabled) = f.body()?.terms();
        let meta = signed.command_meta(&request, &ip, &reason);
        let made = use_case::create_rule(&state.handlers, terms, enabled, &meta).await?;
        crate::consistency::reached(&state, "pricing", made.position).await?;
        Ok(see_other(&format!("/admin/pricing/{}", made.rule_id)))
    }
    .await;
    answered(&signed, "New price rule", result, || new_page(&signed, &f))
}

/// Enable or disable.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Switch {
    Enable,
    Disable,
}

impl Switch {
    fn of(name: &str) -> Result<Switch, ApiError> {
        match name {
            "enable" => Ok(Switch::Enable),
            "disable" => Ok(Switch::Disable),
            _ => Err(ApiError::NotFound(format!(
                "no rule action {name:?}: enable or disable"
            ))),
        }
    }

    fn title(self) -> &'static str {
        match self {
            Switch::Enable => "Enable a price rule",
            Switch::Disable => "Disable a price rule",
        }
    }
}

fn switch_page(signed: &Signed, r: &RuleView, how: Switch, reason: &str) -> Markup {
    let what = html! {
        dl.summary {
            dt { "Rule" } dd { (r.name) }
            dt { "Takes off" } dd { (adjustment(&r.adjustment)) }
            dt { "Status" } dd { (r.status) }
        }
        p.effect { @match how {
            Switch::Enable => "Enables the rule: it changes prices within its window at once, on product pages, in carts and at checkout.",
            Switch::Disable => "Disables the rule: back to a draft, it no longer changes any price. Orders already placed keep their prices.",
        } }
    };
    let (label, path) = match how {
        Switch::Enable => ("Enable", "enable"),
        Switch::Disable => ("Disable", "disable"),
    };
    confirm::form(
        signed,
        &format!("/admin/pricing/{}/{path}", r.id),
        label,
        &format!("/admin/pricing/{}", r.id),
        reason,
        what,
    )
}

/// `GET /admin/pricing/{id}/{enable|disable}`
pub async fn switch_form(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, how)): Path<(Uuid, String)>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let how = Switch::of(&how)?;
    crate::operations::writable(&state)?;
    let r = rule(&state, id).await?;
    Ok(html(
        StatusCode::OK,
        layout(
            how.title(),
            Some(&signed.viewer()),
            switch_page(&signed, &r, how, ""),
        ),
    ))
}

/// `POST /admin/pricing/{id}/{enable|disable}`
pub async fn switch(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    Path((id, how)): Path<(Uuid, String)>,
    body: Result<Form<ReasonForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let how = Switch::of(&how)?;
    let (f, reason) = accepted(&state, &signed, body)?;
    let r = rule(&state, id).await?;
    let result = async {
        let reason = reason?;
        let meta = signed.command_meta(&request, &ip, &reason);
        let done = match how {
            Switch::Enable => use_case::enable_rule(&state.handlers, id, &meta).await?,
            Switch::Disable => use_case::disable_rule(&state.handlers, id, &meta).await?,
        };
        crate::consistency::reached(&state, "pricing", done.position).await?;
        Ok(see_other(&format!("/admin/pricing/{id}")))
    }
    .await;
    answered(&signed, how.title(), result, || {
        switch_page(&signed, &r, how, &f.reason)
    })
}
