//! The whole trail of one correlation id (`/api/v1/admin/audit/correlations/{id}`, the
//! console's timeline): the HTTP request that began it, as the audit trail recorded it
//! (who, from where, with which client label); every event with that correlation id, in
//! log order and nested under the event that caused it; and for each event, the read
//! models it is for (those that want it) and whether each has reached it yet (its
//! checkpoint at or past the event's position).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use commands::store::{AllRead, EventFilter, EventStore, Position, RecordedEvent};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{find, Filter};
use crate::error::ApiError;
use crate::event_log::EventView;

/// The most events one timeline holds; a longer flow says so (`truncated`), and the event
/// log's `correlation_id` filter pages through them all.
pub const MAX_EVENTS: usize = 500;

/// The request that began a flow, from the audit trail's record of its first event.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestRecord {
    /// Who sent it; `null` for the engine itself or a caller not signed in.
    pub actor_id: Option<Uuid>,
    pub role: String,
    /// When its first event was recorded.
    pub at: DateTime<Utc>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    /// The `X-Request-Id` the client sent, if any.
    pub client_request_id: Option<String>,
    /// The command the request became (the first event's causation).
    pub command_id: Option<Uuid>,
    /// The audit trail's entries of this flow (one per event it has reached).
    pub audited_events: i64,
}

/// Whether one read model has applied an event yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadModelMark {
    pub name: String,
    /// Its checkpoint is at or past the event.
    pub reached: bool,
    /// Its checkpoint, `<commit>/<prepare>`; `null` before it has applied anything.
    pub checkpoint: Option<String>,
}

/// One event of the flow.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEvent {
    pub event: EventView,
    /// How many events of the flow lie between it and the request: 0 for what the request's
    /// command appended, 1 for what those events caused, and so on.
    pub depth: usize,
    /// The event of this flow that caused it; `null` when the request's command did.
    pub caused_by: Option<Uuid>,
    /// The read models that want this event, in name order.
    pub read_models: Vec<ReadModelMark>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    pub correlation_id: Uuid,
    /// `null` until the audit trail has recorded the flow's first event.
    pub request: Option<RequestRecord>,
    /// Every event of the flow, each after the one that caused it (depth first, log order).
    pub events: Vec<TimelineEvent>,
    /// More than [`MAX_EVENTS`] events: the first ones are shown.
    pub truncated: bool,
}

/// Each read model's checkpoint (not a rebuild's shadow).
async fn checkpoints(pool: &PgPool) -> Result<HashMap<String, Position>, ApiError> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "select projection, commit_position, prepare_position from projections.checkpoints
          where projection not like '%#%'",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, c, p)| (name, Position::new(c as u64, p as u64)))
        .collect())
}

/// Events in log order, each followed by those it caused: (index, depth, parent index).
fn causal_order(events: &[RecordedEvent]) -> Vec<(usize, usize, Option<usize>)> {
    let index: HashMap<Uuid, usize> = events.iter().enumerate().map(|(i, e)| (e.id, i)).collect();
    let parent: Vec<Option<usize>> = events
        .iter()
        .map(|e| {
            causation(e)
                .and_then(|c| index.get(&c).copied())
                // A cause later in the log than its effect cannot be: treat it as a root.
                .filter(|p| events[*p].position < e.position)
        })
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); events.len()];
    for (i, p) in parent.iter().enumerate() {
        if let Some(p) = p {
            children[*p].push(i);
        }
    }
    let mut out = Vec::with_capacity(events.len());
    let mut stack: Vec<(usize, usize)> = (0..events.len())
        .filter(|i| parent[*i].is_none())
        .rev()
        .map(|i| (i, 0))
        .collect();
    while let Some((i, depth)) = stack.pop() {
        out.push((i, depth, parent[i]));
        stack.extend(children[i].iter().rev().map(|c| (*c, depth + 1)));
    }
    out
}

fn causation(e: &RecordedEvent) -> Option<Uuid> {
    e.metadata
        .get("causation_id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
}

/// The timeline of `correlation_id`; 404 when neither the log nor the trail knows it.
pub async fn timeline(
    store: &dyn EventStore,
    pool: &PgPool,
    correlation_id: &str,
) -> Result<Timeline, ApiError> {
    let correlation_id: Uuid = correlation_id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("{correlation_id:?} is not a correlation id")))?;
    let filter = EventFilter {
        correlation_id: Some(correlation_id),
        ..EventFilter::default()
    };
    let from = AllRead::Forwards {
        after: Position::START,
    };
    let (mut events, checkpoints, first) = tokio::try_join!(
        async {
            store
                .read_all_filtered(&filter, from, MAX_EVENTS + 1)
                .await
                .map_err(ApiError::from)
        },
        checkpoints(pool),
        first_audited(pool, correlation_id),
    )?;
    let truncated = events.len() > MAX_EVENTS;
    events.truncate(MAX_EVENTS);
    if events.is_empty() && first.is_none() {
        return Err(ApiError::NotFound(format!(
            "no event has correlation id {correlation_id}"
        )));
    }
    let mut read_models = projections::all();
    read_models.sort_by_key(|p| p.name());
    let order = causal_order(&events);
    let marks: Vec<Vec<ReadModelMark>> = events
        .iter()
        .map(|e| {
            read_models
                .iter()
                .filter(|p| p.wants(e))
                .map(|p| {
                    let at = checkpoints.get(p.name());
                    ReadModelMark {
                        name: p.name().to_owned(),
                        reached: at.is_some_and(|at| *at >= e.position),
                        checkpoint: at.map(|at| at.to_string()),
                    }
                })
                .collect()
        })
        .collect();
    let mut marks: Vec<Option<Vec<ReadModelMark>>> = marks.into_iter().map(Some).collect();
    let mut views: Vec<Option<EventView>> = events
        .iter()
        .cloned()
        .map(|e| Some(EventView::from(e)))
        .collect();
    let out = order
        .into_iter()
        .map(|(i, depth, parent)| TimelineEvent {
            event: views[i].take().expect("each event once"),
            depth,
            caused_by: parent.map(|p| events[p].id),
            read_models: marks[i].take().unwrap_or_default(),
        })
        .collect();
    Ok(Timeline {
        correlation_id,
        request: first,
        events: out,
        truncated,
    })
}

/// The request as the audit trail recorded the flow's first event, and how many of its
/// events the trail holds.
async fn first_audited(
    pool: &PgPool,
    correlation_id: Uuid,
) -> Result<Option<RequestRecord>, ApiError> {
    let filter = Filter {
        correlation_id: Some(correlation_id),
        ..Filter::default()
    };
    let total = find(pool, &filter, 1, 0).await?.total;
    if total == 0 {
        return Ok(None);
    }
    // Newest first: the flow's first entry is the last of them.
    let first = find(pool, &filter, 1, total - 1).await?.items.pop();
    Ok(first.map(|e| RequestRecord {
        actor_id: e.user_id,
        role: e.role,
        at: e.created_at,
        ip_address: e.ip_address,
        user_agent: e.user_agent,
        client_request_id: e.client_request_id,
        command_id: e.causation_id,
        audited_events: total,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(n: u64, cause: Option<Uuid>) -> RecordedEvent {
        let id = Uuid::from_u128(n as u128);
        RecordedEvent {
            id,
            stream_id: format!("order-{n}"),
            revision: 0,
            position: Position::new(n, n),
            event_type: "OrderPlaced".into(),
            schema_version: 1,
            data: json!({}),
            metadata: json!({ "causation_id": cause.map(|c| c.to_string()) }),
            recorded_at: Utc::now(),
        }
    }

    #[test]
    fn each_event_follows_the_event_that_caused_it() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let events = [
            event(1, None),
            event(2, None),
            event(3, Some(a)),
            event(4, Some(b)),
            event(5, Some(Uuid::from_u128(3))),
        ];
        let order: Vec<(usize, usize, Option<usize>)> = causal_order(&events);
        assert_eq!(
            order,
            [
                (0, 0, None),
                (2, 1, Some(0)),
                (4, 2, Some(2)),
                (1, 0, None),
                (3, 1, Some(1)),
            ]
        );
    }
}
