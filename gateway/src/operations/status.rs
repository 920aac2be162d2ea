//! Each read model's status: its checkpoint against the store's head, its lag and the
//! trend of it, and whether it is stalled. The checkpoints and lags are what
//! `/health/detailed` reads ([`crate::health::read_checkpoints`]); this adds the verdicts.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::rebuilds;
use super::views::{ProjectionStatus, ProjectionsView};
use crate::error::ApiError;
use crate::health::{measure_against, read_checkpoints, CheckpointState};
use crate::state::AppState;

/// Every read model's status, in name order.
pub async fn read_models(state: &AppState) -> Result<ProjectionsView, ApiError> {
    let (head, checkpoints, latest) = tokio::join!(
        state.store.head_position(),
        read_checkpoints(&state.pool),
        rebuilds::latest_of_each(&state.pool),
    );
    // A store that does not answer leaves every read model "not caught up", not the page
    // unanswered: this is where an operator looks when something is down.
    let head = match head {
        Ok(head) => Some(head),
        Err(e) => {
            tracing::warn!(error = %e, "the store's head is unknown");
            None
        }
    };
    let mut checkpoints = checkpoints?;
    measure_against(&mut checkpoints, head);
    let mut latest = latest?;
    let after = state.config.projection_stall_after;
    let now = Utc::now();
    let items = checkpoints
        .into_iter()
        .filter(|c| c.kind == "projection")
        .map(|c| {
            let stalled = is_stalled(&c, now, after);
            let lag_trend = match c.lag_change {
                None => "unknown",
                Some(d) if d > 0 => "growing",
                Some(d) if d < 0 => "shrinking",
                Some(_) => "steady",
            };
            // At the head now: whatever the last measurement said, nothing waits.
            let (lag_events, lag_seconds) = if c.caught_up {
                (Some(0), Some(0.0))
            } else {
                (c.lag_events, c.lag_seconds)
            };
            ProjectionStatus {
                rebuild: latest.remove(&c.name),
                position: c.position,
                caught_up: c.caught_up,
                moved_at: c.updated_at,
                lag_events,
                lag_seconds,
                lag_trend,
                lag_change: c.lag_change,
                checked_at: c.checked_at,
                parked: c.parked.unwrap_or(0),
                stalled,
                name: c.name,
            }
        })
        .collect();
    Ok(ProjectionsView {
        head: head.map(|h| h.to_string()),
        stall_after_seconds: after.as_secs(),
        items,
    })
}

/// Whether `c` is stalled at `now`: events wait, and have waited (since they were
/// measured, too: the checkpoint has not moved since) as long as the checkpoint rests.
fn is_stalled(c: &CheckpointState, now: DateTime<Utc>, after: Duration) -> bool {
    if c.caught_up {
        return false;
    }
    let waited = match (c.lag_events, c.lag_seconds, c.checked_at) {
        (Some(n), Some(seconds), Some(at)) if n > 0 && c.updated_at <= at => {
            seconds + (now - at).num_milliseconds().max(0) as f64 / 1000.0
        }
        (Some(n), Some(seconds), Some(_)) if n > 0 => seconds,
        _ => 0.0,
    };
    let since_moved = (now - c.updated_at).to_std().unwrap_or_default();
    projections::status::stalled(waited, since_moved, after)
}
