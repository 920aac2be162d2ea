//! Coupons in the back office (issue 25 item 4): `/admin/coupons`, a page of coupons by
//! code with their use (the query of `GET /api/v1/coupons`); one coupon with its History
//! tab folded from its events; creating one (`POST /api/v1/coupons`), deactivating and
//! reactivating one (`POST /api/v1/coupons/{code}/deactivate|reactivate`), each through a
//! confirm step, refused when the console is read-only.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use commands::coupons as use_case;
use commands::coupons::CouponDecided;
use commands::handler::CommandHandler;
use commands::store::{Direction, ReadFrom};
use domain::coupon::Coupon;
use domain::money::{Currency, Money as DomainMoney};
use maud::{html, Markup};
use serde::Deserialize;

use super::confirm::{self, ReasonForm};
use super::forms::{accepted, amount, answered, given, see_other, whole, Confirmed};
use super::history::{self, MAX_EVENTS};
use super::links::{segment, stream as stream_link, with_query};
use super::page::money;
use super::page::{at, html, layout, shown, PageError};
use super::session::Signed;
use crate::auth::STAFF;
use crate::coupons::read_model;
use crate::coupons::views::{CouponBody, CouponView, DiscountBody, ScopeView};
use crate::error::ApiError;
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;
use crate::views::Page;

const PAGE: i64 = 25;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouponsQuery {
    q: Option<String>,
    active: Option<String>,
    offset: Option<i64>,
}

/// A page of coupons, as `GET /api/v1/coupons` answers it.
async fn page_of(
    state: &AppState,
    active: Option<bool>,
    prefix: Option<&str>,
    offset: i64,
) -> Result<Page<CouponView>, ApiError> {
    let (limit, offset) = ApiError::page(Some(PAGE), Some(offset))?;
    let prefix = prefix.map(|p| p.trim().to_uppercase());
    let (total, rows) =
        read_model::page(&state.pool, active, prefix.as_deref(), limit, offset).await?;
    Ok(Page {
        items: rows.into_iter().map(CouponView::from).collect(),
        limit,
        offset,
        total,
    })
}

fn discount(c: &CouponView) -> String {
    match (&c.discount.amount, c.discount.basis_points) {
        (Some(m), _) => format!("{} off", money(m)),
        (None, Some(bp)) => format!("{}.{:02}% off", bp / 100, bp % 100),
        _ => c.discount.kind.clone(),
    }
}

/// `GET /admin/coupons`
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    q: Result<Query<CouponsQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let prefix = given(q.q.as_deref().unwrap_or_default());
    let active_text = given(q.active.as_deref().unwrap_or_default());
    let active = match active_text.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(ApiError::invalid_query("active", "true, false, or blank for both").into())
        }
    };
    let result = page_of(
        &state,
        active,
        prefix.as_deref(),
        q.offset.unwrap_or(0).max(0),
    )
    .await;
    let (code, answer) = shown(result)?;
    let writable = !state.config.console_read_only;
    let link = |offset: i64| {
        with_query(
            "/admin/coupons",
            &[
                ("q", prefix.as_deref()),
                ("active", active_text.as_deref()),
                ("offset", Some(&offset.to_string())),
            ],
        )
    };
    let body = html! {
        (confirm::read_only_notice(&state))
        @if writable { p.actions { a.button #new-coupon href="/admin/coupons/new" { "New coupon…" } } }
        form.filters method="get" action="/admin/coupons" role="search" {
            div.field {
                label for="q" { "Code starts with" }
                input #q name="q" type="search" value=[prefix.as_deref()] autocomplete="off";
            }
            div.field {
                label for="active" { "Active" }
                select #active name="active" {
                    option value="" { "Both" }
                    option value="true" selected[active == Some(true)] { "Active" }
                    option value="false" selected[active == Some(false)] { "Deactivated" }
                }
            }
            button type="submit" { "Show" }
        }
        @match &answer {
            Err(refusal) => (refusal),
            Ok(page) if page.items.is_empty() => p #empty { "No coupon matches." },
            Ok(page) => {
                table #coupons {
                    caption { (page.total) " coupons, by code" }
                    thead { tr {
                        th scope="col" { "Code" } th scope="col" { "Discount" } th scope="col" { "Active" }
                        th scope="col" { "Uses" } th scope="col" { "Left" } th scope="col" { "Until" }
                        @if writable { th scope="col" { "Action" } }
                    } }
                    tbody {
                        @for c in &page.items {
                            tr.coupon data-code=(c.code) {
                                td { a href=(format!("/admin/coupons/{}", segment(&c.code))) { code { (c.code) } } }
                                td { (discount(c)) }
                                td.active { (if c.active { "yes" } else { "no" }) }
                                td.num { (c.uses) }
                                td.num { (c.remaining.map(|r| r.to_string()).unwrap_or_else(|| "∞".into())) }
                                td { (c.valid_until.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                                @if writable {
                                    td { @if c.active {
                                        a.deactivate href=(format!("/admin/coupons/{}/deactivate", segment(&c.code))) { "Deactivate…" }
                                    } @else {
                                        a.reactivate href=(format!("/admin/coupons/{}/reactivate", segment(&c.code))) { "Reactivate…" }
                                    } }
                                }
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
    Ok(html(code, layout("Coupons", Some(&signed.viewer()), body)))
}

/// What the coupon forms send.
#[derive(Debug, Default, Deserialize)]
pub struct CouponForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    code: String,
    /// `percent` or `fixed`.
    #[serde(default)]
    kind: String,
    /// A percentage (`10`, `12.5`) or an amount (`5.00`).
    #[serde(default)]
    value: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    max_uses: String,
}

impl Confirmed for CouponForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
    fn reason(&self) -> &str {
        &self.reason
    }
}

fn new_page(signed: &Signed, f: &CouponForm) -> Markup {
    let what = html! { p.effect { "Creates a coupon that customers can use at once, on every line, with no end date." } };
    let fields = html! {
        div.field {
            label for="code" { "Code (A-Z, 0-9, - and _)" }
            input #code name="code" type="text" value=(f.code) required maxlength="64" autocomplete="off";
        }
        div.field {
            label for="kind" { "Kind" }
            select #kind name="kind" {
                option value="percent" selected[f.kind != "fixed"] { "A percentage off" }
                option value="fixed" selected[f.kind == "fixed"] { "An amount off" }
            }
        }
        div.field {
            label for="value" { "Percentage or amount (10, 12.5, 5.00)" }
            input #value name="value" type="text" inputmode="decimal" value=(f.value) required;
        }
        div.field {
            label for="currency" { "Currency of an amount" }
            input #currency name="currency" type="text" value=(f.currency) maxlength="3" placeholder="USD";
        }
        div.field {
            label for="max_uses" { "Uses in all (blank: no limit)" }
            input #max_uses name="max_uses" type="number" min="1" value=(f.max_uses);
        }
    };
    confirm::form_with(
        signed,
        "/admin/coupons/new",
        "Create the coupon",
        "/admin/coupons",
        &f.reason,
        what,
        fields,
    )
}

/// `GET /admin/coupons/new`
pub async fn new_form(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    crate::operations::writable(&state)?;
    let f = CouponForm {
        currency: "USD".into(),
        ..CouponForm::default()
    };
    Ok(html(
        StatusCode::OK,
        layout("New coupon", Some(&signed.viewer()), new_page(&signed, &f)),
    ))
}

/// `POST /admin/coupons/new`
pub async fn create(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    body: Result<Form<CouponForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let (f, reason) = accepted(&state, &signed, body)?;
    let result = async {
        let reason = reason?;
        let discount = if f.kind == "fixed" {
            let currency = Currency::parse(f.currency.trim().to_uppercase().as_str())
                .map_err(|e| ApiError::invalid_field("currency", e.to_string()))?;
            DiscountBody::Fixed {
                amount: DomainMoney::new(amount("value", &f.value)?, currency),
            }
        } else {
            // Hundredths of a percent: 12.5 % is 1250 basis points.
            let basis_points = amount("value", &f.value)?;
            DiscountBody::Percent {
                basis_points: u32::try_from(basis_points)
                    .map_err(|_| ApiError::invalid_field("value", "too large"))?,
            }
        };
        let max_uses = match given(&f.max_uses) {
            Some(text) => Some(whole("max_uses", &text, 1, i64::from(u32::MAX))? as u32),
            None => None,
        };
        let body = CouponBody {
            code: Some(f.code.trim().to_owned()),
            discount,
            valid_from: None,
            valid_until: None,
            max_uses,
            max_uses_per_customer: None,
            min_order: None,
            scope: ScopeView::default(),
        };
        let meta = signed.command_meta(&request, &ip, &reason);
        let made = use_case::create_coupon(
            &state.handlers,
            body.into_terms(f.code.trim().to_owned()),
            &meta,
        )
        .await?;
        crate::consistency::reached(&state, "carts", made.position).await?;
        Ok(see_other(&with_query(
            "/admin/coupons",
            &[("q", Some(&f.code.trim().to_uppercase()))],
        )))
    }
    .await;
    answered(&signed, "New coupon", result, || new_page(&signed, &f))
}

/// Deactivate or reactivate.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Switch {
    Deactivate,
    Reactivate,
}

impl Switch {
    fn of(name: &str) -> Result<Switch, ApiError> {
        match name {
            "deactivate" => Ok(Switch::Deactivate),
            "reactivate" => Ok(Switch::Reactivate),
            _ => Err(ApiError::NotFound(format!(
                "no coupon action {name:?}: deactivate or reactivate"
            ))),
        }
    }

    fn title(self) -> &'static str {
        match self {
            Switch::Deactivate => "Deactivate a coupon",
            Switch::Reactivate => "Reactivate a coupon",
        }
    }
}

fn switch_page(signed: &Signed, c: &CouponView, how: Switch, reason: &str) -> Markup {
    let what = html! {
        dl.summary {
            dt { "Coupon" } dd { code { (c.code) } }
            dt { "Discount" } dd { (discount(c)) }
            dt { "Uses" } dd { (c.uses) }
        }
        p.effect { @match how {
            Switch::Deactivate => "Deactivates the coupon: carts and orders can no longer use it. Orders placed with it keep their discount.",
            Switch::Reactivate => "Reactivates the coupon: carts and orders may use it again, under its terms (dates, uses).",
        } }
    };
    let (label, path) = match how {
        Switch::Deactivate => ("Deactivate the coupon", "deactivate"),
        Switch::Reactivate => ("Reactivate the coupon", "reactivate"),
    };
    confirm::form(
        signed,
        &format!("/admin/coupons/{}/{path}", segment(&c.code)),
        label,
        &format!("/admin/coupons/{}", segment(&c.code)),
        reason,
        what,
    )
}

async fn coupon(state: &AppState, code: &str) -> Result<CouponView, ApiError> {
    read_model::coupon(&state.pool, &code.trim().to_uppercase())
        .await?
        .map(CouponView::from)
        .ok_or_else(|| ApiError::NotFound("no such coupon".into()))
}

/// `GET /admin/coupons/{code}`
pub async fn one(
    State(state): State<AppState>,
    signed: Signed,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let c = coupon(&state, &code).await?;
    let stream = CommandHandler::<Coupon>::stream_id(c.id);
    let events = state
        .handlers
        .store
        .read_stream(&stream, ReadFrom::End, Direction::Forwards, MAX_EVENTS)
        .await?;
    let changes = history::changes::<Coupon>(&events, |s| {
        s.terms.is_some().then(|| {
            serde_json::json!(CouponView::from(&CouponDecided {
                coupon_id: c.id,
                state: s.clone(),
                position: None,
            }))
        })
    })?;
    let writable = !state.config.console_read_only;
    let path = segment(&c.code);
    let body = html! {
        (confirm::read_only_notice(&state))
        dl.summary {
            dt { "Discount" } dd { (discount(&c)) }
            dt { "Active" } dd #active { (if c.active { "yes" } else { "no" }) }
            dt { "Uses" } dd { (c.uses) @if let Some(m) = c.max_uses { " of " (m) } }
            @if let Some(t) = c.valid_from { dt { "From" } dd { (at(t)) } }
            @if let Some(t) = c.valid_until { dt { "Until" } dd { (at(t)) } }
            dt { "Events" } dd { a.stream href=(stream_link(&stream)) { (stream) } }
        }
        @if writable {
            nav.actions aria-label="Actions" {
                @if c.active {
                    a #deactivate href=(format!("/admin/coupons/{path}/deactivate")) { "Deactivate…" }
                } @else {
                    a #reactivate href=(format!("/admin/coupons/{path}/reactivate")) { "Reactivate…" }
                }
            }
        }
        (history::tab(&changes, events.len() >= MAX_EVENTS))
    };
    Ok(html(
        StatusCode::OK,
        layout(&c.code, Some(&signed.viewer()), body),
    ))
}

/// `GET /admin/coupons/{code}/{deactivate|reactivate}`
pub async fn switch_form(
    State(state): State<AppState>,
    signed: Signed,
    Path((code, how)): Path<(String, String)>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let how = Switch::of(&how)?;
    crate::operations::writable(&state)?;
    let c = coupon(&state, &code).await?;
    Ok(html(
        StatusCode::OK,
        layout(
            how.title(),
            Some(&signed.viewer()),
            switch_page(&signed, &c, how, ""),
        ),
    ))
}

/// `POST /admin/coupons/{code}/{deactivate|reactivate}`
pub async fn switch(
    State(state): State<AppState>,
    signed: Signed,
    request: RequestId,
    ip: ClientIp,
    Path((code, how)): Path<(String, String)>,
    body: Result<Form<ReasonForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let how = Switch::of(&how)?;
    let (f, reason) = accepted(&state, &signed, body)?;
    let c = coupon(&state, &code).await?;
    let result = async {
        let reason = reason?;
        let meta = signed.command_meta(&request, &ip, &reason);
        let done = match how {
            Switch::Deactivate => {
                use_case::deactivate_coupon(&state.handlers, &c.code, &meta).await?
            }
            Switch::Reactivate => {
                use_case::reactivate_coupon(&state.handlers, &c.code, &meta).await?
            }
        };
        crate::consistency::reached(&state, "carts", done.position).await?;
        Ok(see_other(&format!("/admin/coupons/{}", segment(&c.code))))
    }
    .await;
    answered(&signed, how.title(), result, || {
        switch_page(&signed, &c, how, &f.reason)
    })
}
