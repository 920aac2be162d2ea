//! The JetStream feed: projection workers reading the relay's messages, with the event
//! store as the backstop.
//!
//! Each projection has one durable pull consumer (named after it) on the relay's stream.
//! A [`Worker`] fetches what is there, decodes each message back into the
//! [`RecordedEvent`] the store holds, and applies the batch through its [`Runner`]: the
//! batch and the checkpoint commit in one PostgreSQL transaction, events at or below the
//! checkpoint are skipped, and only then are the messages acknowledged. A worker killed
//! between the commit and the acks gets the messages again and skips them.
//!
//! NATS is derived, never trusted (invariant 5). JetStream acknowledges a write before it
//! reaches disk, a stream can be purged or deleted, a consumer lost. So:
//!
//! - every message names the `$all` position of the event published before it; when that
//!   is above the checkpoint, or a batch has a hole, the worker reads the missing range
//!   from the store and applies it first;
//! - a stream or consumer found missing is created again (the consumer then starts from
//!   the stream's first message, and the checkpoint skips what it already covers);
//! - when no message arrives for [`JetStreamConfig::idle`], or NATS does not answer, the
//!   worker compares the store's head with its checkpoint and catches up from the store,
//!   which is what completes a read model after a purge that no later write reveals.

use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::pull;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy};
use async_nats::jetstream::context::GetStreamErrorKind;
use async_nats::jetstream::stream::StorageType;
use async_nats::jetstream::{self, ErrorCode};
use commands::store::{Position, RecordedEvent};
use futures::{FutureExt, StreamExt};
use tokio::sync::watch;

use crate::checkpoint;
use crate::lease;
use crate::runtime::projection::ProjectionError;
use crate::runtime::runner::{lease_key, Runner, BATCH};
use crate::wire::{decode_for, Delivery};

/// The JetStream side of a deployment: where the relay publishes and the workers read.
#[derive(Debug, Clone)]
pub struct JetStreamConfig {
    /// The stream's name (`NATS_STREAM`); also the relay checkpoint's key.
    pub stream: String,
    /// Subjects are `<prefix>.<category>.<EventType>` (`NATS_SUBJECT_PREFIX`).
    pub subject_prefix: String,
    /// How long JetStream remembers a `Nats-Msg-Id` to drop a republished copy.
    pub duplicate_window: Duration,
    /// How long the stream keeps a message. The store keeps everything; a worker further
    /// behind than this finds the gap and reads the rest from the store.
    pub max_age: Duration,
    /// How long a message may stay unacknowledged before JetStream delivers it again.
    pub ack_wait: Duration,
    /// How long a worker waits for a message before checking the store for events that
    /// never reached it.
    pub idle: Duration,
}

impl JetStreamConfig {
    pub fn new(stream: impl Into<String>, subject_prefix: impl Into<String>) -> Self {
        JetStreamConfig {
            stream: stream.into(),
            subject_prefix: subject_prefix.into(),
            duplicate_window: Duration::from_secs(5 * 60),
            max_age: Duration::from_secs(7 * 24 * 60 * 60),
            ack_wait: Duration::from_secs(30),
            idle: Duration::from_secs(1),
        }
    }

    /// Every subject the relay publishes on.
    pub fn subjects(&self) -> String {
        format!("{}.>", self.subject_prefix)
    }
}

/// NATS did not answer or refused; a passing condition as far as the engine is concerned.
#[derive(Debug, thiserror::Error)]
#[error("NATS JetStream: {0}")]
pub struct NatsError(pub String);

impl NatsError {
    pub(crate) fn from(e: impl std::fmt::Display) -> Self {
        NatsError(e.to_string())
    }
}

/// Creates the stream, or brings an existing one to this configuration.
#[tracing::instrument(skip_all, fields(stream = %config.stream), err)]
pub async fn ensure_stream(
    js: &jetstream::Context,
    config: &JetStreamConfig,
) -> Result<(), NatsError> {
    js.create_or_update_stream(jetstream::stream::Config {
        name: config.stream.clone(),
        subjects: vec![config.subjects()],
        storage: StorageType::File,
        duplicate_window: config.duplicate_window,
        max_age: config.max_age,
        description: Some("UltraMarket $all, published by the relay".into()),
        ..Default::default()
    })
    .await
    .map_err(NatsError::from)?;
    Ok(())
}

/// What one [`Worker::step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A batch of messages was handled. `applied` events came from the messages,
    /// `healed` from the store (a gap); the rest were already covered by the checkpoint.
    Batch {
        received: usize,
        applied: usize,
        healed: usize,
    },
    /// No message within [`JetStreamConfig::idle`]; `healed` events the store held
    /// beyond the checkpoint were applied from it.
    Idle { healed: usize },
    /// NATS failed; the read model was brought up to the store's head all the same.
    Unavailable { healed: usize, error: String },
}

/// What [`Worker::apply`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    pub applied: usize,
    pub healed: usize,
}

/// One projection following its JetStream consumer.
pub struct Worker {
    runner: Runner,
    js: jetstream::Context,
    config: JetStreamConfig,
    messages: Option<pull::Stream>,
}

impl Worker {
    pub fn new(runner: Runner, js: jetstream::Context, config: JetStreamConfig) -> Self {
        Worker {
            runner,
            js,
            config,
            messages: None,
        }
    }

    pub fn runner(&self) -> &Runner {
        &self.runner
    }

    /// Fetches, applies and acknowledges one batch; without messages, catches up from the
    /// store instead.
    pub async fn step(&mut self) -> Result<Outcome, ProjectionError> {
        let idle = Instant::now() + self.config.idle;
        let fetched = loop {
            let due = self.runner.checkpoint_due();
            match self
                .fetch_until(due.map_or(idle, |due| due.min(idle)))
                .await
            {
                // No batch came to take the held checkpoint move along.
                Ok(messages) if messages.is_empty() && Instant::now() < idle => {
                    self.runner.flush_checkpoint().await?
                }
                fetched => break fetched,
            }
        };
        let messages = match fetched {
            Ok(messages) => messages,
            Err(e) => {
                let healed = self.heal(None).await?;
                return Ok(Outcome::Unavailable {
                    healed,
                    error: e.to_string(),
                });
            }
        };
        if messages.is_empty() {
            let healed = self.heal(None).await?;
            return Ok(Outcome::Idle { healed });
        }
        let done = self.apply(&messages).await?;
        ack(&messages).await;
        Ok(Outcome::Batch {
            received: messages.len(),
            applied: done.applied,
            healed: done.healed,
        })
    }

    /// Waits up to [`JetStreamConfig::idle`] for a message, then takes whatever else has
    /// already arrived, up to [`BATCH`]. Empty when nothing came.
    pub async fn fetch(&mut self) -> Result<Vec<jetstream::Message>, NatsError> {
        self.fetch_until(Instant::now() + self.config.idle).await
    }

    /// [`Worker::fetch`], waiting until `until` at most.
    async fn fetch_until(&mut self, until: Instant) -> Result<Vec<jetstream::Message>, NatsError> {
        if self.messages.is_none() {
            self.messages = Some(self.subscribe().await?);
        }
        let stream = self.messages.as_mut().expect("subscribed above");
        let first = match tokio::time::timeout_at(until.into(), stream.next()).await {
            Err(_) => return Ok(Vec::new()),
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(e))) => {
                self.messages = None;
                return Err(NatsError::from(e));
            }
            Ok(None) => {
                self.messages = None;
                return Err(NatsError("the consumer's message stream ended".into()));
            }
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match stream.next().now_or_never() {
                Some(Some(Ok(message))) => batch.push(message),
                Some(Some(Err(e))) => {
                    // Handle what arrived; the next fetch subscribes again.
                    tracing::warn!(projection = self.runner.name(), error = %e, "JetStream consumer failed");
                    self.messages = None;
                    break;
                }
                _ => break,
            }
        }
        Ok(batch)
    }

    /// The projection's durable consumer, created (with the stream, when that is gone)
    /// if missing.
    async fn subscribe(&self) -> Result<pull::Stream, NatsError> {
        let name = self.runner.name();
        let stream = match self.js.get_stream(&self.config.stream).await {
            Ok(stream) => stream,
            Err(e)
                if matches!(e.kind(), GetStreamErrorKind::JetStream(ref j)
                            if j.error_code() == ErrorCode::STREAM_NOT_FOUND) =>
            {
                tracing::warn!(projection = name, stream = %self.config.stream, "JetStream stream missing; creating it and catching up from the store");
                ensure_stream(&self.js, &self.config).await?;
                self.js
                    .get_stream(&self.config.stream)
                    .await
                    .map_err(NatsError::from)?
            }
            Err(e) => return Err(NatsError::from(e)),
        };
        let consumer: jetstream::consumer::PullConsumer = stream
            .get_or_create_consumer(
                name,
                pull::Config {
                    durable_name: Some(name.to_owned()),
                    description: Some(format!("projection {name}")),
                    filter_subject: self.config.subjects(),
                    // One acknowledgement per message. `AckPolicy::All` (one per batch)
                    // was tried: after a NATS server (2.9) restart mid-stream, some
                    // redelivered messages stayed pending and came back every
                    // `ack_wait` (the restart test in tests/nats.rs).
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: self.config.ack_wait,
                    // From the stream's first message: the checkpoint skips what it
                    // covers, and nothing the stream still holds is passed over.
                    deliver_policy: DeliverPolicy::All,
                    max_ack_pending: (BATCH * 8) as i64,
                    ..Default::default()
                },
            )
            .await
            .map_err(NatsError::from)?;
        consumer
            .stream()
            .max_messages_per_batch(BATCH)
            .expires(Duration::from_secs(10))
            // A server that went away is noticed within two heartbeats.
            .heartbeat(Duration::from_secs(2))
            .messages()
            .await
            .map_err(NatsError::from)
    }

    /// Applies `messages` (in any order, duplicates and redeliveries included) in one
    /// transaction with the checkpoint, reading from the store first whatever the messages
    /// show is missing. Acknowledges nothing.
    pub async fn apply(&self, messages: &[jetstream::Message]) -> Result<Applied, ProjectionError> {
        let name = self.runner.name();
        let mut deliveries: Vec<Delivery> = Vec::with_capacity(messages.len());
        let projection = self.runner.projection();
        for message in messages {
            match decode_for(message.headers.as_ref(), &message.payload, |e| {
                projection.wants(e)
            }) {
                Ok(delivery) => deliveries.push(delivery),
                // Not ours: someone published on the relay's subjects. Whatever it hides
                // is still in the store.
                Err(e) => {
                    tracing::warn!(projection = name, subject = %message.subject, error = %e, "ignoring a message")
                }
            }
        }
        deliveries.sort_by_key(Delivery::position);
        deliveries.dedup_by_key(|d| d.position());
        // What this runner last committed is the checkpoint unless another process moved
        // it since; only when the messages do not follow on from it is the table asked.
        let mut at = self.runner.position();
        let mut complete = follows(&deliveries, at);
        if !complete {
            at = checkpoint::position(self.runner.pool(), name).await?;
            self.runner.advance(at);
            complete = follows(&deliveries, at);
        }
        let fresh: Vec<Delivery> = deliveries
            .into_iter()
            .filter(|d| d.position() > at)
            .collect();
        let Some(last) = fresh.last().map(Delivery::position) else {
            return Ok(Applied::default());
        };
        if complete {
            let mut events: Vec<RecordedEvent> = fresh
                .into_iter()
                .filter_map(|d| match d {
                    Delivery::Event { event, .. } => Some(*event),
                    Delivery::Omitted { .. } => None,
                })
                .collect();
            // NATS carries the log as it is, sealed.
            self.runner.open(&mut events).await?;
            let applied = self.runner.apply_following(at, &events).await?;
            return Ok(Applied { applied, healed: 0 });
        }
        tracing::info!(projection = name, checkpoint = %at, up_to = %last, "JetStream is missing events; reading them from the store");
        let healed = self.heal(Some(last)).await?;
        Ok(Applied { applied: 0, healed })
    }

    /// Applies the store's `$all` after the checkpoint up to `until` (at least), or up
    /// to the store's head.
    pub async fn heal(&self, until: Option<Position>) -> Result<usize, ProjectionError> {
        let name = self.runner.name();
        let store = self.runner.store();
        let until = match until {
            Some(until) => until,
            None => store.head_position().await?,
        };
        // The table's checkpoint is where this reads from: not behind what was passed over.
        self.runner.flush_checkpoint().await?;
        let mut at = checkpoint::position(self.runner.pool(), name).await?;
        let mut healed = 0;
        while at < until {
            let events = store.read_all(at, BATCH).await?;
            let Some(last) = events.last().map(|e| e.position) else {
                // The store shows nothing past the checkpoint that a message claimed:
                // the idle check catches up if it ever appears.
                tracing::warn!(projection = name, checkpoint = %at, claimed = %until, "a message names a position the store does not hold");
                break;
            };
            healed += self.runner.apply_following(at, &events).await?;
            at = last;
        }
        if healed > 0 {
            tracing::info!(
                projection = name,
                healed,
                "applied events from the store that JetStream did not deliver"
            );
            metrics::counter!("projection_healed_events_total", "projection" => name)
                .increment(healed as u64);
        }
        Ok(healed)
    }
}

/// Whether the deliveries after `at` in `sorted` are the whole of `$all` after it, with
/// their bodies: each names as its predecessor `at` or a delivery before it.
fn follows(sorted: &[Delivery], at: Position) -> bool {
    let fresh = &sorted[sorted.partition_point(|d| d.position() <= at)..];
    fresh.first().is_none_or(|d| d.prev() <= at)
        && fresh.windows(2).all(|w| w[1].prev() <= w[0].position())
        && fresh.iter().all(|d| matches!(d, Delivery::Event { .. }))
}

/// Acknowledges `messages`. A lost acknowledgement only means a redelivery, which the
/// checkpoint skips.
pub async fn ack(messages: &[jetstream::Message]) {
    for message in messages {
        if let Err(e) = message.ack().await {
            tracing::debug!(error = %e, "acknowledgement not sent; the message will come again and be skipped");
        }
    }
}

/// Longest pause between attempts after failed batches.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Pause before asking NATS again after it failed.
const UNAVAILABLE_RETRY: Duration = Duration::from_secs(1);

/// Runs `runner`'s projection from its JetStream consumer until `shutdown` turns true,
/// while this process holds the read model's lease ([`lease_key`]); a worker of the same
/// read model elsewhere stands by meanwhile, and reads none of the consumer's messages.
/// NATS failures and failed batches are waited out (the read model keeps following the
/// store meanwhile when only NATS is down); a read model never skips an event to go on.
pub async fn run(
    runner: Runner,
    js: jetstream::Context,
    config: JetStreamConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<(), ProjectionError> {
    let pool = runner.pool().clone();
    lease::lead(&pool, &lease_key(runner.name()), shutdown, |stop| {
        follow(runner.clone(), js.clone(), config.clone(), stop)
    })
    .await
}

/// [`run`] once the lease is held. A new leader's runner may remember an older position
/// than the table's; [`Worker::apply`] then reads the table, so it starts from the
/// checkpoint whoever moved it last.
async fn follow(
    runner: Runner,
    js: jetstream::Context,
    config: JetStreamConfig,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ProjectionError> {
    runner.prepare().await?;
    let name = runner.name();
    tracing::info!(projection = name, stream = %config.stream, "projection following JetStream");
    let mut worker = Worker::new(runner, js, config);
    let mut failures: u32 = 0;
    let mut nats_down = false;
    loop {
        // A dropped sender stops the worker too.
        let stop = *shutdown.borrow() || shutdown.has_changed().is_err();
        if stop {
            worker.runner().stopping().await;
            return Ok(());
        }
        // Cancelling a step is safe at any await: an uncommitted batch rolls back, a
        // committed one not yet acknowledged is delivered again and skipped.
        let outcome = tokio::select! {
            // Back to the top, which stops.
            _ = shutdown.wait_for(|stop| *stop) => continue,
            outcome = worker.step() => outcome,
        };
        let pause = match outcome {
            Ok(Outcome::Unavailable { error, .. }) => {
                // The store kept the read model current; try NATS again soon.
                failures = 0;
                if !nats_down {
                    tracing::warn!(projection = name, %error, "JetStream unavailable; following the store until it answers");
                }
                nats_down = true;
                UNAVAILABLE_RETRY
            }
            Err(e) => {
                failures += 1;
                tracing::error!(projection = name, error = %e, failures, "projection batch failed; retrying");
                Duration::from_millis(500)
                    .saturating_mul(1 << failures.min(6))
                    .min(MAX_BACKOFF)
            }
            Ok(_) => {
                if std::mem::take(&mut nats_down) {
                    tracing::info!(projection = name, "JetStream answers again");
                }
                failures = 0;
                continue;
            }
        };
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}
