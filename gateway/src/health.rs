//! Liveness, readiness and metrics: `GET /health`, `GET /health/detailed`, `GET /metrics`.
//!
//! `/health` answers as long as the process serves HTTP (a liveness probe must not fail
//! because a dependency did, or the orchestrator restarts a healthy process). `/health/
//! detailed` checks each dependency, each bounded by a timeout, and answers 503 when one
//! the gateway needs is down; it also says what the process runs (its role, its tasks, and
//! for each process manager whether this copy holds its lease).

use std::future::Future;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use commands::lease::LeaseState;
use commands::store::Position;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::startup::role::RunningTask;
use crate::state::AppState;

/// A dependency that takes longer than this to answer a trivial request counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(live))
        .route("/health/detailed", get(detailed))
        .route("/metrics", get(metrics))
}

#[derive(OpenApi)]
#[openapi(
    paths(live, detailed, metrics),
    tags((name = "operations", description = "Probes and metrics for operators"))
)]
pub struct HealthApi;

#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    /// Always `ok`.
    pub status: &'static str,
}

/// Liveness: the process serves HTTP.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    responses((status = 200, description = "The process is alive", body = Liveness))
)]
pub async fn live() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Up,
    Down,
    /// The dependency is optional and not configured (NATS without `NATS_URL`).
    NotConfigured,
}

/// One dependency's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Check {
    pub status: CheckStatus,
    /// How long the check took.
    pub latency_ms: Option<f64>,
    /// Why it is down.
    pub error: Option<String>,
}

impl Check {
    fn not_configured() -> Self {
        Check {
            status: CheckStatus::NotConfigured,
            latency_ms: None,
            error: None,
        }
    }

    fn is_down(&self) -> bool {
        self.status == CheckStatus::Down
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventStoreCheck {
    #[serde(flatten)]
    pub check: Check,
    /// `postgres` or `eventstoredb`.
    pub kind: &'static str,
    /// The position of the last readable event in `$all` (`commit/prepare`).
    pub head: Option<String>,
}

/// How far each follower of `$all` has got.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectionsCheck {
    #[serde(flatten)]
    pub check: Check,
    pub checkpoints: Vec<CheckpointState>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointState {
    /// `process` (a process manager), `projection` (a read model) or `relay`.
    pub kind: String,
    pub name: String,
    /// `commit/prepare` in `$all`.
    pub position: String,
    /// Whether it has seen everything the store could answer when asked.
    pub caught_up: bool,
    pub updated_at: DateTime<Utc>,
    /// Read models: events not yet applied and how long the oldest has waited, as last
    /// measured (`projections.status`), and events parked as poison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_events: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parked: Option<i64>,
    /// Read models: when the lag was measured, and how it moved since the measurement
    /// before (events; negative: shrinking).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag_change: Option<i64>,
    #[serde(skip)]
    pub at: Position,
}

/// Every follower of `$all` (process managers, read models, relays) with its checkpoint
/// and, for read models, the lag last measured; `caught_up` is false until
/// [`measure_against`] the store's head. `/health/detailed` and the admin API's
/// projection status (`crate::operations`) both read it here.
pub async fn read_checkpoints(pool: &sqlx::PgPool) -> Result<Vec<CheckpointState>, sqlx::Error> {
    type Row = (
        String,
        String,
        i64,
        i64,
        DateTime<Utc>,
        Option<i64>,
        Option<f64>,
        Option<i64>,
        Option<DateTime<Utc>>,
        Option<i64>,
    );
    let rows = sqlx::query_as::<_, Row>(
        "select kind, name, commit_position, prepare_position, updated_at,
                lag_events, lag_seconds, parked, checked_at, lag_change
           from (select 'process' as kind, name, commit_position, prepare_position,
                        updated_at, null::bigint as lag_events,
                        null::float8 as lag_seconds, null::bigint as parked,
                        null::timestamptz as checked_at, null::bigint as lag_change
                   from process.checkpoints
                 union all
                 select 'projection', c.projection, c.commit_position, c.prepare_position,
                        c.updated_at, s.lag_events, s.lag_seconds, s.parked, s.checked_at,
                        s.lag_events - s.previous_lag_events
                   from projections.checkpoints c
                   left join projections.status s using (projection)
                  where c.projection not like '%#%'
                 union all
                 select 'relay', relay, commit_position, prepare_position, updated_at,
                        null, null, null, null, null
                   from projections.relay_checkpoints) t
          order by kind, name",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                kind,
                name,
                commit,
                prepare,
                updated_at,
                lag_events,
                lag_seconds,
                parked,
                checked_at,
                lag_change,
            )| {
                let at = Position::new(commit as u64, prepare as u64);
                CheckpointState {
                    kind,
                    name,
                    position: at.to_string(),
                    caught_up: false,
                    updated_at,
                    lag_events,
                    lag_seconds,
                    parked,
                    checked_at,
                    lag_change,
                    at,
                }
            },
        )
        .collect())
}

/// Sets each checkpoint's `caught_up` against the store's `head` (none known: not).
pub fn measure_against(checkpoints: &mut [CheckpointState], head: Option<Position>) {
    for c in checkpoints {
        c.caught_up = head.is_some_and(|h| c.at >= h);
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Components {
    pub postgres: Check,
    pub event_store: EventStoreCheck,
    pub nats: Check,
    pub projections: ProjectionsCheck,
    pub payments: PaymentsInfo,
}

/// How the process takes money: configuration, not a check.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentsInfo {
    /// `PAYMENT_PROVIDER`; `test` is simulated and moves no money.
    pub provider: &'static str,
    /// Whether signed webhooks are received (`PAYMENT_WEBHOOK_SECRET` is set).
    pub webhooks: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ok` when every required dependency is up, `degraded` otherwise.
    pub status: &'static str,
    pub uptime_seconds: u64,
    /// What this process was started as: `serve`, `gateway`, `relay`, `project` or
    /// `process`.
    pub role: &'static str,
    /// The background tasks this process runs, in the order they were added.
    pub tasks: Vec<TaskState>,
    pub components: Components,
}

/// One background task of the process.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskState {
    /// `checkout saga`, `reservation expiry`, `notification worker`, `relay`, a read
    /// model's name, ...
    pub name: &'static str,
    /// For a process manager: whether this copy holds its lease and runs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease: Option<LeaseView>,
}

/// A process manager's lease as this copy sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeaseView {
    /// `held`: this copy runs the manager; `standby`: another copy does (or the database
    /// is away), and this one takes over when it goes.
    pub state: &'static str,
    /// Since when this copy holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// How many times this copy has taken it since it started.
    pub terms: u32,
}

impl From<RunningTask> for TaskState {
    fn from(task: RunningTask) -> Self {
        let lease = task.lease.map(|report| {
            let report = *report.borrow();
            let (state, since) = match report.state {
                LeaseState::Held { since } => ("held", Some(since)),
                LeaseState::Waiting => ("standby", None),
            };
            LeaseView {
                state,
                since,
                terms: report.terms,
            }
        });
        TaskState {
            name: task.name,
            lease,
        }
    }
}

/// Readiness: each dependency with its state and answer time.
#[utoipa::path(
    get,
    path = "/health/detailed",
    tag = "operations",
    responses(
        (status = 200, description = "Every required dependency is up", body = Readiness),
        (status = 503, description = "A required dependency is down", body = Readiness),
    )
)]
pub async fn detailed(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let postgres = timed(async {
        sqlx::query_scalar::<_, i32>("select 1")
            .fetch_one(&state.pool)
            .await
            .map(drop)
    });
    let store = timed(state.store.head_position());
    let nats = async {
        match &state.nats {
            None => Check::not_configured(),
            Some(client) => {
                timed(async {
                    match client.connection_state() {
                        async_nats::connection::State::Connected => {
                            client.flush().await.map_err(|e| e.to_string())
                        }
                        other => Err(format!("the connection is {other}")),
                    }
                })
                .await
                .0
            }
        }
    };
    let checkpoints = timed(read_checkpoints(&state.pool));
    let ((postgres, _), (store, head), nats, (projections, checkpoints)) =
        tokio::join!(postgres, store, nats, checkpoints);
    let mut checkpoints = checkpoints.unwrap_or_default();
    measure_against(&mut checkpoints, head);
    let up = !(postgres.is_down() || store.is_down() || nats.is_down());
    let body = Readiness {
        status: if up { "ok" } else { "degraded" },
        uptime_seconds: state.started.elapsed().as_secs(),
        role: state.running.role.name(),
        tasks: state
            .running
            .tasks()
            .into_iter()
            .map(TaskState::from)
            .collect(),
        components: Components {
            postgres,
            event_store: EventStoreCheck {
                check: store,
                kind: state.store_kind,
                head: head.map(|h| h.to_string()),
            },
            nats,
            // Every follower of `$all`: process managers, read models, the relay.
            projections: ProjectionsCheck {
                check: projections,
                checkpoints,
            },
            payments: PaymentsInfo {
                provider: state.payments.provider.name(),
                webhooks: state.payments.webhooks.is_some(),
            },
        },
    };
    let status = if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

/// Runs one check under [`CHECK_TIMEOUT`], timing it.
async fn timed<T, E: std::fmt::Display>(
    check: impl Future<Output = Result<T, E>>,
) -> (Check, Option<T>) {
    let started = Instant::now();
    let outcome = tokio::time::timeout(CHECK_TIMEOUT, check).await;
    let latency_ms = Some(started.elapsed().as_secs_f64() * 1e3);
    let (status, error, value) = match outcome {
        Ok(Ok(value)) => (CheckStatus::Up, None, Some(value)),
        Ok(Err(e)) => (CheckStatus::Down, Some(e.to_string()), None),
        Err(_) => (
            CheckStatus::Down,
            Some(format!("no answer within {CHECK_TIMEOUT:?}")),
            None,
        ),
    };
    (
        Check {
            status,
            latency_ms,
            error,
        },
        value,
    )
}

/// Prometheus text exposition of every metric the process records.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String))
)]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
