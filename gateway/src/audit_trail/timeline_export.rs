//! A correlation's timeline as a download (`/api/v1/admin/audit/correlations/{id}/export`,
//! the console's link beside the timeline): JSON, the timeline as its API answers it; or
//! CSV, one line per event in the timeline's order with the read models it has reached and
//! those it has not yet.

use axum::response::Response;
use serde::Deserialize;

use super::search::{attachment, format, Format};
use super::timeline::Timeline;
use crate::error::ApiError;

/// `?format=`
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (the default) or `json`.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub format: Option<String>,
}

/// The columns of a timeline's CSV, in order.
pub const TIMELINE_COLUMNS: [&str; 13] = [
    "position",
    "recorded_at",
    "depth",
    "event_type",
    "stream_id",
    "revision",
    "event_id",
    "caused_by",
    "actor_role",
    "actor_id",
    "correlation_id",
    "read_models_reached",
    "read_models_not_yet",
];

/// `t` as a file of the query's format.
pub fn timeline_file(t: &Timeline, q: &ExportQuery) -> Result<Response, ApiError> {
    let (content_type, name, body) = match format(q.format.as_deref())? {
        Format::Json => (
            "application/json",
            "timeline.json",
            serde_json::to_vec_pretty(t).map_err(ApiError::internal)?,
        ),
        Format::Csv => (
            "text/csv; charset=utf-8",
            "timeline.csv",
            csv(t).map_err(ApiError::internal)?,
        ),
    };
    Ok(attachment(content_type, name, body, t.truncated))
}

fn csv(t: &Timeline) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(TIMELINE_COLUMNS)?;
    let text = |v: Option<String>| v.unwrap_or_default();
    for item in &t.events {
        let e = &item.event;
        let models = |reached: bool| {
            item.read_models
                .iter()
                .filter(|m| m.reached == reached)
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        w.write_record([
            e.position.clone(),
            e.recorded_at.to_rfc3339(),
            item.depth.to_string(),
            e.event_type.clone(),
            e.stream_id.clone(),
            e.revision.to_string(),
            e.id.to_string(),
            text(item.caused_by.map(|c| c.to_string())),
            text(e.actor_role.clone()),
            text(e.actor_id.map(|a| a.to_string())),
            t.correlation_id.to_string(),
            models(true),
            models(false),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}
