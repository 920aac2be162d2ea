//! The operations answers, one typed view per resource: what the API serializes, what the
//! OpenAPI document shows and what the console's pages render.

use chrono::{DateTime, Utc};
use projections::runtime::parked::{ActionRecord, Outcome, Parked};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One read model as it follows `$all`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectionStatus {
    pub name: String,
    /// Its checkpoint in `$all`, `commit/prepare`.
    pub position: String,
    /// Whether the checkpoint is at the store's head.
    pub caught_up: bool,
    /// When the checkpoint last moved.
    pub moved_at: DateTime<Utc>,
    /// Events in `$all` after the checkpoint (counted up to 10,000), as last measured; 0
    /// when the checkpoint is at the head as this answer is made.
    pub lag_events: Option<i64>,
    /// How long the oldest of them had waited when measured; 0 when caught up.
    pub lag_seconds: Option<f64>,
    /// `growing`, `shrinking` or `steady` since the measurement before; `unknown` before
    /// two measurements.
    pub lag_trend: &'static str,
    /// The change in `lag_events` since the measurement before.
    pub lag_change: Option<i64>,
    /// When the lag was measured (every two seconds by a process running the read models).
    pub checked_at: Option<DateTime<Utc>>,
    /// Events parked as poison.
    pub parked: i64,
    /// Events wait and the checkpoint has not moved for `stall_after_seconds`.
    pub stalled: bool,
    /// The latest rebuild started through the admin API, if any.
    pub rebuild: Option<RebuildView>,
}

/// Every read model's status.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectionsView {
    /// The store's head, `commit/prepare`; `null` when the store did not answer.
    pub head: Option<String>,
    /// `PROJECTION_STALL_AFTER`, in seconds.
    pub stall_after_seconds: u64,
    pub items: Vec<ProjectionStatus>,
}

/// A rebuild started through the admin API, and how far it has come.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct RebuildView {
    #[sqlx(rename = "rebuild_id")]
    pub id: Uuid,
    pub projection: String,
    /// `running` (replaying into a shadow schema, then swapping it in), `verifying`
    /// (comparing the rebuilt tables with a fresh replay), `verified`, `mismatch` (the
    /// tables differ from the replay: `error` names them) or `failed` (`error` says why).
    pub state: String,
    pub reason: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: String,
    /// Events the rebuild has replayed so far.
    pub events: i64,
    /// Where the replay is in `$all`, and the head it works towards.
    pub position: Option<String>,
    pub head: Option<String>,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl RebuildView {
    /// Whether it has ended, well or not.
    pub fn finished(&self) -> bool {
        self.finished_at.is_some()
    }
}

/// One parked event: an event a read model failed to apply the same way three times, and
/// went on without.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParkedView {
    /// What `/admin/parked/{id}/...` takes.
    pub id: Uuid,
    /// The read model (`<name>#rebuild` while a rebuild of it runs).
    pub projection: String,
    pub event_id: Uuid,
    pub stream_id: String,
    pub event_type: String,
    /// Its position in `$all`, `commit/prepare`.
    pub position: String,
    /// What the read model said, the last time it tried.
    pub error: String,
    pub attempts: i32,
    pub parked_at: DateTime<Utc>,
}

impl From<Parked> for ParkedView {
    fn from(p: Parked) -> Self {
        ParkedView {
            position: p.position().to_string(),
            id: p.parked_id,
            projection: p.projection,
            event_id: p.event_id,
            stream_id: p.stream_id,
            event_type: p.event_type,
            error: p.error,
            attempts: p.attempts,
            parked_at: p.parked_at,
        }
    }
}

/// What an action on a parked event did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParkedOutcome {
    pub id: Uuid,
    /// `retry`, `skip` or `discard`.
    pub action: &'static str,
    /// `applied` (retried: the read model took it and the park ended), `skipped` or
    /// `discarded`. A retry refused again is a 409 `retry_failed`.
    pub outcome: &'static str,
}

impl ParkedOutcome {
    pub fn of(id: Uuid, action: &'static str, outcome: &Outcome) -> Self {
        ParkedOutcome {
            id,
            action,
            outcome: outcome.as_str(),
        }
    }
}

/// One action staff took on a parked event: who, when, why, and what came of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParkedActionView {
    pub id: Uuid,
    /// The parked event acted on.
    pub parked_id: Uuid,
    pub projection: String,
    pub event_id: Uuid,
    pub stream_id: String,
    pub event_type: String,
    /// `retry`, `skip` or `discard`.
    pub action: String,
    /// `applied`, `failed` (a retry refused again), `skipped` or `discarded`.
    pub outcome: String,
    /// What the read model said when a retry failed.
    pub error: Option<String>,
    pub reason: String,
    pub actor_id: Option<Uuid>,
    pub actor_role: String,
    /// The request that acted.
    pub correlation_id: Option<Uuid>,
    pub acted_at: DateTime<Utc>,
}

impl From<ActionRecord> for ParkedActionView {
    fn from(a: ActionRecord) -> Self {
        ParkedActionView {
            id: a.action_id,
            parked_id: a.parked_id,
            projection: a.projection,
            event_id: a.event_id,
            stream_id: a.stream_id,
            event_type: a.event_type,
            action: a.action,
            outcome: a.outcome,
            error: a.error,
            reason: a.reason,
            actor_id: a.actor_id,
            actor_role: a.actor_role,
            correlation_id: a.correlation_id,
            acted_at: a.acted_at,
        }
    }
}
