//! The search log's task: every `SEARCH_LOG_INTERVAL`, when the buffer fills, and once more
//! when the process stops, it takes this gateway's counts ([`Recorder`]) and appends them
//! as `SearchQueriesRecorded` events to the gateway's own stream, off every request's
//! path. A failed append loses that interval's counts (they are analytics; ADR 0007).
//!
//! [`Recorder`]: super::recorder::Recorder

use std::convert::Infallible;

use chrono::Utc;
use commands::handler::{Actor, CommandMeta};
use domain::search::MAX_QUERIES;
use tokio::sync::watch;
use uuid::Uuid;

use crate::state::AppState;

/// Records the counts until `stop`, then records what is left.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) -> Result<(), Infallible> {
    let every = state.config.search_log_interval;
    loop {
        let stopping = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => true,
            () = tokio::time::sleep(every) => false,
            () = state.search_log.full.notified() => false,
        };
        record(&state).await;
        if stopping {
            return Ok(());
        }
    }
}

/// Appends what the recorder counted so far, at most [`MAX_QUERIES`] queries an event.
pub async fn record(state: &AppState) {
    let Some(interval) = state.search_log.take() else {
        return;
    };
    if interval.dropped > 0 {
        tracing::warn!(
            dropped = interval.dropped,
            "the search log's buffer was full: searches of new queries were not counted"
        );
    }
    for chunk in interval.queries.chunks(MAX_QUERIES) {
        let id = Uuid::new_v4();
        let meta = CommandMeta::new(id, id, Actor::system(), Utc::now());
        if let Err(e) = commands::search::record_queries(
            &state.handlers,
            state.search_log.log,
            chunk.to_vec(),
            interval.from,
            interval.to,
            &meta,
        )
        .await
        {
            tracing::warn!(error = %e, "the search log lost an interval's counts");
        }
    }
}
