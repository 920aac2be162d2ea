//! Personal data sealed in the log (issue 20, ADR 0005), as `umctl` shows and replays it.
//!
//! The log holds each personal field as an envelope, `um:enc:1:<subject>:<ciphertext>`.
//! What prints events (`read`, `tail`, `audit`, `diff`) shows an envelope as
//! `[encrypted for <subject>]`, unless told to `--reveal`: then it opens it with the data
//! keys, under `MASTER_KEY` or else the key embedded in the database, and an erased
//! person's fields read as erased, as the engine reads them. `export` copies the log as it
//! is, so its hash chain covers the ciphertext and an erasure never breaks it.
//!
//! What applies events as the engine does (`rebuild`, `verify`'s replay) opens them with
//! the same keys; with none at hand it stops at the first sealed event, rather than build
//! read models out of envelopes. What only checks or folds the shape of events (`verify`'s
//! schemas and decoding, `state` and `diff` without `--reveal`) reads each sealed field as
//! its declared erasure placeholder, which fits the schema by construction.

use std::sync::Arc;

use async_trait::async_trait;
pub use commands::privacy::as_erased;
use commands::privacy::{is_sealed, open_events, subject_of, DataKeys, MasterKey, PrivacyError};
use commands::store::{
    AppendResult, Direction, EventStore, ExpectedVersion, NewEvent, Position, ReadFrom,
    RecordedEvent, StoreError, StreamInfo, SubscriptionStream,
};
use futures::StreamExt;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::cli::MasterKeyArgs;
use crate::connect::{open_read_models, Schema};
use crate::{keys, UmctlError};

/// How a sealed field is printed when it is not revealed.
pub fn encrypted_for(subject: Uuid) -> String {
    format!("[encrypted for {subject}]")
}

/// Replaces every envelope in `value`, at any depth, by [`encrypted_for`] its subject;
/// answers how many.
pub fn mask(value: &mut Value) -> usize {
    match value {
        Value::String(_) => match subject_of(value) {
            Some(subject) => {
                *value = Value::String(encrypted_for(subject));
                1
            }
            None => 0,
        },
        Value::Array(items) => items.iter_mut().map(mask).sum(),
        Value::Object(fields) => fields.values_mut().map(mask).sum(),
        _ => 0,
    }
}

fn unopened(e: PrivacyError) -> UmctlError {
    UmctlError::Store(e.into())
}

/// The data keys that open sealed fields: under `MASTER_KEY` (and `MASTER_KEY_PREVIOUS`),
/// else under the key embedded in the database. `None` when there is neither, or the
/// database predates crypto-shredding (no `privacy.data_keys`).
pub async fn data_keys(
    pool: &PgPool,
    master: &MasterKeyArgs,
) -> Result<Option<Arc<DataKeys>>, UmctlError> {
    let configured = keys::parse("MASTER_KEY", master.master_key.as_deref())?;
    let previous = keys::parse("MASTER_KEY_PREVIOUS", master.master_key_previous.as_deref())?;
    let tables: bool = sqlx::query_scalar(
        "select to_regclass('privacy.data_keys') is not null \
           and to_regclass('privacy.embedded_master_key') is not null",
    )
    .fetch_one(pool)
    .await
    .map_err(|e| UmctlError::Unreachable(e.to_string()))?;
    if !tables {
        return Ok(None);
    }
    let master = match configured {
        Some(master) => Some(master),
        None => MasterKey::embedded_if_any(pool).await?,
    };
    Ok(master.map(|m| Arc::new(DataKeys::new(pool.clone(), m, previous))))
}

/// Whether a command shows personal data as it is sealed, or opened.
pub enum Disclosure {
    /// Envelopes printed as [`encrypted_for`] their subject.
    Masked,
    /// Envelopes opened with these keys; an erased subject's read as erased.
    Revealed(Arc<DataKeys>),
}

impl Disclosure {
    /// What a command's `--reveal` asks for. Revealing needs a master key; without one, a
    /// clear error rather than envelopes the user asked not to see.
    pub async fn asked(
        reveal: bool,
        database_url: &str,
        master: &MasterKeyArgs,
    ) -> Result<Self, UmctlError> {
        if !reveal {
            return Ok(Disclosure::Masked);
        }
        let pool = open_read_models(database_url, Schema::MustExist).await?;
        match data_keys(&pool, master).await? {
            Some(keys) => Ok(Disclosure::Revealed(keys)),
            None => Err(UmctlError::BadArgument(
                "--reveal needs the master key: set MASTER_KEY (this database holds no \
                 embedded key)"
                    .into(),
            )),
        }
    }

    /// `events` as they are printed: envelopes masked, or opened.
    pub async fn show(&self, events: &mut [RecordedEvent]) -> Result<(), UmctlError> {
        match self {
            Disclosure::Masked => {
                for e in events {
                    mask(&mut e.data);
                    mask(&mut e.metadata);
                }
                Ok(())
            }
            Disclosure::Revealed(keys) => open_events(keys, events).await.map_err(unopened),
        }
    }

    /// `events` as an aggregate folds them: opened, or with each sealed field as its erasure
    /// placeholder. Answers how many fields are placeholders.
    pub async fn foldable(&self, events: &mut [RecordedEvent]) -> Result<usize, UmctlError> {
        match self {
            Disclosure::Masked => Ok(events.iter_mut().map(as_erased).sum()),
            Disclosure::Revealed(keys) => {
                open_events(keys, events).await.map_err(unopened)?;
                Ok(0)
            }
        }
    }
}

/// `store` as the engine's projections read it: opened with `keys`, or, with none at hand,
/// failing at the first sealed event.
pub fn opened(store: Arc<dyn EventStore>, keys: Option<Arc<DataKeys>>) -> Arc<dyn EventStore> {
    match keys {
        Some(keys) => Arc::new(commands::privacy::Sealed::new(store, keys)),
        None => Arc::new(Keyless { inner: store }),
    }
}

/// A store read without any master key: unsealed events pass, a sealed one is an error
/// that says what is missing (a read model built from envelopes would be wrong, and would
/// not even decode).
struct Keyless {
    inner: Arc<dyn EventStore>,
}

fn refuse_sealed(events: &[RecordedEvent]) -> Result<(), StoreError> {
    match events.iter().find(|e| is_sealed(e)) {
        None => Ok(()),
        Some(e) => Err(StoreError::InvalidInput {
            field: "MASTER_KEY",
            reason: format!(
                "not set, and the database holds no embedded key, yet event {} of {} holds \
                 sealed personal data: set MASTER_KEY to open it",
                e.id, e.stream_id
            ),
        }),
    }
}

#[async_trait]
impl EventStore for Keyless {
    async fn append(
        &self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        self.inner.append(stream_id, expected, events).await
    }

    async fn read_stream(
        &self,
        stream_id: &str,
        from: ReadFrom,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let events = self
            .inner
            .read_stream(stream_id, from, direction, limit)
            .await?;
        refuse_sealed(&events)?;
        Ok(events)
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let events = self.inner.read_all(after, limit).await?;
        refuse_sealed(&events)?;
        Ok(events)
    }

    async fn subscribe_all(&self, after: Position) -> Result<SubscriptionStream, StoreError> {
        let events = self.inner.subscribe_all(after).await?;
        Ok(events
            .map(|event| {
                let event = event?;
                refuse_sealed(std::slice::from_ref(&event))?;
                Ok(event)
            })
            .boxed())
    }

    async fn head_position(&self) -> Result<Position, StoreError> {
        self.inner.head_position().await
    }

    async fn committed_head(&self) -> Result<Position, StoreError> {
        self.inner.committed_head().await
    }

    async fn list_streams(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamInfo>, StoreError> {
        self.inner.list_streams(prefix, after, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_envelope_is_masked_and_nothing_else() {
        let ann = Uuid::new_v4();
        let envelope = format!("um:enc:1:{ann}:c2VhbGVk");
        let mut data = json!({
            "email": envelope,
            "role": "customer",
            "nested": [{"line1": envelope}],
            "lookalike": "um:enc:1:not-a-uuid:xyz",
        });
        assert_eq!(mask(&mut data), 2);
        assert_eq!(data["email"], format!("[encrypted for {ann}]"));
        assert_eq!(data["nested"][0]["line1"], format!("[encrypted for {ann}]"));
        assert_eq!(data["role"], "customer");
        assert_eq!(data["lookalike"], "um:enc:1:not-a-uuid:xyz");
    }
}
