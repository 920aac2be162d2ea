//! The catalog's back-office pages (issue 25 item 4): `/admin/products`, a page of
//! products of any status, searchable (the query of `GET /api/v1/products` and
//! `/products/search` as staff ask it); `/admin/products/{id}`, one product as
//! `GET /api/v1/products/{id}` answers staff, with its images, variants, the stock of each
//! of its SKUs per warehouse (`GET /api/v1/inventory/{sku}`), the actions staff may take
//! (`variant_forms` for its variants), a link to its reviews, and its History tab: who
//! created it, changed its price, published it, and why.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use commands::handler::CommandHandler;
use commands::store::{Direction, ReadFrom};
use domain::catalog::{Product, ProductState};
use domain::value::Sku;
use maud::{html, Markup};
use serde_json::{json, Value};
use uuid::Uuid;

use super::confirm;
use super::history::{self, MAX_EVENTS};
use super::links::{stream as stream_link, with_query};
use super::page::{at, html, layout, money, shown, PageError};
use super::session::Signed;
use crate::auth::viewer::Viewer;
use crate::auth::STAFF;
use crate::catalog::listing::{self, ProductFilter};
use crate::catalog::params::params;
use crate::catalog::views::{ProductView, StockView};
use crate::state::AppState;
use crate::views::Money;

/// Products on one page.
const PAGE: i64 = 25;

/// The statuses the filter offers, as the API names them.
const STATUSES: &[&str] = &["all", "draft", "pending_review", "active", "archived"];

/// The session as a browsing caller: staff see every status and the stock counts.
pub fn as_viewer(signed: &Signed) -> Viewer {
    Viewer(Some(signed.api_user()))
}

/// `GET /admin/products`
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    q: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    // A form sends its blank fields; the API's listing reads a blank as a value.
    let mut p = params(q, &["q", "status", "offset"])?;
    p.retain(|_, v| !v.trim().is_empty());
    let search = p.get("q").cloned();
    let status = p.get("status").cloned().unwrap_or_else(|| "all".into());
    let mut query: HashMap<String, String> = p;
    query.insert("status".into(), status.clone());
    query.insert("limit".into(), PAGE.to_string());
    let viewer = as_viewer(&signed);
    let result = match ProductFilter::parse(&query, &viewer) {
        Ok(filter) => listing::product_page(&state.pool, filter, true).await,
        Err(e) => Err(e),
    };
    let (code, answer) = shown(result)?;
    let writable = !state.config.console_read_only;
    let page_link = |offset: i64| {
        with_query(
            "/admin/products",
            &[
                ("q", search.as_deref()),
                ("status", Some(&status)),
                ("offset", Some(&offset.to_string())),
            ],
        )
    };
    let body = html! {
        (confirm::read_only_notice(&state))
        @if writable {
            p.actions { a.button #new-product href="/admin/products/new" { "New product…" } }
        }
        form.filters method="get" action="/admin/products" role="search" {
            div.field {
                label for="q" { "Search" }
                input #q name="q" type="search" value=[search.as_deref()] placeholder="name, description, \"exact words\"";
            }
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    @for s in STATUSES {
                        option value=(s) selected[status == *s] { (s) }
                    }
                }
            }
            button type="submit" { "Show" }
        }
        @match &answer {
            Err(refusal) => (refusal),
            Ok(page) if page.items.is_empty() => p #empty { "No product matches." },
            Ok(page) => {
                p #count { (page.total) " products" }
                table #products {
                    caption { @if search.is_some() { "Best matches first" } @else { "Newest first" } }
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "SKU" } th scope="col" { "Status" }
                        th scope="col" { "Price" } th scope="col" { "Available" } th scope="col" { "On hand" }
                        th scope="col" { "Updated (UTC)" }
                    } }
                    tbody {
                        @for p in &page.items {
                            tr {
                                td { a.product href=(format!("/admin/products/{}", p.id)) { (p.name) } }
                                td { code { (p.sku) } }
                                td.status { (p.status) }
                                td.num { (money(&p.price)) }
                                td.num {
                                    (p.stock.available)
                                    @if p.stock.low_stock == Some(true) { " " strong.low { "low" } }
                                }
                                td.num { (p.stock.on_hand.unwrap_or(0)) }
                                td { @if let Some(l) = &p.listing { (at(l.updated_at)) } }
                            }
                        }
                    }
                }
                nav.pager aria-label="Pages" {
                    @if page.offset > 0 {
                        a #prev rel="prev" href=(page_link((page.offset - page.limit).max(0))) { "← Previous" }
                    }
                    @if page.offset + page.limit < page.total {
                        a #next rel="next" href=(page_link(page.offset + page.limit)) { "Next →" }
                    }
                }
            }
        }
    };
    Ok(html(code, layout("Products", Some(&signed.viewer()), body)))
}

/// The product as its History tab diffs it: its fields as staff read them, the price as
/// people write it, images and variants by what names them.
fn record_view(s: &ProductState) -> Option<Value> {
    s.created.as_ref().map(|p| {
        json!({
            "sku": p.sku.as_str(),
            "name": p.name,
            "slug": p.slug.as_str(),
            "description": p.description,
            "category_id": p.category_id.as_uuid(),
            "price": p.price.to_string(),
            "status": p.status.as_str(),
            "attributes": p.attributes,
            "vendor_id": p.vendor_id.map(|v| v.as_uuid()),
            "images": p.images.iter().map(|i| i.url.as_str()).collect::<Vec<_>>(),
            "variants": p.variants.iter().map(|v| format!("{} ({}, {})", v.sku.as_str(), v.name, v.price)).collect::<Vec<_>>(),
            "meta_title": p.seo.meta_title,
            "meta_description": p.seo.meta_description,
        })
    })
}

/// The SKUs whose stock the product page shows: the product's own, then its variants'.
fn skus(view: &ProductView) -> Vec<String> {
    let mut out = vec![view.sku.clone()];
    if let Some(l) = &view.listing {
        if let Some(variants) = l.variants.as_array() {
            out.extend(
                variants
                    .iter()
                    .filter_map(|v| v.get("sku").and_then(Value::as_str).map(str::to_owned)),
            );
        }
    }
    out
}

/// `GET /admin/products/{id}`
pub async fn one(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    signed.require(STAFF)?;
    let viewer = as_viewer(&signed);
    let view = listing::product(&state.pool, &id.to_string(), &viewer).await?;
    let mut stock = Vec::new();
    for sku in skus(&view) {
        if let Ok(parsed) = Sku::parse(&sku) {
            stock.push((sku, crate::catalog::stock_of(&state.pool, &parsed).await?));
        }
    }
    let stream = CommandHandler::<Product>::stream_id(id);
    let events = state
        .handlers
        .store
        .read_stream(&stream, ReadFrom::End, Direction::Forwards, MAX_EVENTS)
        .await?;
    let changes = history::changes::<Product>(&events, record_view)?;
    let writable = !state.config.console_read_only;
    let base = format!("/admin/products/{id}");
    let body = html! {
        (confirm::read_only_notice(&state))
        dl.summary {
            dt { "Status" } dd #status { (view.status) }
            dt { "SKU" } dd { code #sku { (view.sku) } }
            dt { "Price" } dd #price { (money(&view.price)) }
            dt { "Slug" } dd { (view.slug) }
            dt { "Category" } dd { code { (view.category_id) } }
            dt { "Description" } dd { (view.description.as_deref().unwrap_or("—")) }
            dt { "Available" } dd #available { (view.stock.available) }
            dt { "Events" } dd { a.stream href=(stream_link(&stream)) { (stream) } }
            dt { "Storefront" } dd { a href=(format!("/api/v1/products/{id}")) { "/api/v1/products/" (id) } }
            dt { "Reviews" } dd { a #reviews href=(format!("/admin/reviews?status=all&product_id={id}")) { "Every review of it" } }
        }
        @if writable {
            nav.actions aria-label="Actions" {
                a #edit href=(format!("{base}/edit")) { "Edit…" }
                a #add-image href=(format!("{base}/images")) { "Add an image…" }
                @if view.status == "active" {
                    a #unpublish href=(format!("{base}/unpublish")) { "Unpublish…" }
                } @else if view.status != "archived" {
                    a #publish href=(format!("{base}/publish")) { "Publish…" }
                }
            }
        }
        (images(&view))
        (variants(&view, writable))
        (stock_section(&stock, writable))
        (history::tab(&changes, events.len() >= MAX_EVENTS))
    };
    Ok(html(
        StatusCode::OK,
        layout(&view.name, Some(&signed.viewer()), body),
    ))
}

fn images(view: &ProductView) -> Markup {
    let list = view
        .listing
        .as_ref()
        .and_then(|l| l.images.as_array().cloned())
        .unwrap_or_default();
    html! {
        section #images aria-labelledby="images-title" {
            h2 #images-title { "Images" }
            @if list.is_empty() {
                p.hint { "No image yet." }
            } @else {
                // Links, not pictures: the console's policy loads images from itself only.
                ol.images {
                    @for i in &list {
                        @let url = i.get("url").and_then(Value::as_str).unwrap_or_default();
                        li.image {
                            a href=(url) rel="noopener noreferrer" { (url) }
                            @if let Some(alt) = i.get("alt").and_then(Value::as_str) { " — " (alt) }
                        }
                    }
                }
            }
        }
    }
}

/// The variants, with the links to add, change and remove them (off when read-only or
/// archived: the catalog refuses changes to an archived product).
fn variants(view: &ProductView, writable: bool) -> Markup {
    let list = view
        .listing
        .as_ref()
        .and_then(|l| l.variants.as_array().cloned())
        .unwrap_or_default();
    let writable = writable && view.status != "archived";
    let base = format!("/admin/products/{}/variants", view.id);
    html! {
        section #variants-section aria-labelledby="variants-title" {
            h2 #variants-title { "Variants" }
            @if writable {
                p.actions { a #add-variant href=(format!("{base}/new")) { "Add a variant…" } }
            }
            @if list.is_empty() {
                p.hint { "No variant." }
            } @else {
                table #variants {
                    caption { "Each with its own SKU and price" }
                    thead { tr {
                        th scope="col" { "SKU" } th scope="col" { "Name" } th scope="col" { "Price" }
                        th scope="col" { "Attributes" } @if writable { th scope="col" { "Action" } }
                    } }
                    tbody {
                        @for v in &list {
                            @let id = v.get("id").and_then(Value::as_str).unwrap_or_default();
                            tr.variant data-sku=(v.get("sku").and_then(Value::as_str).unwrap_or_default()) {
                                td { code { (v.get("sku").and_then(Value::as_str).unwrap_or_default()) } }
                                td.name { (v.get("name").and_then(Value::as_str).unwrap_or_default()) }
                                td.num.price {
                                    @if let (Some(amount), Some(currency)) = (v["price"]["amount"].as_i64(), v["price"]["currency"].as_str()) {
                                        (money(&Money::of(amount, currency)))
                                    }
                                }
                                td.attributes { @if let Some(a) = v.get("attributes").and_then(Value::as_object).filter(|a| !a.is_empty()) {
                                    (Value::Object(a.clone()).to_string())
                                } }
                                @if writable {
                                    td {
                                        a.edit-variant href=(format!("{base}/{id}/edit")) { "Edit…" } " "
                                        a.remove-variant href=(format!("{base}/{id}/remove")) { "Remove…" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Each SKU's stock, per warehouse, with receive and adjust links (off when read-only).
fn stock_section(stock: &[(String, Option<StockView>)], writable: bool) -> Markup {
    let action = |sku: &str, what: &str, warehouse: Option<&str>| {
        with_query(
            &format!("/admin/stock/{}/{what}", super::links::segment(sku)),
            &[("warehouse", warehouse)],
        )
    };
    html! {
        section #stock aria-labelledby="stock-title" {
            h2 #stock-title { "Stock" }
            @for (sku, s) in stock {
                table.stock data-sku=(sku) {
                    caption {
                        code { (sku) } ": "
                        @match s {
                            Some(s) => { (s.available) " available, " (s.on_hand) " on hand, " (s.reserved) " reserved"
                                @if s.levels.as_ref().is_some_and(|l| l.low_stock) { " — " strong.low { "low stock" } } }
                            None => { "none received yet" }
                        }
                        @if writable {
                            " " a.receive href=(action(sku, "receive", None)) { "Receive…" }
                            " " a.adjust href=(action(sku, "adjust", None)) { "Adjust…" }
                        }
                    }
                    thead { tr {
                        th scope="col" { "Warehouse" } th scope="col" { "On hand" } th scope="col" { "Reserved" }
                        th scope="col" { "Available" } @if writable { th scope="col" { "Action" } }
                    } }
                    tbody {
                        @for w in s.iter().filter_map(|s| s.levels.as_ref()).flat_map(|l| &l.warehouses) {
                            tr.warehouse data-warehouse=(w.warehouse) {
                                td { (w.warehouse) }
                                td.num.on-hand { (w.on_hand) }
                                td.num { (w.reserved) }
                                td.num { (w.available) }
                                @if writable {
                                    td {
                                        a href=(action(sku, "receive", Some(&w.warehouse))) { "Receive…" } " "
                                        a href=(action(sku, "adjust", Some(&w.warehouse))) { "Adjust…" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
