//! The audit trail searched (`/api/v1/admin/audit`, the console's `/admin/audit`) and
//! exported (`/api/v1/admin/audit/export`, `/admin/audit/export`): the `audit` read model
//! by actor, correlation id, time range, event type and resource, paged on the server.
//! Fields arrive as text, from a query string or a console form alike: blank is no filter,
//! malformed is a 400 `invalid_query` naming the field; `limit` and `offset` out of range a
//! 422, as on `/audit`.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::audit::{find, AuditEntry, AuditPage, Filter};
use crate::error::ApiError;
use crate::event_log::{parse_time, parse_uuid};

/// The most entries one export holds; a larger result says so in `X-Export-Truncated`.
pub const EXPORT_MAX: i64 = 10_000;

/// `GET /api/v1/admin/audit`
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrailQuery {
    /// The acting user's id.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    #[param(value_type = Option<uuid::Uuid>)]
    pub actor: Option<String>,
    /// The request or flow.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    #[param(value_type = Option<uuid::Uuid>)]
    pub correlation_id: Option<String>,
    /// The event type (`OrderPlaced`).
    #[serde(
        default,
        deserialize_with = "crate::views::blank_as_none",
        rename = "type"
    )]
    pub event_type: Option<String>,
    /// The resource type (`order`), or `type:id` for one resource.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub resource: Option<String>,
    /// Recorded at or after this time (RFC 3339, or `YYYY-MM-DDTHH:MM` in UTC).
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub from: Option<String>,
    /// Recorded before this time.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub to: Option<String>,
    /// 1 to 100, default 20.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// Entries to skip, default 0.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    #[param(value_type = Option<i64>)]
    pub offset: Option<String>,
    /// Exports only: `csv` (the default) or `json`.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub format: Option<String>,
}

impl TrailQuery {
    /// The filters as query pairs, for the links that keep them (pages, exports).
    pub fn pairs(&self) -> Vec<(&'static str, Option<&str>)> {
        vec![
            ("actor", self.actor.as_deref()),
            ("correlation_id", self.correlation_id.as_deref()),
            ("type", self.event_type.as_deref()),
            ("resource", self.resource.as_deref()),
            ("from", self.from.as_deref()),
            ("to", self.to.as_deref()),
        ]
    }

    fn filter(&self) -> Result<Filter, ApiError> {
        let (resource, resource_id) = match self.resource.as_deref() {
            Some(r) => match r.split_once(':') {
                Some((kind, id)) => (Some(kind.to_owned()), Some(id.to_owned())),
                None => (Some(r.to_owned()), None),
            },
            None => (None, None),
        };
        Ok(Filter {
            actor: parse_uuid("actor", self.actor.as_deref())?,
            resource,
            resource_id,
            action: self.event_type.clone(),
            correlation_id: parse_uuid("correlation_id", self.correlation_id.as_deref())?,
            client_request_id: None,
            from: parse_time("from", self.from.as_deref())?,
            to: parse_time("to", self.to.as_deref())?,
        })
    }
}

fn number(field: &str, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    text.map(|t| {
        t.parse()
            .map_err(|_| ApiError::invalid_query(field, "must be a whole number"))
    })
    .transpose()
}

/// One page of the trail under the query's filters, newest first, with the total.
pub async fn search(pool: &sqlx::PgPool, q: &TrailQuery) -> Result<AuditPage, ApiError> {
    let filter = q.filter()?;
    let (limit, offset) = ApiError::page(
        number("limit", q.limit.as_deref())?,
        number("offset", q.offset.as_deref())?,
    )?;
    if q.format.is_some() {
        return Err(ApiError::invalid_query(
            "format",
            "only an export takes a format",
        ));
    }
    find(pool, &filter, limit, offset).await
}

/// How an export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

/// The whole result of the query's filters (up to [`EXPORT_MAX`] entries, newest first) as
/// a file to download: CSV with a header line, or JSON `{items, total, truncated}`.
pub async fn export(pool: &sqlx::PgPool, q: &TrailQuery) -> Result<Response, ApiError> {
    let format = format(q.format.as_deref())?;
    let filter = q.filter()?;
    let page = find(pool, &filter, EXPORT_MAX, 0).await?;
    let truncated = page.total > EXPORT_MAX;
    let (content_type, name, body) = match format {
        Format::Csv => (
            "text/csv; charset=utf-8",
            "audit-trail.csv",
            csv(&page.items).map_err(ApiError::internal)?,
        ),
        Format::Json => (
            "application/json",
            "audit-trail.json",
            serde_json::to_vec_pretty(&serde_json::json!({
                "items": page.items, "total": page.total, "truncated": truncated,
            }))
            .map_err(ApiError::internal)?,
        ),
    };
    Ok(attachment(content_type, name, body, truncated))
}

/// A file to download: `name` of `content_type`, saying whether it holds all it should.
pub fn attachment(
    content_type: &'static str,
    name: &'static str,
    body: Vec<u8>,
    truncated: bool,
) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                    .expect("a plain file name"),
            ),
            (
                header::HeaderName::from_static("x-export-truncated"),
                HeaderValue::from_static(if truncated { "true" } else { "false" }),
            ),
        ],
        body,
    )
        .into_response()
}

/// `format=csv` (the default) or `format=json`.
pub fn format(text: Option<&str>) -> Result<Format, ApiError> {
    match text {
        None | Some("csv") => Ok(Format::Csv),
        Some("json") => Ok(Format::Json),
        Some(_) => Err(ApiError::invalid_query("format", "must be csv or json")),
    }
}

/// The columns of a CSV export, in order.
pub const CSV_COLUMNS: [&str; 16] = [
    "created_at",
    "occurred_at",
    "action",
    "resource",
    "resource_id",
    "stream_id",
    "stream_version",
    "user_id",
    "role",
    "correlation_id",
    "causation_id",
    "client_request_id",
    "ip_address",
    "user_agent",
    "event_id",
    "details",
];

fn csv(items: &[AuditEntry]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS)?;
    let text = |v: Option<String>| v.unwrap_or_default();
    for e in items {
        w.write_record([
            e.created_at.to_rfc3339(),
            text(e.occurred_at.map(|t| t.to_rfc3339())),
            e.action.clone(),
            e.resource.clone(),
            e.resource_id.clone(),
            e.stream_id.clone(),
            e.stream_version.to_string(),
            text(e.user_id.map(|u| u.to_string())),
            e.role.clone(),
            text(e.correlation_id.map(|u| u.to_string())),
            text(e.causation_id.map(|u| u.to_string())),
            text(e.client_request_id.clone()),
            text(e.ip_address.clone()),
            text(e.user_agent.clone()),
            e.id.to_string(),
            e.details.to_string(),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}
