//! Sealing and opening the personal fields of one event's data, as `domain::privacy`
//! declares them (ADR 0005).
//!
//! Sealing happens once, before an event is appended; opening wherever an event is
//! applied. A field whose subject is erased is recorded, or read, as the declaration's
//! `erased` value, so every reader decodes the event and shows the person as erased.

use domain::privacy::{declared, PersonalField, Subject};
use serde_json::Value;
use uuid::Uuid;

use super::cipher::{associated_data, open, seal, subject_of, CipherError};
use super::keys::DataKeys;
use crate::store::StoreError;

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
