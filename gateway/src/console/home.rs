//! `GET /admin`: the pages the signed-in role may open.

use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use super::page::{html, layout, pages_for};
use super::session::Signed;

pub async fn show(signed: Signed) -> Response {
    let pages: Vec<_> = pages_for(signed.role).into_iter().skip(1).collect();
    let body = html! {
        @if pages.is_empty() {
            p #nothing-yet { "No console page is open to the role " (signed.role.as_str()) " yet." }
        } @else {
            ul.cards #pages {
                @for (href, name, what) in &pages {
                    li { a href=(href) { (name) } p { (what) } }
                }
            }
        }
    };
    html(
        StatusCode::OK,
        layout("Console", Some(&signed.viewer()), body),
    )
}
