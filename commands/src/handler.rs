//! The one command handler every aggregate goes through: load, decide, append.
//!
//! Commands to one stream are queued to a single task for that stream while it has work
//! (an actor per hot stream). The task takes every command waiting, decides them one after
//! the other against the evolving state and appends all their events in one append with the
//! exact version it loaded. So a hot SKU under sixteen concurrent clients costs one round
//! trip per batch, not sixteen conflicting ones, and the store's optimistic check only fires
//! when another process wrote the same stream; then the batch is reloaded and decided again,
//! a bounded number of times.
//!
//! State survives between batches in a `moka` cache of `(state, revision)`, refreshed by
//! reading only the events after the cached revision, so a cache entry is never trusted
//! past what the store says.
//!
//! Event ids are UUIDv5 of the command id and the event's index, so a command retried by a
//! client (same command id) is recognised by the store and appends nothing twice.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use domain::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::store::{
    Direction, EventStore, ExpectedVersion, NewEvent, Position, ReadFrom, StoreError,
};

/// How many times a batch is reloaded and decided again after another writer won.
const MAX_CONFLICT_RETRIES: usize = 8;
/// Most commands decided into one append.
const MAX_BATCH: usize = 256;
/// Events read per page while loading a stream.
const LOAD_PAGE: usize = 1_000;

/// Who asked, and on behalf of which request: copied into every event's metadata
/// (invariant 9) and so into the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// `None` for the engine itself (process managers, expiry).
    pub user_id: Option<Uuid>,
    pub role: String,
}

impl Actor {
    pub fn system() -> Self {
        Actor {
            user_id: None,
            role: "system".into(),
        }
    }

    /// Someone not signed in: who they claim to be (an e-mail in a form, say) names the
    /// target of their request, never its actor.
    pub fn anonymous() -> Self {
        Actor {
            user_id: None,
            role: "anonymous".into(),
        }
    }
}

/// The envelope of one command: its identity, its cause and its actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandMeta {
    /// Names the command; a retry carries the same id.
    pub command_id: Uuid,
    /// The request or business flow the command belongs to; made by the server, never
    /// taken from a client.
    pub correlation_id: Uuid,
    /// The command or event that caused this command (the command itself when a user sent it).
    pub causation_id: Uuid,
    pub actor: Actor,
    pub occurred_at: DateTime<Utc>,
    /// Request details kept for the audit trail (client IP, user agent), when known.
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    /// The client's own id for its request (`X-Request-Id`), kept beside the correlation
    /// id so a caller can find its request in the trail without choosing the trail.
    pub client_request_id: Option<String>,
    /// An actor outside the shop with no account (a carrier: `carrier:test`), recorded as
    /// the events' `actor_id` in place of a user's id.
    pub external_actor: Option<String>,
    /// Why the actor sent the command, when a person said so (the console's confirm step
    /// asks every changing action for one); kept in the events' metadata as `reason`, so an
    /// entity's history says why a price changed or a product was published, not only who.
    pub reason: Option<String>,
}

impl CommandMeta {
    /// A command started by `actor` for request `correlation_id`.
    pub fn new(command_id: Uuid, correlation_id: Uuid, actor: Actor, at: DateTime<Utc>) -> Self {
        CommandMeta {
            command_id,
            correlation_id,
            causation_id: command_id,
            actor,
            occurred_at: at,
            client_ip: None,
            user_agent: None,
            client_request_id: None,
            external_actor: None,
            reason: None,
        }
    }

    /// A command a process manager sends in reaction to an event: same correlation, caused
    /// by that event, and an id derived from the event so that reacting twice is harmless.
    pub fn caused_by(
        event_id: Uuid,
        correlation_id: Uuid,
        purpose: &str,
        at: DateTime<Utc>,
    ) -> Self {
        CommandMeta {
            command_id: Uuid::new_v5(&event_id, purpose.as_bytes()),
            correlation_id,
            causation_id: event_id,
            actor: Actor::system(),
            occurred_at: at,
            client_ip: None,
            user_agent: None,
            client_request_id: None,
            external_actor: None,
            reason: None,
        }
    }

    /// The id of the `index`th event this command appends.
    pub fn event_id(&self, index: usize) -> Uuid {
        Uuid::new_v5(&self.command_id, index.to_string().as_bytes())
    }

    /// The metadata every event of this command carries (invariant 9).
    pub fn metadata(&self, schema_version: u32) -> serde_json::Value {
        let mut m = json!({
            "command_id": self.command_id,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "actor_id": match &self.external_actor {
                Some(external) => json!(external),
                None => json!(self.actor.user_id),
            },
            "actor_role": self.actor.role,
            "occurred_at": self.occurred_at,
            "schema_version": schema_version,
        });
        if let Some(ip) = &self.client_ip {
            m["client_ip"] = json!(ip);
        }
        if let Some(ua) = &self.user_agent {
            m["user_agent"] = json!(ua);
        }
        if let Some(id) = &self.client_request_id {
            m["client_request_id"] = json!(id);
        }
        if let Some(reason) = &self.reason {
            m["reason"] = json!(reason);
        }
        m
    }
}

/// What a handled command answers.
#[derive(Debug, Clone)]
pub struct Handled<E> {
    /// The events this command appended (empty when the state already satisfied it).
    pub events: Vec<E>,
    /// The stream's revision after the command; `None` when the stream is still empty.
    pub revision: Option<u64>,
    /// Where the command's events sit in `$all`, for read-your-writes; `None` when it
    /// appended nothing.
    pub position: Option<Position>,
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    /// The rules refuse the command in the stream's current state.
    #[error(transparent)]
    Rejected(E),
    /// Other writers kept winning the race for this stream.
    #[error("stream {stream} kept changing under the command ({attempts} attempts)")]
    Contended { stream: String, attempts: usize },
    #[error(transparent)]
    Store(StoreError),
    /// An event in the stream cannot be read by this version of the code.
    #[error("cannot read event {event_id} ({event_type} v{schema_version}): {reason}")]
    Undecodable {
        event_id: Uuid,
        event_type: String,
        schema_version: u32,
        reason: String,
    },
    /// The stream's task stopped (the handler is shutting down).
    #[error("the command handler is shutting down")]
    ShuttingDown,
}

type Reply<A> = oneshot::Sender<
    Result<Handled<<A as Aggregate>::Event>, CommandError<<A as Aggregate>::Error>>,
>;

struct Pending<A: Aggregate> {
    command: A::Command,
    meta: CommandMeta,
    reply: Reply<A>,
}

#[derive(Clone)]
struct Loaded<S> {
    state: S,
    revision: Option<u64>,
}

/// Handles the commands of one aggregate type.
pub struct CommandHandler<A: Aggregate> {
    inner: Arc<HandlerInner<A>>,
}

impl<A: Aggregate> Clone for CommandHandler<A> {
    fn clone(&self) -> Self {
        CommandHandler {
            inner: self.inner.clone(),
        }
    }
}

struct HandlerInner<A: Aggregate> {
    store: Arc<dyn EventStore>,
    cache: moka::sync::Cache<String, Loaded<A::State>>,
    queues: Mutex<HashMap<String, mpsc::UnboundedSender<Pending<A>>>>,
    _aggregate: PhantomData<fn() -> A>,
}

impl<A: Aggregate> CommandHandler<A>
where
    A::Command: Send + 'static,
    A::Event: Send + 'static,
{
    pub fn new(store: Arc<dyn EventStore>, cache_capacity: u64) -> Self {
        CommandHandler {
            inner: Arc::new(HandlerInner {
                store,
                cache: moka::sync::Cache::new(cache_capacity),
                queues: Mutex::new(HashMap::new()),
                _aggregate: PhantomData,
            }),
        }
    }

    /// The stream of the aggregate instance `id`.
    pub fn stream_id(id: impl std::fmt::Display) -> String {
        format!("{}-{id}", A::CATEGORY)
    }

    /// Decides `command` against the current state of `stream_id` and appends its events.
    pub async fn handle(
        &self,
        stream_id: &str,
        command: A::Command,
        meta: CommandMeta,
    ) -> Result<Handled<A::Event>, CommandError<A::Error>> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            command,
            meta,
            reply,
        };
        {
            let mut queues = self.inner.queues.lock().unwrap_or_else(|e| e.into_inner());
            let pending = match queues.get(stream_id) {
                Some(queue) => match queue.send(pending) {
                    Ok(()) => None,
                    // The stream's task is ending; start a new one below.
                    Err(mpsc::error::SendError(p)) => Some(p),
                },
                None => Some(pending),
            };
            if let Some(pending) = pending {
                let (tx, rx) = mpsc::unbounded_channel();
                // Cannot fail: the receiver is alive.
                let _ = tx.send(pending);
                queues.insert(stream_id.to_owned(), tx);
                tokio::spawn(run_stream(self.inner.clone(), stream_id.to_owned(), rx));
            }
        }
        answer.await.map_err(|_| CommandError::ShuttingDown)?
    }

    /// The current state and revision of a stream, as a command would see it.
    pub async fn load(
        &self,
        stream_id: &str,
    ) -> Result<(A::State, Option<u64>), CommandError<A::Error>> {
        let loaded = load::<A>(&self.inner, stream_id).await?;
        Ok((loaded.state, loaded.revision))
    }
}

/// The task of one stream: drains its queue in batches and ends when the queue is empty.
async fn run_stream<A: Aggregate>(
    inner: Arc<HandlerInner<A>>,
    stream_id: String,
    mut rx: mpsc::UnboundedReceiver<Pending<A>>,
) where
    A::Command: Send + 'static,
    A::Event: Send + 'static,
{
    loop {
        let mut batch = Vec::new();
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            // Leave only if nothing arrived between the last look and taking the lock.
            let mut queues = inner.queues.lock().unwrap_or_else(|e| e.into_inner());
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => {
                    queues.remove(&stream_id);
                    return;
                }
            }
        }
        process_batch(&inner, &stream_id, batch).await;
    }
}

/// Counts command outcomes in `commands_total{aggregate, outcome}`: `appended`,
/// `unchanged` (the state already satisfied it), `rejected` (a rule refused it),
/// `contended` and `failed`.
fn count<A: Aggregate>(outcome: &'static str, n: usize) {
    metrics::counter!("commands_total", "aggregate" => A::CATEGORY, "outcome" => outcome)
        .increment(n as u64);
}

fn count_decided<A: Aggregate, T, E>(outcomes: &[Result<Vec<T>, E>]) {
    for o in outcomes {
        count::<A>(
            match o {
                Ok(events) if events.is_empty() => "unchanged",
                Ok(_) => "appended",
                Err(_) => "rejected",
            },
            1,
        );
    }
}

async fn process_batch<A: Aggregate>(
    inner: &HandlerInner<A>,
    stream_id: &str,
    batch: Vec<Pending<A>>,
) {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let loaded = match load::<A>(inner, stream_id).await {
            Ok(l) => l,
            Err(e) => {
                let msg = e.to_string();
                for p in batch {
                    let _ = p.reply.send(Err(clone_load_error(&e, &msg)));
                }
                return;
            }
        };

        // Decide each command against the state its predecessors in the batch left.
        let mut state = loaded.state.clone();
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut new_events = Vec::new();
        for p in &batch {
            match A::decide(&state, &p.command) {
                Ok(events) => {
                    for e in &events {
                        state = A::evolve(state, e);
                    }
                    for (i, e) in events.iter().enumerate() {
                        new_events.push(NewEvent {
                            id: p.meta.event_id(i),
                            event_type: e.event_type().to_owned(),
                            schema_version: e.schema_version(),
                            data: e.to_data(),
                            metadata: p.meta.metadata(e.schema_version()),
                        });
                    }
                    outcomes.push(Ok(events));
                }
                Err(e) => outcomes.push(Err(e)),
            }
        }

        if new_events.is_empty() {
            count_decided::<A, _, _>(&outcomes);
            for (p, outcome) in batch.into_iter().zip(outcomes) {
                let _ = p.reply.send(
                    outcome
                        .map(|events| Handled {
                            events,
                            revision: loaded.revision,
                            position: None,
                        })
                        .map_err(CommandError::Rejected),
                );
            }
            return;
        }

        let expected = match loaded.revision {
            None => ExpectedVersion::NoStream,
            Some(r) => ExpectedVersion::Exact(r),
        };
        let n_events = new_events.len();
        let appended = inner.store.append(stream_id, expected, new_events).await;
        match appended {
            Ok(result) => {
                let appended_now = loaded
                    .revision
                    .map_or(n_events as u64 - 1, |r| r + n_events as u64);
                if result.revision == appended_now {
                    inner.cache.insert(
                        stream_id.to_owned(),
                        Loaded {
                            state,
                            revision: Some(result.revision),
                        },
                    );
                } else {
                    // The store recognised a retry and wrote nothing: `state` holds events
                    // twice, so do not keep it.
                    inner.cache.invalidate(stream_id);
                }
                count_decided::<A, _, _>(&outcomes);
                for (p, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = p.reply.send(
                        outcome
                            .map(|events| Handled {
                                position: (!events.is_empty()).then_some(result.position),
                                events,
                                revision: Some(result.revision),
                            })
                            .map_err(CommandError::Rejected),
                    );
                }
                return;
            }
            Err(StoreError::WrongExpectedVersion { .. }) if attempts < MAX_CONFLICT_RETRIES => {
                // Another process wrote this stream: forget what we knew and decide again.
                inner.cache.invalidate(stream_id);
                metrics::counter!("command_conflicts_total", "aggregate" => A::CATEGORY)
                    .increment(1);
                tracing::debug!(stream = stream_id, attempts, "conflict, deciding again");
                continue;
            }
            Err(StoreError::WrongExpectedVersion { .. }) => {
                inner.cache.invalidate(stream_id);
                count::<A>("contended", batch.len());
                for p in batch {
                    let _ = p.reply.send(Err(CommandError::Contended {
                        stream: stream_id.to_owned(),
                        attempts,
                    }));
                }
                return;
            }
            Err(StoreError::DuplicateEventId { .. }) if batch.len() > 1 => {
                // Some command in the batch is a retry of one already stored. Alone, each
                // is recognised by the store (or refused on its own), so go one by one.
                inner.cache.invalidate(stream_id);
                for p in batch {
                    Box::pin(process_batch(inner, stream_id, vec![p])).await;
                }
                return;
            }
            Err(e) => {
                inner.cache.invalidate(stream_id);
                count::<A>("failed", batch.len());
                let msg = e.to_string();
                let mut batch = batch.into_iter();
                if let Some(first) = batch.next() {
                    let _ = first.reply.send(Err(CommandError::Store(e)));
                }
                for p in batch {
                    let _ = p
                        .reply
                        .send(Err(CommandError::Store(StoreError::Unavailable(
                            msg.clone(),
                        ))));
                }
                return;
            }
        }
    }
}

/// A load failure is reported to every command of the batch; errors are not `Clone`.
fn clone_load_error<E: std::error::Error>(e: &CommandError<E>, msg: &str) -> CommandError<E> {
    match e {
        CommandError::Undecodable {
            event_id,
            event_type,
            schema_version,
            reason,
        } => CommandError::Undecodable {
            event_id: *event_id,
            event_type: event_type.clone(),
            schema_version: *schema_version,
            reason: reason.clone(),
        },
        _ => CommandError::Store(StoreError::Unavailable(msg.to_owned())),
    }
}

/// The stream's state: the cached one brought up to date, or a full replay.
async fn load<A: Aggregate>(
    inner: &HandlerInner<A>,
    stream_id: &str,
) -> Result<Loaded<A::State>, CommandError<A::Error>> {
    let mut loaded = inner.cache.get(stream_id).unwrap_or(Loaded {
        state: A::State::default(),
        revision: None,
    });
    loop {
        let from = loaded.revision.map_or(0, |r| r + 1);
        let page = inner
            .store
            .read_stream(
                stream_id,
                ReadFrom::Revision(from),
                Direction::Forwards,
                LOAD_PAGE,
            )
            .await
            .map_err(CommandError::Store)?;
        let n = page.len();
        for recorded in page {
            let event =
                A::Event::from_data(&recorded.event_type, recorded.schema_version, recorded.data)
                    .map_err(|e| CommandError::Undecodable {
                    event_id: recorded.id,
                    event_type: recorded.event_type.clone(),
                    schema_version: recorded.schema_version,
                    reason: e.to_string(),
                })?;
            loaded.state = A::evolve(loaded.state, &event);
            loaded.revision = Some(recorded.revision);
        }
        if n < LOAD_PAGE {
            break;
        }
    }
    inner.cache.insert(stream_id.to_owned(), loaded.clone());
    Ok(loaded)
}
