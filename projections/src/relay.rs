//! The relay: `$all`, from a checkpoint kept in PostgreSQL, published to a JetStream stream.
//!
//! Each event becomes one message in the format of [`crate::wire`]: the whole
//! [`RecordedEvent`] as its body, `Nats-Msg-Id` = event id (JetStream drops a copy
//! published again within its duplicate window), and the position of the event published
//! before it, which lets a worker notice messages JetStream lost.
//!
//! Publishes are pipelined: a batch is sent while the previous one's acknowledgements
//! are on their way, and a batch counts as published once all of its own and those before
//! it are in. The checkpoint follows in the background, one write at a time, each with the
//! latest acknowledged position, so publishing never waits for PostgreSQL. A relay killed
//! at any point therefore republishes at most what its checkpoint did not record yet; those
//! copies are dropped by JetStream's deduplication or, past its window, skipped by every
//! projection's checkpoint.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::{self, context::PublishAckFuture};
use commands::store::{EventStore, Position, RecordedEvent, StoreError};
use futures::{FutureExt, StreamExt};
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::jetstream::{ensure_stream, JetStreamConfig, NatsError};
use crate::lease;
use crate::wire::{encode, subject, HEADER_BODY};

/// Most events published before their acknowledgements are awaited.
pub const BATCH: usize = 500;

/// How long the relay waits before starting again after NATS failed it.
const RETRY_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// NATS is unreachable or refused a request; the relay starts again from its
    /// checkpoint after a pause.
    #[error(transparent)]
    Nats(#[from] NatsError),
}

impl RelayError {
    fn nats(e: impl std::fmt::Display) -> Self {
        RelayError::Nats(NatsError::from(e))
    }
}

/// Publishes `$all` to JetStream.
#[derive(Clone)]
pub struct Relay {
    store: Arc<dyn EventStore>,
    pool: PgPool,
    js: jetstream::Context,
    config: JetStreamConfig,
}

/// What one [`Relay::publish`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Published {
    /// Messages JetStream stored.
    pub stored: u64,
    /// Messages JetStream recognised by `Nats-Msg-Id` and dropped.
    pub duplicates: u64,
}

impl Relay {
    pub fn new(
        store: Arc<dyn EventStore>,
        pool: PgPool,
        js: jetstream::Context,
        config: JetStreamConfig,
    ) -> Self {
        Relay {
            store,
            pool,
            js,
            config,
        }
    }

    /// The position of the last event JetStream acknowledged to this relay, and how many
    /// it stored in all.
    pub async fn checkpoint(&self) -> Result<(Position, u64), sqlx::Error> {
        checkpoint(&self.pool, &self.config.stream).await
    }

    /// Publishes `events` (consecutive in `$all`, the first one right after `prev`) and
    /// waits for every acknowledgement, in order. Nothing is recorded: the caller moves
    /// the checkpoint once this answers.
    #[tracing::instrument(skip_all, fields(stream = %self.config.stream, events = events.len()), err)]
    pub async fn publish(
        &self,
        events: &[RecordedEvent],
        prev: Position,
    ) -> Result<Published, RelayError> {
        let acks = self.send(events, prev).await?;
        confirm(acks, self.config.stream.clone()).await
    }

    /// Publishes `events` (as [`Relay::publish`]) and answers their acknowledgements to
    /// come.
    async fn send(
        &self,
        events: &[RecordedEvent],
        mut prev: Position,
    ) -> Result<Vec<PublishAckFuture>, RelayError> {
        let mut acks: Vec<PublishAckFuture> = Vec::with_capacity(events.len());
        for event in events {
            let subject = subject(&self.config.subject_prefix, event);
            let (headers, body) = encode(event, prev);
            let ack = match self
                .js
                .publish_with_headers(subject.clone(), headers.clone(), body.into())
                .await
            {
                Err(e) if e.kind() == PublishErrorKind::MaxPayloadExceeded => {
                    tracing::warn!(
                        event_id = %event.id, stream = %event.stream_id, position = %event.position,
                        "event larger than NATS max_payload; published without its body, workers read it from the store"
                    );
                    let mut headers = headers;
                    headers.insert(HEADER_BODY, "omitted");
                    self.js
                        .publish_with_headers(subject, headers, Default::default())
                        .await
                        .map_err(RelayError::nats)?
                }
                other => other.map_err(RelayError::nats)?,
            };
            acks.push(ack);
            prev = event.position;
        }
        Ok(acks)
    }
}

/// Waits for `acks`, in order, from JetStream stream `stream`.
async fn confirm(acks: Vec<PublishAckFuture>, stream: String) -> Result<Published, RelayError> {
    let mut published = Published::default();
    for ack in acks {
        let ack = ack.await.map_err(RelayError::nats)?;
        if ack.stream != stream {
            // Another stream captures our subjects: the events are not where the workers
            // look for them.
            return Err(RelayError::nats(format!(
                "message stored in stream {} instead of {stream}",
                ack.stream
            )));
        }
        if ack.duplicate {
            published.duplicates += 1;
        } else {
            published.stored += 1;
        }
    }
    metrics::counter!("relay_events_published_total", "stream" => stream.clone())
        .increment(published.stored);
    metrics::counter!("relay_duplicates_total", "stream" => stream).increment(published.duplicates);
    Ok(published)
}

/// Records that everything up to `at` is acknowledged by JetStream stream `stream`.
async fn advance(
    pool: &PgPool,
    stream: &str,
    at: Position,
    stored: u64,
) -> Result<(), sqlx::Error> {
    // Never backwards: a second relay on the same stream (during a rolling restart)
    // may be behind this one. No need to wait for the WAL flush: a checkpoint lost in a
    // crash only means republishing, which deduplication and the workers' checkpoints
    // absorb.
    sqlx::query(
        "insert into projections.relay_checkpoints
                 (relay, commit_position, prepare_position, published)
             select $1, $2, $3, $4
               from (select set_config('synchronous_commit', 'off', true)) as async_commit
             on conflict (relay) do update set commit_position = excluded.commit_position,
                 prepare_position = excluded.prepare_position,
                 published = projections.relay_checkpoints.published + excluded.published,
                 updated_at = now()
             where (projections.relay_checkpoints.commit_position,
                    projections.relay_checkpoints.prepare_position)
                 < (excluded.commit_position, excluded.prepare_position)",
    )
    .bind(stream)
    .bind(at.commit as i64)
    .bind(at.prepare as i64)
    .bind(stored as i64)
    .execute(pool)
    .await?;
    Ok(())
}

/// Writes the relay's checkpoint as acknowledgements come in (`acked`: the last
/// position acknowledged, and how many messages were stored since `from`), one write at
/// a time, each with the latest: publishing never waits for PostgreSQL. When the sender
/// goes, writes what it last sent and ends.
async fn keep_checkpoint(
    pool: PgPool,
    stream: String,
    mut acked: watch::Receiver<(Position, u64)>,
) -> Result<(), sqlx::Error> {
    let mut written = *acked.borrow_and_update();
    loop {
        let more = acked.changed().await.is_ok();
        let latest = *acked.borrow_and_update();
        if latest.0 > written.0 {
            advance(&pool, &stream, latest.0, latest.1 - written.1).await?;
            written = latest;
        }
        if !more {
            return Ok(());
        }
    }
}

/// The answer of a task of the relay's.
fn joined<T, E>(joined: Result<Result<T, E>, tokio::task::JoinError>) -> Result<T, RelayError>
where
    RelayError: From<E>,
{
    match joined {
        Ok(result) => result.map_err(RelayError::from),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(RelayError::nats("the relay's task was cancelled")),
    }
}

impl Relay {
    /// Publishes `$all` until `shutdown` turns true, while this process holds the
    /// stream's lease ([`Relay::lease_key`]): a second relay is a hot standby, which takes
    /// over from the checkpoint the moment the first one's connection ends. NATS failures
    /// (a server restart, a deleted stream) are waited out: the relay starts again from its
    /// checkpoint, recreating the stream when it is gone. Store and database failures end
    /// it.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<(), RelayError> {
        let key = self.lease_key();
        lease::lead(&self.pool, &key, shutdown, |stop| self.publish_until(stop)).await
    }

    /// The lease the relays of this stream share.
    pub fn lease_key(&self) -> String {
        format!("relay:{}", self.config.stream)
    }

    /// [`Relay::run`] once the lease is held.
    async fn publish_until(&self, mut shutdown: watch::Receiver<bool>) -> Result<(), RelayError> {
        loop {
            match self.follow(&mut shutdown).await {
                Ok(()) => return Ok(()),
                Err(RelayError::Nats(e)) => {
                    tracing::warn!(stream = %self.config.stream, error = %e, "relay: NATS failed; starting again from the checkpoint");
                    tokio::select! {
                        _ = shutdown.wait_for(|stop| *stop) => return Ok(()),
                        () = tokio::time::sleep(RETRY_AFTER) => {}
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn follow(&self, shutdown: &mut watch::Receiver<bool>) -> Result<(), RelayError> {
        ensure_stream(&self.js, &self.config).await?;
        let (mut prev, _) = self.checkpoint().await?;
        tracing::info!(stream = %self.config.stream, from = %prev, "relay publishing $all to JetStream");
        let mut events = self.store.subscribe_all(prev).await?;
        let (acked, acked_seen) = watch::channel((prev, 0));
        let mut writer = tokio::spawn(keep_checkpoint(
            self.pool.clone(),
            self.config.stream.clone(),
            acked_seen,
        ));
        // The batch published last, its acknowledgements awaited meanwhile, and its end.
        let mut confirming: Option<(JoinHandle<Result<Published, RelayError>>, Position)> = None;
        let record = |published: Published, last: Position| {
            acked.send_modify(|(at, stored)| {
                *at = last;
                *stored += published.stored;
            })
        };
        enum Step {
            Stop,
            Next(Option<Result<RecordedEvent, StoreError>>),
            Confirmed(Result<Result<Published, RelayError>, tokio::task::JoinError>),
            Written(Result<Result<(), sqlx::Error>, tokio::task::JoinError>),
        }
        loop {
            let step = if *shutdown.borrow() {
                Step::Stop
            } else {
                tokio::select! {
                    _ = shutdown.wait_for(|stop| *stop) => Step::Stop,
                    next = events.next() => Step::Next(next),
                    done = async { (&mut confirming.as_mut().expect("guarded").0).await },
                        if confirming.is_some() => Step::Confirmed(done),
                    // Only a failure ends the writer while the relay runs.
                    done = &mut writer => Step::Written(done),
                }
            };
            let first = match step {
                Step::Stop => break,
                Step::Confirmed(done) => {
                    let (_, last) = confirming.take().expect("it was running");
                    record(joined(done)?, last);
                    continue;
                }
                Step::Written(done) => {
                    joined(done)?;
                    return Err(RelayError::nats("the checkpoint writer ended"));
                }
                Step::Next(None) => {
                    return Err(
                        StoreError::Unavailable("the $all subscription ended".into()).into(),
                    )
                }
                Step::Next(Some(first)) => first?,
            };
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match events.next().now_or_never() {
                    Some(Some(event)) => batch.push(event?),
                    _ => break,
                }
            }
            // Sent while the previous batch's acknowledgements are on their way; awaited
            // after them, so the checkpoint passes the batches in order.
            let acks = self.send(&batch, prev).await?;
            if let Some((previous, last)) = confirming.take() {
                record(joined(previous.await)?, last);
            }
            let last = batch.last().expect("a batch is never empty").position;
            confirming = Some((
                tokio::spawn(confirm(acks, self.config.stream.clone())),
                last,
            ));
            prev = last;
        }
        if let Some((previous, last)) = confirming.take() {
            record(joined(previous.await)?, last);
        }
        drop(acked);
        joined(writer.await)
    }
}

/// The relay checkpoint of JetStream stream `stream`: the last position it had
/// acknowledged, and how many events it stored.
pub async fn checkpoint(pool: &PgPool, stream: &str) -> Result<(Position, u64), sqlx::Error> {
    let row: Option<(i64, i64, i64)> = sqlx::query_as(
        "select commit_position, prepare_position, published
           from projections.relay_checkpoints where relay = $1",
    )
    .bind(stream)
    .fetch_optional(pool)
    .await?;
    Ok(row.map_or((Position::START, 0), |(c, p, n)| {
        (Position::new(c as u64, p as u64), n as u64)
    }))
}
