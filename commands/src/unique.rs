//! Set uniqueness on the write side (invariant 7): an e-mail, a SKU, a slug or a coupon code
//! belongs to at most one owner, whatever the read models say.
//!
//! Each key has a stream of its own, `unique-<kind>-<uuidv5(kind:key)>`, holding
//! `UniqueKeyClaimed` / `UniqueKeyReleased` events. A first claim appends with "no stream"
//! expected and a later one with the exact revision of a release, so of two concurrent
//! claims the store lets exactly one through. Only `NoStream` and `Exact` are used, so this
//! holds on both store adapters.

use serde_json::json;
use uuid::Uuid;

use crate::handler::CommandMeta;
use crate::store::{Direction, EventStore, ExpectedVersion, NewEvent, ReadFrom, StoreError};

const CLAIMED: &str = "UniqueKeyClaimed";
const RELEASED: &str = "UniqueKeyReleased";
/// Attempts when claims race; each loss re-reads who won.
const ATTEMPTS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum UniqueError {
    #[error("{kind} {key:?} is already taken")]
    Taken {
        kind: String,
        key: String,
        owner: Uuid,
    },
    #[error("{kind} {key:?} is not held by {owner}")]
    NotHeld {
        kind: String,
        key: String,
        owner: Uuid,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The stream that guards `key` of `kind` (e.g. `email`, `sku`, `category_slug`).
pub fn stream_of(kind: &str, key: &str) -> String {
    let id = Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("{kind}:{key}").as_bytes());
    format!("unique-{kind}-{id}")
}

/// Who holds the key now, and the stream's revision.
async fn holder(
    store: &dyn EventStore,
    stream: &str,
) -> Result<(Option<Uuid>, Option<u64>), StoreError> {
    let last = store
        .read_stream(stream, ReadFrom::End, Direction::Backwards, 1)
        .await?;
    Ok(match last.first() {
        None => (None, None),
        Some(e) => {
            let owner = e
                .data
                .get("owner")
                .and_then(|o| o.as_str())
                .and_then(|o| Uuid::parse_str(o).ok());
            let held = (e.event_type == CLAIMED).then_some(owner).flatten();
            (held, Some(e.revision))
        }
    })
}

/// Who holds `key` of `kind` now, if anyone.
pub async fn owner_of(
    store: &dyn EventStore,
    kind: &str,
    key: &str,
) -> Result<Option<Uuid>, StoreError> {
    Ok(holder(store, &stream_of(kind, key)).await?.0)
}

/// Claims `key` for `owner`. Claiming a key one already holds succeeds and appends nothing.
pub async fn claim(
    store: &dyn EventStore,
    kind: &str,
    key: &str,
    owner: Uuid,
    meta: &CommandMeta,
) -> Result<(), UniqueError> {
    let stream = stream_of(kind, key);
    for _ in 0..ATTEMPTS {
        let (held, revision) = holder(store, &stream).await?;
        match held {
            Some(h) if h == owner => return Ok(()),
            Some(h) => {
                return Err(UniqueError::Taken {
                    kind: kind.into(),
                    key: key.into(),
                    owner: h,
                })
            }
            None => {}
        }
        let expected = revision.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact);
        let event = NewEvent {
            id: Uuid::new_v5(&meta.event_id(0), stream.as_bytes()),
            event_type: CLAIMED.into(),
            schema_version: 1,
            data: json!({ "kind": kind, "key": key, "owner": owner }),
            metadata: meta.metadata(1),
        };
        match store.append(&stream, expected, vec![event]).await {
            Ok(_) => return Ok(()),
            // Someone else claimed or released meanwhile: look again.
            Err(StoreError::WrongExpectedVersion { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let (held, _) = holder(store, &stream).await?;
    Err(UniqueError::Taken {
        kind: kind.into(),
        key: key.into(),
        owner: held.unwrap_or_default(),
    })
}

/// Gives `key` back so another owner may claim it (an e-mail changed, a product deleted).
pub async fn release(
    store: &dyn EventStore,
    kind: &str,
    key: &str,
    owner: Uuid,
    meta: &CommandMeta,
) -> Result<(), UniqueError> {
    let stream = stream_of(kind, key);
    let (held, revision) = holder(store, &stream).await?;
    if held != Some(owner) {
        return Err(UniqueError::NotHeld {
            kind: kind.into(),
            key: key.into(),
            owner,
        });
    }
    let event = NewEvent {
        id: Uuid::new_v5(&meta.event_id(0), format!("release:{stream}").as_bytes()),
        event_type: RELEASED.into(),
        schema_version: 1,
        data: json!({ "kind": kind, "key": key, "owner": owner }),
        metadata: meta.metadata(1),
    };
    let expected = revision.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact);
    store.append(&stream, expected, vec![event]).await?;
    Ok(())
}
