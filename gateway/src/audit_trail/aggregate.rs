//! An aggregate's state at a version or a time (`/api/v1/admin/streams/{id}/state`, the
//! console's `/admin/state`), and one step of a stream: the state before and after one
//! event, with what changed (`/api/v1/admin/streams/{id}/steps/{revision}`, the console's
//! stepper). Folded by `commands::time_travel`, as `umctl state` folds it: each sealed
//! personal field is read as its erasure placeholder, and `placeholders` says how many.

use chrono::{DateTime, Utc};
use commands::privacy::as_erased;
use commands::store::{category_of, Direction, EventStore, ReadFrom, RecordedEvent, StoreError};
use commands::time_travel::{self, debug_json, AsOf, TimeTravelError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::diff::{diff, FieldChange};
use crate::error::ApiError;
use crate::event_log::{parse_time, EventView};

/// `GET /api/v1/admin/streams/{stream_id}/state`
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StateQuery {
    /// Fold up to and including this revision (from 0).
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    #[param(value_type = Option<u64>)]
    pub version: Option<String>,
    /// Fold the events recorded at or before this time (RFC 3339, or `YYYY-MM-DDTHH:MM` in
    /// UTC). Without `version` or `at`, the latest state.
    #[serde(default, deserialize_with = "crate::views::blank_as_none")]
    pub at: Option<String>,
}

/// An aggregate's state as of a version or a time.
#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateState {
    pub stream_id: String,
    pub category: String,
    /// The revision of the last event folded.
    pub version: u64,
    /// The stream's last revision now.
    pub last_version: u64,
    /// When the last event folded was recorded.
    pub recorded_at: DateTime<Utc>,
    /// How many events were folded.
    pub events: usize,
    /// Sealed personal fields folded as their erasure placeholders.
    pub placeholders: usize,
    /// The state, from the aggregate's own `Debug` text: structs as objects, `None` as null.
    #[schema(value_type = Object)]
    pub state: Value,
}

/// One event of a stream and what it did to the aggregate's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Step {
    pub stream_id: String,
    pub category: String,
    pub revision: u64,
    pub last_revision: u64,
    pub event: EventView,
    /// The state before the event (the aggregate's default before the first).
    #[schema(value_type = Object)]
    pub before: Value,
    #[schema(value_type = Object)]
    pub after: Value,
    /// Every field the event added, removed or changed.
    pub changes: Vec<FieldChange>,
    /// Sealed personal fields folded as their erasure placeholders.
    pub placeholders: usize,
    /// The revisions beside this one; `null` at either end.
    pub previous: Option<u64>,
    pub next: Option<u64>,
}

fn unprocessable(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid_field(field, message)
}

/// The fold's refusals as answers: a version or time outside the stream and a stream that
/// is no aggregate are the reader's (422); an event that does not decode is ours (500).
fn refused(e: TimeTravelError, field: &str) -> ApiError {
    match e {
        TimeTravelError::NotAnAggregate(_) => ApiError::UnprocessableEntity {
            code: "not_an_aggregate",
            detail: format!("{e}: its events are in the event log"),
            errors: vec![],
        },
        TimeTravelError::NoSuchVersion { .. } | TimeTravelError::NothingYet(_) => {
            unprocessable(field, e.to_string())
        }
        TimeTravelError::Undecodable { .. } => ApiError::internal(e),
    }
}

/// Every event of `stream_id`, oldest first; 404 for a stream with none.
async fn events_of(
    store: &dyn EventStore,
    stream_id: &str,
) -> Result<Vec<RecordedEvent>, ApiError> {
    let missing = || ApiError::NotFound(format!("there is no stream {stream_id:?}"));
    let events = store
        .read_stream(stream_id, ReadFrom::End, Direction::Forwards, usize::MAX)
        .await
        .map_err(|e| match e {
            StoreError::InvalidInput { .. } => missing(),
            e => e.into(),
        })?;
    if events.is_empty() {
        return Err(missing());
    }
    Ok(events)
}

/// The state of `stream` folded from `events`, as JSON.
fn folded(stream: &str, events: &[RecordedEvent], field: &str) -> Result<Value, ApiError> {
    let text = time_travel::state(stream, events).map_err(|e| refused(e, field))?;
    debug_json::parse(&text).map_err(ApiError::internal)
}

/// The state of `stream_id` as of the query's version or time, else its latest.
pub async fn state_at(
    store: &dyn EventStore,
    stream_id: &str,
    q: &StateQuery,
) -> Result<AggregateState, ApiError> {
    let as_of = match (q.version.as_deref(), q.at.as_deref()) {
        (Some(_), Some(_)) => return Err(unprocessable("at", "give `version` or `at`, not both")),
        (Some(v), None) => AsOf::Version(
            v.parse()
                .map_err(|_| unprocessable("version", "must be a revision, 0 or more"))?,
        ),
        (None, Some(_)) => AsOf::Time(
            parse_time("at", q.at.as_deref())
                .map_err(|_| {
                    unprocessable(
                        "at",
                        "must be a time, RFC 3339 (2026-12-08T10:30:00Z) or 2026-12-08T10:30 (UTC)",
                    )
                })?
                .unwrap_or_else(Utc::now),
        ),
        (None, None) => AsOf::Latest,
    };
    let field = if matches!(as_of, AsOf::Time(_)) {
        "at"
    } else {
        "version"
    };
    let events = events_of(store, stream_id).await?;
    let last_version = events.last().map_or(0, |e| e.revision);
    // Known before the cut, so a stream that is no aggregate says so whatever was asked.
    folded(stream_id, &[], field)?;
    let mut events = time_travel::upto(events, as_of, stream_id).map_err(|e| refused(e, field))?;
    let placeholders = events.iter_mut().map(as_erased).sum::<usize>();
    let last = &events[events.len() - 1];
    Ok(AggregateState {
        stream_id: stream_id.to_owned(),
        category: category_of(stream_id).to_owned(),
        version: last.revision,
        last_version,
        recorded_at: last.recorded_at,
        state: folded(stream_id, &events, field)?,
        events: events.len(),
        placeholders,
    })
}

/// Event `revision` of `stream_id` with the state before and after it.
pub async fn step(
    store: &dyn EventStore,
    stream_id: &str,
    revision: &str,
) -> Result<Step, ApiError> {
    let revision: u64 = revision
        .parse()
        .map_err(|_| unprocessable("revision", "must be a revision, 0 or more"))?;
    let mut events = events_of(store, stream_id).await?;
    let last_revision = events.last().map_or(0, |e| e.revision);
    folded(stream_id, &[], "revision")?;
    let Some(at) = events.iter().position(|e| e.revision == revision) else {
        return Err(unprocessable(
            "revision",
            format!(
                "stream {stream_id:?} has no revision {revision} (its last is {last_revision})"
            ),
        ));
    };
    let shown = events[at].clone();
    let placeholders = events[..=at].iter_mut().map(as_erased).sum::<usize>();
    let before = folded(stream_id, &events[..at], "revision")?;
    let after = folded(stream_id, &events[..=at], "revision")?;
    Ok(Step {
        stream_id: stream_id.to_owned(),
        category: category_of(stream_id).to_owned(),
        revision,
        last_revision,
        event: EventView::from(shown),
        changes: diff(&before, &after),
        before,
        after,
        placeholders,
        previous: revision.checked_sub(1),
        next: (revision < last_revision).then_some(revision + 1),
    })
}
