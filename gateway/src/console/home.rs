//! `GET /admin`: the dashboard, for the roles that read it (what
//! `GET /api/v1/admin/dashboard` answers: today's orders and revenue, a chart of orders per
//! day over 14 days drawn as SVG here, the SKUs running low, the read models' lag), kept
//! live by htmx polling `/admin/dashboard/live`; then the pages the role may open.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup, PreEscaped};

use super::page::{at, html, layout, pages_for, PageError};
use super::session::Signed;
use crate::dashboard::{self, DashboardView, DayFigures, DASHBOARD_READERS};
use crate::state::AppState;
use crate::views::Money;

/// How often the dashboard refreshes itself.
const EVERY: &str = "every 10s";

pub async fn show(State(state): State<AppState>, signed: Signed) -> Result<Response, PageError> {
    let pages: Vec<_> = pages_for(signed.role).into_iter().skip(1).collect();
    let board = if DASHBOARD_READERS.contains(&signed.role) {
        Some(dashboard::read(&state).await?)
    } else {
        None
    };
    let body = html! {
        @if let Some(d) = &board { (live(d)) }
        @if pages.is_empty() {
            p #nothing-yet { "No console page is open to the role " (signed.role.as_str()) " yet." }
        } @else {
            h2 { "Pages" }
            ul.cards #pages {
                @for (href, name, what) in &pages {
                    li { a href=(href) { (name) } p { (what) } }
                }
            }
        }
    };
    let title = if board.is_some() {
        "Dashboard"
    } else {
        "Console"
    };
    Ok(html(
        StatusCode::OK,
        layout(title, Some(&signed.viewer()), body),
    ))
}

/// `GET /admin/dashboard/live`: the dashboard alone, which replaces itself.
pub async fn dashboard_live(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<Response, PageError> {
    signed.require(DASHBOARD_READERS)?;
    let d = dashboard::read(&state).await?;
    Ok(html(StatusCode::OK, live(&d)))
}

fn amounts(list: &[Money]) -> String {
    if list.is_empty() {
        return "0.00".into();
    }
    list.iter()
        .map(super::page::money)
        .collect::<Vec<_>>()
        .join(" + ")
}

fn live(d: &DashboardView) -> Markup {
    let p = &d.projections;
    html! {
        section #dashboard aria-labelledby="dashboard-title" hx-get="/admin/dashboard/live" hx-trigger=(EVERY) hx-swap="outerHTML" {
            h2 #dashboard-title { "Today (UTC) " small.muted { "as of " (at(d.generated_at)) } }
            ul.figures {
                li { span.figure #orders-today { (d.today.orders) } span.label { "orders placed, " (d.today.paid_orders) " paid" } }
                li { span.figure #revenue-today { (amounts(&d.today.revenue)) } span.label { "revenue (paid, less refunds)" } }
                li { a href="/admin/products" { span.figure #low-stock { (d.low_stock.total) } } span.label { "SKUs low on stock" } }
                li {
                    a href="/admin/projections" { span.figure #lag { (p.max_lag_events) } }
                    span.label {
                        "events of lag at most (" (format!("{:.1}", p.max_lag_seconds)) " s); "
                        (p.behind.len()) " of " (p.read_models) " read models behind"
                        @if !p.stalled.is_empty() { ", " strong.stalled { (p.stalled.len()) " stalled" } }
                        @if p.parked > 0 { ", " (p.parked) " parked" }
                    }
                }
            }
            figure.chart {
                (chart(&d.days))
                figcaption.muted { "Orders placed per day, the last " (d.days.len()) " days (UTC); today highlighted." }
            }
            @if !d.low_stock.items.is_empty() {
                table #low-stock-skus {
                    caption { "Running low, least available first" }
                    thead { tr { th scope="col" { "SKU" } th scope="col" { "Available" } th scope="col" { "Threshold" } } }
                    tbody {
                        @for s in &d.low_stock.items {
                            tr {
                                td { @match s.product_id {
                                    Some(id) => a href=(format!("/admin/products/{id}")) { code { (s.sku) } },
                                    None => code { (s.sku) },
                                } }
                                td.num { (s.available) }
                                td.num { (s.low_stock_threshold.map(|t| t.to_string()).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A bar chart of orders per day, as SVG drawn here: presentation by the stylesheet's
/// classes, geometry by attributes, so the policy needs no inline style. A table of the
/// same figures follows it for screen readers and for anyone who would rather read.
fn chart(days: &[DayFigures]) -> Markup {
    const W: f64 = 700.0;
    const H: f64 = 200.0;
    const TOP: f64 = 18.0;
    const BOTTOM: f64 = 22.0;
    let most = days.iter().map(|d| d.orders).max().unwrap_or(0).max(1) as f64;
    let slot = W / days.len().max(1) as f64;
    let bar = slot * 0.7;
    let plot = H - TOP - BOTTOM;
    let mut svg = String::new();
    for (i, d) in days.iter().enumerate() {
        let h = (d.orders as f64 / most) * plot;
        let x = i as f64 * slot + (slot - bar) / 2.0;
        let y = TOP + plot - h;
        let class = if i + 1 == days.len() {
            "bar today"
        } else {
            "bar"
        };
        svg.push_str(&format!(
            r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{h:.1}"><title>{day}: {n} orders</title></rect>"#,
            day = d.day,
            n = d.orders,
        ));
        let cx = x + bar / 2.0;
        if d.orders > 0 {
            svg.push_str(&format!(
                r#"<text class="value" x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                y - 4.0,
                d.orders
            ));
        }
        svg.push_str(&format!(
            r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            H - 6.0,
            d.day.format("%d")
        ));
    }
    svg.push_str(&format!(
        r#"<line class="axis" x1="0" y1="{y:.1}" x2="{W}" y2="{y:.1}"></line>"#,
        y = TOP + plot
    ));
    html! {
        svg #orders-chart xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {W} {H}")) role="img"
            aria-labelledby="orders-chart-title" {
            title #orders-chart-title { "Orders per day" }
            // Numbers and fixed class names only: nothing of a user's reaches this string.
            (PreEscaped(svg))
        }
        details.chart-data {
            summary { "The figures" }
            table #days {
                thead { tr { th scope="col" { "Day" } th scope="col" { "Orders" } th scope="col" { "Paid" } th scope="col" { "Revenue" } } }
                tbody {
                    @for d in days {
                        tr { td { (d.day) } td.num { (d.orders) } td.num { (d.paid_orders) } td.num { (amounts(&d.revenue)) } }
                    }
                }
            }
        }
    }
}
