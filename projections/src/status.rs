//! Lag per projection, in metrics and in `projections.status` (with the measurement before,
//! so a reader sees the trend), and when a lagging read model counts as stalled.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use commands::store::EventStore;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::checkpoint;
use crate::runtime::projection::ProjectionError;

/// Lag counts stop here: past it the number matters less than that it is large.
const LAG_CAP: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lag {
    /// Events in `$all` after the checkpoint (at most 10,000).
    pub events: u64,
    /// How long the oldest of them has waited; 0 when caught up.
    pub seconds: f64,
    pub parked: u64,
}

/// Measures one projection's lag and records it in `projections.status` and the
/// `projection_lag_events` / `projection_lag_seconds` gauges.
pub async fn refresh(
    store: &dyn EventStore,
    pool: &PgPool,
    projection: &'static str,
) -> Result<Lag, ProjectionError> {
    let at = checkpoint::position(pool, projection).await?;
    let pending = store.read_all(at, LAG_CAP).await?;
    let seconds = pending.first().map_or(0.0, |e| {
        (Utc::now() - e.recorded_at).num_milliseconds().max(0) as f64 / 1000.0
    });
    let parked: i64 =
        sqlx::query_scalar("select count(*) from projections.parked where projection = $1")
            .bind(projection)
            .fetch_one(pool)
            .await?;
    let lag = Lag {
        events: pending.len() as u64,
        seconds,
        parked: parked as u64,
    };
    sqlx::query(
        "insert into projections.status (projection, lag_events, lag_seconds, parked, checked_at)
         values ($1, $2, $3, $4, now())
         on conflict (projection) do update set lag_events = excluded.lag_events,
             lag_seconds = excluded.lag_seconds, parked = excluded.parked, checked_at = now(),
             previous_lag_events = projections.status.lag_events,
             previous_checked_at = projections.status.checked_at",
    )
    .bind(projection)
    .bind(lag.events as i64)
    .bind(lag.seconds)
    .bind(parked)
    .execute(pool)
    .await?;
    metrics::gauge!("projection_lag_events", "projection" => projection).set(lag.events as f64);
    metrics::gauge!("projection_lag_seconds", "projection" => projection).set(lag.seconds);
    metrics::gauge!("projection_parked_events", "projection" => projection).set(parked as f64);
    Ok(lag)
}

/// Whether a read model is stalled: an event has waited `after` or longer (`lag_seconds`)
/// and the checkpoint has not moved for as long (`since_moved`). Lag alone is not a stall
/// (a burst of appends is worked off), nor is an idle read model whose checkpoint rests:
/// only events waiting on a checkpoint that does not move.
pub fn stalled(lag_seconds: f64, since_moved: Duration, after: Duration) -> bool {
    lag_seconds >= after.as_secs_f64() && since_moved >= after
}

/// Measures each relay's lag (events in `$all` after its checkpoint, and how long the
/// oldest has waited) into the `relay_lag_events` / `relay_lag_seconds` gauges.
pub async fn refresh_relays(
    store: &dyn EventStore,
    pool: &PgPool,
) -> Result<Vec<(String, u64)>, ProjectionError> {
    let relays: Vec<(String, i64, i64)> = sqlx::query_as(
        "select relay, commit_position, prepare_position from projections.relay_checkpoints",
    )
    .fetch_all(pool)
    .await?;
    let mut lags = Vec::new();
    for (relay, commit, prepare) in relays {
        let at = commands::store::Position::new(commit as u64, prepare as u64);
        let pending = store.read_all(at, LAG_CAP).await?;
        let seconds = pending.first().map_or(0.0, |e| {
            (Utc::now() - e.recorded_at).num_milliseconds().max(0) as f64 / 1000.0
        });
        metrics::gauge!("relay_lag_events", "stream" => relay.clone()).set(pending.len() as f64);
        metrics::gauge!("relay_lag_seconds", "stream" => relay.clone()).set(seconds);
        lags.push((relay, pending.len() as u64));
    }
    Ok(lags)
}

/// Refreshes every projection's (and relay's) lag every `every` until `shutdown` turns true. A failed
/// measurement is logged and tried again next time: lag is reporting, not correctness.
pub async fn monitor(
    store: Arc<dyn EventStore>,
    pool: PgPool,
    projections: Vec<&'static str>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ProjectionError> {
    loop {
        for name in &projections {
            if let Err(e) = refresh(&*store, &pool, name).await {
                tracing::warn!(projection = name, error = %e, "could not measure lag");
            }
        }
        if let Err(e) = refresh_relays(&*store, &pool).await {
            tracing::warn!(error = %e, "could not measure the relay's lag");
        }
        tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            _ = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_waiting_events_on_a_checkpoint_that_rests_are_a_stall() {
        let (s, after) = (Duration::from_secs, Duration::from_secs(30));
        assert!(stalled(31.0, s(40), after), "waited and not moving");
        assert!(!stalled(31.0, s(2), after), "moving: working off a burst");
        assert!(!stalled(0.0, s(3600), after), "idle: nothing waits");
        assert!(
            !stalled(5.0, s(3600), after),
            "events just arrived after a rest"
        );
    }
}
