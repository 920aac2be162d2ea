//! Set uniqueness on the write side (invariant 7): an e-mail, a SKU, a slug or a coupon code
//! belongs to at most one owner, whatever the read models say.
//!
//! Each key has a stream of its own, `unique-<kind>-<id>`, holding `UniqueKeyClaimed` /
//! `UniqueKeyReleased` events. A first claim appends with "no stream" expected and a later
//! one with the exact revision of a release, so of two concurrent claims the store lets
//! exactly one through. Only `NoStream` and `Exact` are used, so this holds on both store
//! adapters.
//!
//! The id is a keyed HMAC of the kind and the key ([`LookupKey`], ADR 0005), so a list of
//! addresses does not tell whose streams these are. The events name the kind and the
//! owner; the key itself only for a [`Kind::public`] kind (a SKU, a slug, a coupon code),
//! which the audit trail shows. A [`Kind::personal`] kind (an e-mail) keeps its key out of
//! the log altogether: a claim is found again only by someone who knows the key.
//!
//! Logs written before named the streams `unique-<kind>-<uuidv5(kind:key)>`. While a key's
//! HMAC-named stream is empty, its old stream is read instead: a key held there is held,
//! and is released there. Nothing claims there any more, so once a key is free it moves.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::handler::CommandMeta;
use crate::handlers::Handlers;
use crate::privacy::LookupKey;
use crate::store::{Direction, EventStore, ExpectedVersion, NewEvent, ReadFrom, StoreError};

const CLAIMED: &str = "UniqueKeyClaimed";
const RELEASED: &str = "UniqueKeyReleased";
/// Attempts when claims race; each loss re-reads who won.
const ATTEMPTS: usize = 4;

/// What is kept unique (`email`, `sku`, `category_slug`, ...), and whether its keys may be
/// read in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    name: &'static str,
    public: bool,
}

impl Kind {
    /// A kind whose keys are personal data: its events never hold the key.
    pub const fn personal(name: &'static str) -> Self {
        Kind {
            name,
            public: false,
        }
    }

    /// A kind whose keys are public (a SKU, a slug, a coupon code): its events hold the
    /// key, so the audit trail can say which was claimed.
    pub const fn public(name: &'static str) -> Self {
        Kind { name, public: true }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn is_public(&self) -> bool {
        self.public
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

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

/// The stream that guards `key` of `kind`.
pub async fn stream_of(handlers: &Handlers, kind: Kind, key: &str) -> Result<String, StoreError> {
    let lookup = LookupKey::of(&handlers.keys).await?;
    Ok(format!(
        "unique-{}-{}",
        kind.name,
        lookup.id(kind.name, key)
    ))
}

/// The stream that guarded `key` of `kind` before streams were named by HMAC.
fn legacy_stream_of(kind: Kind, key: &str) -> String {
    let id = Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("{kind}:{key}").as_bytes());
    format!("unique-{kind}-{id}")
}

/// Where a key stands: the stream its next event goes to, who holds it there, and that
/// stream's revision.
struct Standing {
    stream: String,
    holder: Option<Uuid>,
    revision: Option<u64>,
}

/// The last event of `stream`: who it leaves holding the key, and its revision.
async fn last(
    store: &dyn EventStore,
    stream: &str,
) -> Result<Option<(Option<Uuid>, u64)>, StoreError> {
    let last = store
        .read_stream(stream, ReadFrom::End, Direction::Backwards, 1)
        .await?;
    Ok(last.first().map(|e| {
        let owner = e
            .data
            .get("owner")
            .and_then(|o| o.as_str())
            .and_then(|o| Uuid::parse_str(o).ok());
        (
            (e.event_type == CLAIMED).then_some(owner).flatten(),
            e.revision,
        )
    }))
}

/// Where `key` of `kind` stands: its HMAC-named stream, unless that is empty and the
/// key is still held in its old stream.
async fn standing(handlers: &Handlers, kind: Kind, key: &str) -> Result<Standing, StoreError> {
    let store = &*handlers.store;
    let stream = stream_of(handlers, kind, key).await?;
    if let Some((holder, revision)) = last(store, &stream).await? {
        return Ok(Standing {
            stream,
            holder,
            revision: Some(revision),
        });
    }
    let legacy = legacy_stream_of(kind, key);
    if let Some((Some(holder), revision)) = last(store, &legacy).await? {
        return Ok(Standing {
            stream: legacy,
            holder: Some(holder),
            revision: Some(revision),
        });
    }
    Ok(Standing {
        stream,
        holder: None,
        revision: None,
    })
}

/// A claim's or a release's data: the key only where the kind is public.
fn data(kind: Kind, key: &str, owner: Uuid) -> Value {
    let mut data = json!({ "kind": kind.name, "owner": owner });
    if kind.public {
        data["key"] = Value::from(key);
    }
    data
}

/// Who holds `key` of `kind` now, if anyone.
pub async fn owner_of(
    handlers: &Handlers,
    kind: Kind,
    key: &str,
) -> Result<Option<Uuid>, StoreError> {
    Ok(standing(handlers, kind, key).await?.holder)
}

/// Claims `key` for `owner`. Claiming a key one already holds succeeds and appends nothing.
pub async fn claim(
    handlers: &Handlers,
    kind: Kind,
    key: &str,
    owner: Uuid,
    meta: &CommandMeta,
) -> Result<(), UniqueError> {
    let taken = |owner| UniqueError::Taken {
        kind: kind.name.into(),
        key: key.into(),
        owner,
    };
    for _ in 0..ATTEMPTS {
        let at = standing(handlers, kind, key).await?;
        match at.holder {
            Some(h) if h == owner => return Ok(()),
            Some(h) => return Err(taken(h)),
            None => {}
        }
        let expected = at
            .revision
            .map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact);
        let event = NewEvent {
            id: Uuid::new_v5(&meta.event_id(0), at.stream.as_bytes()),
            event_type: CLAIMED.into(),
            schema_version: 1,
            data: data(kind, key, owner),
            metadata: meta.metadata(1),
        };
        match handlers
            .store
            .append(&at.stream, expected, vec![event])
            .await
        {
            Ok(_) => return Ok(()),
            // Someone else claimed or released meanwhile: look again.
            Err(StoreError::WrongExpectedVersion { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let at = standing(handlers, kind, key).await?;
    Err(taken(at.holder.unwrap_or_default()))
}

/// Gives `key` back so another owner may claim it (an e-mail changed, a product deleted,
/// a person erased).
pub async fn release(
    handlers: &Handlers,
    kind: Kind,
    key: &str,
    owner: Uuid,
    meta: &CommandMeta,
) -> Result<(), UniqueError> {
    let at = standing(handlers, kind, key).await?;
    if at.holder != Some(owner) {
        return Err(UniqueError::NotHeld {
            kind: kind.name.into(),
            key: key.into(),
            owner,
        });
    }
    let event = NewEvent {
        id: Uuid::new_v5(
            &meta.event_id(0),
            format!("release:{}", at.stream).as_bytes(),
        ),
        event_type: RELEASED.into(),
        schema_version: 1,
        data: data(kind, key, owner),
        metadata: meta.metadata(1),
    };
    let expected = at
        .revision
        .map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact);
    handlers
        .store
        .append(&at.stream, expected, vec![event])
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_public_kind_keeps_its_key_in_the_log() {
        let owner = Uuid::new_v4();
        let email = data(Kind::personal("email"), "ann@example.com", owner);
        assert_eq!(email, json!({"kind": "email", "owner": owner}));
        let sku = data(Kind::public("sku"), "TENT-1", owner);
        assert_eq!(sku, json!({"kind": "sku", "key": "TENT-1", "owner": owner}));
    }

    /// The old names, as logs written before hold them.
    #[test]
    fn the_legacy_stream_is_the_uuidv5_of_kind_and_key() {
        assert_eq!(
            legacy_stream_of(Kind::personal("email"), "ann@example.com"),
            format!(
                "unique-email-{}",
                Uuid::new_v5(&Uuid::NAMESPACE_OID, b"email:ann@example.com")
            )
        );
    }
}
