//! Sealing and opening the personal fields of one event's data, as `domain::privacy`
//! declares them (ADR 0005).
//!
//! Sealing happens once, before an event is appended; opening wherever an event is
//! applied. A field whose subject is erased is recorded, or read, as the declaration's
//! `erased` value, so every reader decodes the event and shows the person as erased.

use domain::privacy::{declared, PersonalField, Subject, METADATA_FIELDS, PERSONS_STREAMS};
use serde_json::Value;
use uuid::Uuid;

use super::cipher::{associated_data, open, seal, subject_of, CipherError};
use super::keys::DataKeys;
use crate::store::{category_of, NewEvent, RecordedEvent, StoreError};

/// Why an event's personal fields could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// The event does not hold the id its declaration names as the subject.
    #[error("{event_type}.{field}: no subject id at {subject}")]
    NoSubject {
        event_type: String,
        field: String,
        subject: String,
    },
    /// An envelope that does not open with its subject's key in its place: the log was
    /// altered, or the key is not the one it was sealed with.
    #[error("{event_type}.{field} of event {event_id}: {cause}")]
    Unreadable {
        event_type: String,
        field: String,
        event_id: Uuid,
        cause: CipherError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PrivacyError> for StoreError {
    fn from(e: PrivacyError) -> Self {
        match e {
            PrivacyError::NoSubject { .. } => StoreError::InvalidInput {
                field: "data",
                reason: e.to_string(),
            },
            PrivacyError::Unreadable { .. } => StoreError::Corrupt(e.to_string()),
            PrivacyError::Store(e) => e,
        }
    }
}

/// Where a field sits in its event, bound into its ciphertext.
fn place(event_id: Uuid, field: &PersonalField) -> Vec<u8> {
    associated_data(event_id, &format!("/{}", field.name))
}

fn subject(
    field: &PersonalField,
    event_type: &str,
    stream: Option<Uuid>,
    data: &Value,
) -> Result<Uuid, PrivacyError> {
    let found = match &field.subject {
        Subject::Stream => stream,
        Subject::Field(pointer) => data
            .pointer(pointer)
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok()),
    };
    found.ok_or_else(|| PrivacyError::NoSubject {
        event_type: event_type.to_owned(),
        field: field.name.clone(),
        subject: match &field.subject {
            Subject::Stream => "the stream's id".into(),
            Subject::Field(pointer) => pointer.clone(),
        },
    })
}

/// Seals, in place, the personal fields of `data`, an event of `event_type` in a stream of
/// `category` whose id is `stream` (when it is a UUID), to be appended as `event_id`.
/// Absent and `null` fields stay as they are; so does a field already sealed (a retried
/// command). Answers how many fields were sealed.
pub async fn seal_data(
    keys: &DataKeys,
    category: &str,
    event_type: &str,
    stream: Option<Uuid>,
    event_id: Uuid,
    data: &mut Value,
) -> Result<usize, PrivacyError> {
    let mut sealed = 0;
    for field in declared(category, event_type) {
        let Some(value) = data.get(&field.name) else {
            continue;
        };
        if value.is_null() || subject_of(value).is_some() {
            continue;
        }
        let subject = subject(field, event_type, stream, data)?;
        let replacement = match keys.for_sealing(subject).await? {
            Some(key) => Value::String(seal(&key, subject, &place(event_id, field), value)),
            // The person is erased: what would be recorded about them is recorded erased.
            None => field.erased.clone(),
        };
        data[&field.name] = replacement;
        sealed += 1;
    }
    Ok(sealed)
}

/// Opens, in place, the sealed personal fields of `data` (an event of `event_type` in a
/// stream of `category`, appended as `event_id`): each reads as it was sealed, or as its
/// declaration's `erased` value once its subject's key is destroyed. Fields written before
/// sealing existed (plain values) stay as they are.
pub async fn open_data(
    keys: &DataKeys,
    category: &str,
    event_type: &str,
    event_id: Uuid,
    data: &mut Value,
) -> Result<(), PrivacyError> {
    for field in declared(category, event_type) {
        let Some(envelope) = data.get(&field.name) else {
            continue;
        };
        let Some(subject) = subject_of(envelope) else {
            continue;
        };
        let plain = match keys.for_opening(subject).await? {
            Some(key) => {
                let text = envelope.as_str().unwrap_or_default();
                open(&key, text, &place(event_id, field)).map_err(|cause| {
                    PrivacyError::Unreadable {
                        event_type: event_type.to_owned(),
                        field: field.name.clone(),
                        event_id,
                        cause,
                    }
                })?
            }
            None => field.erased.clone(),
        };
        data[&field.name] = plain;
    }
    Ok(())
}

/// Whose key seals an event's metadata fields: the actor's, or, for a request nobody signed
/// in to, the person whose own stream it writes (a registration, a password reset, a
/// failed sign-in).
fn metadata_subject(category: &str, stream: Option<Uuid>, metadata: &Value) -> Option<Uuid> {
    metadata
        .get("actor_id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .or(if PERSONS_STREAMS.contains(&category) {
            stream
        } else {
            None
        })
}

fn metadata_place(event_id: Uuid, field: &str) -> Vec<u8> {
    associated_data(event_id, &format!("/metadata/{field}"))
}

/// Seals, in place, the personal fields of an event's metadata ([`METADATA_FIELDS`]). When
/// no person can be named, or the person is erased, they are not recorded at all: an
/// address nobody's key protects could never be forgotten.
pub async fn seal_metadata(
    keys: &DataKeys,
    category: &str,
    stream: Option<Uuid>,
    event_id: Uuid,
    metadata: &mut Value,
) -> Result<usize, PrivacyError> {
    let plain = |m: &Value, f: &str| {
        m.get(f)
            .is_some_and(|v| !v.is_null() && subject_of(v).is_none())
    };
    if !METADATA_FIELDS.iter().any(|f| plain(metadata, f)) {
        return Ok(0);
    }
    let subject = metadata_subject(category, stream, metadata);
    let key = match subject {
        Some(subject) => keys.for_sealing(subject).await?,
        None => None,
    };
    let Some(object) = metadata.as_object_mut() else {
        return Ok(0);
    };
    let mut sealed = 0;
    for field in METADATA_FIELDS {
        let Some(value) = object
            .get(field)
            .filter(|v| !v.is_null() && subject_of(v).is_none())
        else {
            continue;
        };
        match (&key, subject) {
            (Some(key), Some(subject)) => {
                let envelope = seal(key, subject, &metadata_place(event_id, field), value);
                object.insert(field.to_owned(), Value::String(envelope));
                sealed += 1;
            }
            _ => {
                object.remove(field);
            }
        }
    }
    Ok(sealed)
}

/// Opens, in place, the sealed fields of an event's metadata; an erased one is removed.
pub async fn open_metadata(
    keys: &DataKeys,
    event_id: Uuid,
    metadata: &mut Value,
) -> Result<(), PrivacyError> {
    for field in METADATA_FIELDS {
        let Some(subject) = metadata.get(field).and_then(subject_of) else {
            continue;
        };
        let opened = match keys.for_opening(subject).await? {
            Some(key) => {
                let text = metadata[field].as_str().unwrap_or_default();
                Some(
                    open(&key, text, &metadata_place(event_id, field)).map_err(|cause| {
                        PrivacyError::Unreadable {
                            event_type: "metadata".into(),
                            field: field.to_owned(),
                            event_id,
                            cause,
                        }
                    })?,
                )
            }
            None => None,
        };
        if let Some(object) = metadata.as_object_mut() {
            match opened {
                Some(value) => object.insert(field.to_owned(), value),
                None => object.remove(field),
            };
        }
    }
    Ok(())
}

/// Seals an event about to be appended to `stream_id`: its declared personal fields and
/// its metadata's.
pub async fn seal_event(
    keys: &DataKeys,
    stream_id: &str,
    event: &mut NewEvent,
) -> Result<(), PrivacyError> {
    let category = category_of(stream_id);
    let stream = stream_id
        .split_once('-')
        .and_then(|(_, key)| key.parse().ok());
    seal_data(
        keys,
        category,
        &event.event_type,
        stream,
        event.id,
        &mut event.data,
    )
    .await?;
    seal_metadata(keys, category, stream, event.id, &mut event.metadata).await?;
    Ok(())
}

/// Every subject whose key `event`'s envelopes need, in data and metadata.
fn sealed_subjects(event: &RecordedEvent) -> impl Iterator<Item = Uuid> + '_ {
    let data = declared(event.category(), &event.event_type)
        .iter()
        .filter_map(|f| event.data.get(&f.name).and_then(subject_of));
    let metadata = METADATA_FIELDS
        .iter()
        .filter_map(|f| event.metadata.get(*f).and_then(subject_of));
    data.chain(metadata)
}

/// Reads each sealed field of `event` as an erased person's would (what folds or checks the shape of
/// events without opening them: umctl's `state`, the console's state and stepper): a declared field of its
/// data as the declaration's `erased` value, a metadata field as absent. Answers how many
/// fields of its data (what a schema checks and an aggregate folds) were sealed.
pub fn as_erased(event: &mut RecordedEvent) -> usize {
    let mut replaced = 0;
    for field in declared(event.category(), &event.event_type) {
        if let Some(value) = event.data.get_mut(&field.name) {
            if subject_of(value).is_some() {
                *value = field.erased.clone();
                replaced += 1;
            }
        }
    }
    if let Some(metadata) = event.metadata.as_object_mut() {
        for field in METADATA_FIELDS {
            if metadata.get(field).and_then(subject_of).is_some() {
                metadata.remove(field);
            }
        }
    }
    replaced
}

/// Whether `event` holds anything sealed.
pub fn is_sealed(event: &RecordedEvent) -> bool {
    sealed_subjects(event).next().is_some()
}

/// Opens a recorded event in place: it reads as it was before sealing, or as erased.
pub async fn open_event(keys: &DataKeys, event: &mut RecordedEvent) -> Result<(), PrivacyError> {
    let category = category_of(&event.stream_id).to_owned();
    open_data(
        keys,
        &category,
        &event.event_type,
        event.id,
        &mut event.data,
    )
    .await?;
    open_metadata(keys, event.id, &mut event.metadata).await
}

/// The person `event` erases, when it is a `UserErased`: what every reader of the log
/// that keeps personal data acts on.
pub fn erased_subject(event: &RecordedEvent) -> Option<Uuid> {
    (event.category() == "user" && event.event_type == "UserErased")
        .then(|| event.stream_uuid())
        .flatten()
}

/// A reader that sees `UserErased` forgets the person's cached key at once, rather than
/// when the cache's time is up: what it opens of them after reads as erased.
pub fn notice_erasure(keys: &DataKeys, event: &RecordedEvent) {
    if let Some(subject) = erased_subject(event) {
        keys.forget(subject);
    }
}

/// Opens every event of a batch, fetching the keys it needs that are not cached in one
/// query: a rebuild costs a query per page of events, not one per person.
pub async fn open_events(
    keys: &DataKeys,
    events: &mut [RecordedEvent],
) -> Result<(), PrivacyError> {
    events.iter().for_each(|e| notice_erasure(keys, e));
    let subjects: Vec<Uuid> = events.iter().flat_map(sealed_subjects).collect();
    if subjects.is_empty() {
        return Ok(());
    }
    keys.preload(&subjects).await?;
    for event in events.iter_mut() {
        if is_sealed(event) {
            open_event(keys, event).await?;
        }
    }
    Ok(())
}
