//! The [`Projection`] trait a read model implements, its error, and the small tools read
//! models share to decode events and write batches over arrays.
//!
//! A read model owns one PostgreSQL schema. Its tables are created from its DDL (unqualified
//! names) and every batch runs with `search_path` set to that schema, which is what lets a
//! rebuild fill a shadow schema with the very same code and then swap it in by renaming
//! (see [`crate::rebuild`]).

use async_trait::async_trait;
use commands::store::{RecordedEvent, StoreError};
use sqlx::PgConnection;

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event {event_id} ({event_type}): {reason}")]
    Event {
        event_id: uuid::Uuid,
        event_type: String,
        reason: String,
    },
    #[error("projection {0}: {1}")]
    Setup(String, String),
}

impl ProjectionError {
    /// Whether applying the same event again would fail the same way: a bad event or a
    /// statement PostgreSQL refuses, as opposed to a lost connection or a deadlock.
    pub(crate) fn is_deterministic(&self) -> bool {
        match self {
            ProjectionError::Event { .. } => true,
            ProjectionError::Database(sqlx::Error::Database(e)) => {
                // Class 40: serialization failures and deadlocks are worth retrying.
                !e.code().is_some_and(|c| c.starts_with("40"))
            }
            _ => false,
        }
    }

    /// A decoding failure of `event`, for projections' `apply`.
    pub fn event(event: &RecordedEvent, reason: impl std::fmt::Display) -> Self {
        ProjectionError::Event {
            event_id: event.id,
            event_type: event.event_type.clone(),
            reason: reason.to_string(),
        }
    }
}

/// A read model: what to do with each event of `$all` (most are none of its business).
#[async_trait]
pub trait Projection: Send + Sync + 'static {
    /// Its name: the checkpoint's key and the JetStream consumer's.
    fn name(&self) -> &'static str;

    /// The PostgreSQL schema its tables live in (analysts query `<schema>.<table>`).
    fn schema(&self) -> &'static str;

    /// DDL that creates its tables in an empty schema, with unqualified names.
    fn tables(&self) -> &'static str;

    /// Columns whose values belong to the store that holds the log rather than to the
    /// events (a `$all` position, a record time): left out of the portable checksum that
    /// compares a read model across stores (see `umctl verify`).
    fn store_local_columns(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether `event` may change this read model. Events it does not want are never given
    /// to [`Projection::apply`], and a batch of nothing but such events only moves the
    /// checkpoint. Must answer true for every event `apply` does something with; the
    /// default, true, is always correct. Decides on the envelope (stream, type, versions,
    /// position, time): a JetStream worker asks before it parses the data and metadata,
    /// which are `null` then.
    fn wants(&self, event: &RecordedEvent) -> bool {
        let _ = event;
        true
    }

    /// Applies a batch of events (in `$all` order, all after the checkpoint) inside the
    /// runner's transaction. A read model that can write a batch with fewer statements
    /// than one event at a time overrides this; the result must be the same as applying
    /// them one by one, which is what the poison fallback does.
    async fn apply_batch(
        &self,
        tx: &mut PgConnection,
        events: &[&RecordedEvent],
    ) -> Result<(), ProjectionError> {
        for event in events {
            self.apply(tx, event).await?;
        }
        Ok(())
    }

    /// Applies one event inside the runner's transaction, whose `search_path` is the
    /// read model's schema (or its shadow): use unqualified table names.
    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError>;
}

/// `event`'s data as the domain event `E`, upcast to its current schema version; a
/// failure is the event's, for [`Projection::apply`].
pub fn decode<E: domain::DomainEvent>(event: &RecordedEvent) -> Result<E, ProjectionError> {
    E::from_data(&event.event_type, event.schema_version, event.data.clone())
        .map_err(|e| ProjectionError::event(event, e))
}

/// A unit enum value as it is written in events (`snake_case`), for text columns.
pub fn wire_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// One column of `rows`, for binding as an array parameter: read models write a batch
/// with one `insert ... select from unnest($1, $2, ...)` statement per table.
pub fn column<R, T>(rows: R, value: impl FnMut(R::Item) -> T) -> Vec<T>
where
    R: IntoIterator,
{
    rows.into_iter().map(value).collect()
}

/// When an event happened, for events without a business time of their own: the command's
/// time from the metadata, which travels with the event when a log is exported and
/// imported (so read models match across stores); the store's record time only when the
/// metadata lacks it.
pub fn event_time(event: &RecordedEvent) -> chrono::DateTime<chrono::Utc> {
    event
        .metadata
        .get("occurred_at")
        .and_then(|v| v.as_str())
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map_or(event.recorded_at, |t| t.with_timezone(&chrono::Utc))
}
