//! The event log's questions and how the store answers them. Each query's fields arrive
//! as text, from the API's query string or a console form alike: an empty field is no
//! filter (what an HTML form sends for a blank input), and a malformed one is a 400
//! `invalid_query` naming it.

use chrono::{DateTime, NaiveDateTime, Utc};
use commands::store::{
    AllRead, Direction, EventFilter, EventStore, Position, ReadFrom, StreamFilter,
};
use serde::Deserialize;
use uuid::Uuid;

use super::views::{EventPage, EventView, StreamEvents, StreamPage, StreamSummary};
use crate::error::ApiError;

/// Items per page unless `limit` says otherwise, and the most it may say.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

/// `GET /api/v1/admin/streams`
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamsQuery {
    /// Streams of this category (`order`, `product`, `user`, ...).
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub category: Option<String>,
    /// The stream id, where `*` is any run of characters; without a `*`, ids that contain
    /// it. Either case matches.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub id: Option<String>,
    /// Streams that took an event at or after this time (RFC 3339, or
    /// `YYYY-MM-DDTHH:MM` in UTC).
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub active_since: Option<String>,
    /// The `next_cursor` of the previous page.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub cursor: Option<String>,
    /// 1 to 100, default 20.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
}

/// `GET /api/v1/admin/events`
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Events of streams of this category.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub category: Option<String>,
    /// The event type (`OrderPlaced`).
    #[serde(
        default,
        deserialize_with = "crate::views::blank_as_none",
        rename = "type"
    )]
    pub event_type: Option<String>,
    /// Recorded at or after this time (RFC 3339, or `YYYY-MM-DDTHH:MM` in UTC).
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub from: Option<String>,
    /// Recorded before this time.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub to: Option<String>,
    /// Events of this request or flow.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    #[param(value_type = Option<Uuid>)]
    pub correlation_id: Option<String>,
    /// Events caused by this command or event.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    #[param(value_type = Option<Uuid>)]
    pub causation_id: Option<String>,
    /// The events just older than this position (a page's `older`).
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub before: Option<String>,
    /// The events just newer than this position (a page's `newer`). Without `before` or
    /// `after`, the newest events.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub after: Option<String>,
    /// 1 to 100, default 20.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
}

/// `GET /api/v1/admin/streams/{stream_id}`
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// The first revision to show (default 0).
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    #[param(value_type = Option<u64>)]
    pub from: Option<String>,
    /// 1 to 100, default 20.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
}

fn limit(text: Option<&str>) -> Result<usize, ApiError> {
    match text {
        None => Ok(DEFAULT_LIMIT),
        Some(t) => t
            .parse()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::invalid_query("limit", "must be a number from 1 to 100")),
    }
}

/// RFC 3339, or what an HTML `datetime-local` input sends (`2026-12-08T10:30`), in UTC.
pub fn time(field: &str, text: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(t) = text else { return Ok(None) };
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
        .map(|at| Some(at.and_utc()))
        .ok_or_else(|| {
            ApiError::invalid_query(
                field,
                "must be a time, RFC 3339 (2026-12-08T10:30:00Z) or 2026-12-08T10:30 (UTC)",
            )
        })
}

pub fn uuid(field: &str, text: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    text.map(|t| {
        t.parse()
            .map_err(|_| ApiError::invalid_query(field, "must be a UUID"))
    })
    .transpose()
}

fn position(field: &str, text: Option<&str>) -> Result<Option<Position>, ApiError> {
    text.map(|t| {
        t.parse()
            .map_err(|_| ApiError::invalid_query(field, "must be a position, <commit>/<prepare>"))
    })
    .transpose()
}

/// A category is the part of a stream id before its first `-`, so it holds none.
fn category(text: Option<&str>) -> Result<Option<String>, ApiError> {
    match text {
        Some(c) if c.contains('-') => Err(ApiError::invalid_query(
            "category",
            "a category holds no '-' (it is the part of a stream id before the first one)",
        )),
        c => Ok(c.map(str::to_owned)),
    }
}

/// One page of the streams that pass the query's filters, in id order.
pub async fn streams(store: &dyn EventStore, q: &StreamsQuery) -> Result<StreamPage, ApiError> {
    let limit = limit(q.limit.as_deref())?;
    let filter = StreamFilter {
        category: category(q.category.as_deref())?,
        id_pattern: q.id.clone(),
        active_since: time("active_since", q.active_since.as_deref())?,
    };
    // One more than asked tells whether a next page exists.
    let mut found = store
        .search_streams(&filter, q.cursor.as_deref(), limit + 1)
        .await?;
    let more = found.len() > limit;
    found.truncate(limit);
    Ok(StreamPage {
        next_cursor: more
            .then(|| found.last().map(|s| s.stream_id.clone()))
            .flatten(),
        items: found.into_iter().map(StreamSummary::from).collect(),
        limit,
    })
}

/// One page of `$all` under the query's filters, newest first, with the cursors of the
/// pages on either side when they hold anything. Positions order `$all` totally and the
/// store never answers an event that a later read would place before one it answered
/// (ADR 0001), so walking the cursors either way meets every event once.
pub async fn events(store: &dyn EventStore, q: &EventsQuery) -> Result<EventPage, ApiError> {
    let limit = limit(q.limit.as_deref())?;
    let filter = EventFilter {
        category: category(q.category.as_deref())?,
        event_type: q.event_type.clone(),
        from: time("from", q.from.as_deref())?,
        to: time("to", q.to.as_deref())?,
        correlation_id: uuid("correlation_id", q.correlation_id.as_deref())?,
        causation_id: uuid("causation_id", q.causation_id.as_deref())?,
    };
    let before = position("before", q.before.as_deref())?;
    let after = position("after", q.after.as_deref())?;
    let (items, newer, older) = match (before, after) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_query(
                "before",
                "give `before` or `after`, not both",
            ))
        }
        (None, Some(after)) => {
            let mut found = store
                .read_all_filtered(&filter, AllRead::Forwards { after }, limit + 1)
                .await?;
            let newer = found.len() > limit;
            found.truncate(limit);
            found.reverse();
            let older = match found.last() {
                Some(oldest) => {
                    let from = AllRead::Backwards {
                        before: Some(oldest.position),
                    };
                    any(store, &filter, from).await?
                }
                None => false,
            };
            (found, newer, older)
        }
        (before, None) => {
            let mut found = store
                .read_all_filtered(&filter, AllRead::Backwards { before }, limit + 1)
                .await?;
            let older = found.len() > limit;
            found.truncate(limit);
            let newer = match (before, found.first()) {
                (Some(_), Some(newest)) => {
                    let from = AllRead::Forwards {
                        after: newest.position,
                    };
                    any(store, &filter, from).await?
                }
                _ => false,
            };
            (found, newer, older)
        }
    };
    Ok(EventPage {
        newer: newer
            .then(|| items.first().map(|e| e.position.to_string()))
            .flatten(),
        older: older
            .then(|| items.last().map(|e| e.position.to_string()))
            .flatten(),
        items: items.into_iter().map(EventView::from).collect(),
        limit,
    })
}

/// Whether any event passes `filter` reading from `from`.
async fn any(
    store: &dyn EventStore,
    filter: &EventFilter,
    from: AllRead,
) -> Result<bool, ApiError> {
    Ok(!store.read_all_filtered(filter, from, 1).await?.is_empty())
}

/// One page of a stream's events, oldest first; 404 for a stream with none.
pub async fn stream(
    store: &dyn EventStore,
    stream_id: &str,
    q: &StreamQuery,
) -> Result<StreamEvents, ApiError> {
    let limit = limit(q.limit.as_deref())?;
    let from: u64 = match q.from.as_deref() {
        None => 0,
        Some(t) => t
            .parse()
            .map_err(|_| ApiError::invalid_query("from", "must be a revision, 0 or more"))?,
    };
    let invalid = |e: commands::store::StoreError| match e {
        commands::store::StoreError::InvalidInput { .. } => {
            ApiError::NotFound(format!("there is no stream {stream_id:?}"))
        }
        e => e.into(),
    };
    let last = store
        .read_stream(stream_id, ReadFrom::End, Direction::Backwards, 1)
        .await
        .map_err(invalid)?;
    let Some(last) = last.first() else {
        return Err(ApiError::NotFound(format!(
            "there is no stream {stream_id:?}"
        )));
    };
    let revision = last.revision;
    let found = store
        .read_stream(
            stream_id,
            ReadFrom::Revision(from),
            Direction::Forwards,
            limit,
        )
        .await?;
    let next = from.saturating_add(limit as u64);
    Ok(StreamEvents {
        category: commands::store::category_of(stream_id).to_owned(),
        stream_id: stream_id.to_owned(),
        revision,
        next_from: (next <= revision).then_some(next),
        previous_from: (from > 0).then(|| from.saturating_sub(limit as u64)),
        items: found.into_iter().map(EventView::from).collect(),
        limit,
    })
}
