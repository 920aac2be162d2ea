//! `/admin/sql`: analysts' read-only SQL over the read models, with the answer as a table
//! or a CSV download. The query runs as `POST /api/v1/admin/sql` runs it
//! (`crate::operations::run_sql`): the analysts' own role, a read-only transaction, a
//! timeout and a row cap. A query changes nothing, so the read-only switch leaves it on;
//! the form still carries the session's token, as every console form does.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use super::page::{html, layout, shown, PageError};
use super::session::Signed;
use crate::error::ApiError;
use crate::operations::{run_sql, SqlAnswer, ROW_CAP, SQL_READERS};
use crate::state::AppState;

const EXAMPLE: &str = "select status, count(*) as orders, sum(total) as total\n  from orders.orders\n group by status\n order by orders desc";

fn form(signed: &Signed, sql: &str) -> Markup {
    html! {
        form.sql method="post" action="/admin/sql" hx-boost="false" {
            input type="hidden" name="csrf" value=(signed.csrf);
            div.field {
                label for="sql" { "Query (one; the read models' schemas, as schemas/read-models.md describes them)" }
                textarea #sql name="sql" rows="8" required spellcheck="false" { (sql) }
            }
            div.buttons {
                button #run type="submit" name="format" value="table" { "Run" }
                button #csv type="submit" name="format" value="csv" { "Download CSV" }
            }
            p.hint { "Read-only, stopped after 5 s, at most " (ROW_CAP) " rows." }
        }
    }
}

fn table(answer: &SqlAnswer) -> Markup {
    html! {
        p.summary #sql-summary {
            (answer.rows.len()) " rows in " (format!("{:.0}", answer.elapsed_ms)) " ms"
            @if answer.truncated { strong #truncated { " — cut at " (answer.row_cap) " rows" } }
        }
        table #sql-rows {
            caption { "The query's rows" }
            thead { tr { @for c in &answer.columns { th scope="col" { (c) } } } }
            tbody {
                @for row in &answer.rows {
                    tr { @for v in row { td { @match v { Some(v) => (v), None => span.muted { "null" } } } } }
                }
            }
        }
    }
}

/// `GET /admin/sql`
pub async fn show(signed: Signed) -> Result<Response, PageError> {
    signed.require(SQL_READERS)?;
    Ok(html(
        StatusCode::OK,
        layout("SQL", Some(&signed.viewer()), form(&signed, EXAMPLE)),
    ))
}

#[derive(Debug, Deserialize)]
pub struct SqlForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    sql: String,
    #[serde(default)]
    format: Option<String>,
}

/// `POST /admin/sql`: the rows under the form, or a CSV file.
pub async fn run(
    State(state): State<AppState>,
    signed: Signed,
    body: Result<Form<SqlForm>, FormRejection>,
) -> Result<Response, PageError> {
    signed.require(SQL_READERS)?;
    let Form(f) = body.map_err(|e| ApiError::bad_request("invalid_form", e.body_text()))?;
    signed.check_csrf(f.csrf.as_deref())?;
    let result = run_sql(&state, &f.sql).await;
    if f.format.as_deref() == Some("csv") {
        if let Ok(answer) = &result {
            return Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"query.csv\"",
                    ),
                ],
                answer.csv(),
            )
                .into_response());
        }
    }
    let (status, answer) = shown(result)?;
    let body = html! {
        (form(&signed, &f.sql))
        @match &answer {
            Err(refusal) => (refusal),
            Ok(a) => (table(a)),
        }
    };
    Ok(html(status, layout("SQL", Some(&signed.viewer()), body)))
}
