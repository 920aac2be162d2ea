//! How a personal field is declared, and how a declaration is read from a schema.

use serde_json::Value;

/// The schema keyword of a declaration.
pub const KEYWORD: &str = "x-personal";

/// The declaration of a personal field of `subject` that reads as `erased` once erased.
pub fn declaration(subject: &str, erased: Value) -> Value {
    serde_json::json!({ "subject": subject, "erased": erased })
}

/// An optional personal field: absent once erased.
pub fn optional(subject: &str) -> Value {
    declaration(subject, Value::Null)
}

/// An e-mail address: a reserved, undeliverable one once erased (RFC 2606's `.invalid`).
pub fn email(subject: &str) -> Value {
    declaration(subject, Value::String("erased@erased.invalid".into()))
}

/// A postal address: one whose every line says `erased` (country `ZZ`, the code ISO 3166
/// leaves unassigned).
pub fn address(subject: &str) -> Value {
    declaration(subject, erased_address_value())
}

fn erased_address_value() -> Value {
    serde_json::json!({
        "name": null, "line1": "erased", "line2": null, "city": "erased",
        "region": null, "postal_code": "erased", "country": "ZZ",
    })
}

/// The address an erased person's addresses read as.
pub fn erased_address() -> crate::value::Address {
    serde_json::from_value(erased_address_value()).expect("a valid address")
}

/// The personal fields of every event's metadata: the client's address and user agent,
/// which the gateway records for the audit trail. They belong to the actor (or, for a
/// request nobody signed in to, to the person whose own stream it writes: a registration).
/// Once erased they read as absent.
pub const METADATA_FIELDS: [&str; 2] = ["client_ip", "user_agent"];

/// The categories of streams whose id is a person's (their account, their sessions): what
/// is recorded there about a request nobody signed in to is theirs.
pub const PERSONS_STREAMS: [&str; 2] = ["user", "session"];

/// Whose key seals a personal field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The id of the event's own stream.
    Stream,
    /// The id in this field of the event (a JSON pointer, e.g. `/user_id`).
    Field(String),
}

/// One declared personal field of an event type.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonalField {
    /// The field's name in the event's data.
    pub name: String,
    pub subject: Subject,
    /// What the field reads as once its subject is erased.
    pub erased: Value,
}

/// Why a declaration cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event_type}.{field}: {reason}")]
pub struct BadDeclaration {
    pub event_type: String,
    pub field: String,
    pub reason: String,
}

/// The personal fields one event type's schema declares (the schema of its data object, as
/// committed under `schemas/events`).
pub fn personal_fields(
    event_type: &str,
    schema: &Value,
) -> Result<Vec<PersonalField>, BadDeclaration> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Ok(Vec::new());
    };
    let mut fields = Vec::new();
    for (name, property) in properties {
        let Some(declaration) = property.get(KEYWORD) else {
            continue;
        };
        let bad = |reason: &str| BadDeclaration {
            event_type: event_type.to_owned(),
            field: name.clone(),
            reason: reason.to_owned(),
        };
        let subject = match declaration.get("subject").and_then(Value::as_str) {
            Some("$stream") => Subject::Stream,
            Some(pointer) if pointer.starts_with('/') => Subject::Field(pointer.to_owned()),
            _ => return Err(bad("`subject` must be \"$stream\" or a JSON pointer")),
        };
        let Some(erased) = declaration.get("erased") else {
            return Err(bad("`erased` is missing"));
        };
        fields.push(PersonalField {
            name: name.clone(),
            subject,
            erased: erased.clone(),
        });
    }
    Ok(fields)
}
