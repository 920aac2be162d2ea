//! What every aggregate is: a state, the commands it decides and the events it records.

use serde_json::Value;

/// An aggregate: a consistency boundary with one event stream per instance.
///
/// `decide` holds every rule and never does IO: facts from outside (the clock, a price, a
/// password hash) arrive inside the command. `evolve` holds no rules and never fails: it
/// records what happened, so replaying a stream always rebuilds the same state.
pub trait Aggregate: 'static {
    /// Stream category; an instance's stream is `<category>-<id>`. Never contains `-`.
    const CATEGORY: &'static str;
    type State: Default + Clone + Send + Sync + 'static;
    type Command: Send + 'static;
    type Event: DomainEvent;
    type Error: std::error::Error + Send + Sync + 'static;

    fn decide(
        state: &Self::State,
        command: &Self::Command,
    ) -> Result<Vec<Self::Event>, Self::Error>;
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;
}

/// An event as stored: a stable type name, a schema version and a JSON object.
pub trait DomainEvent: Clone + Send + Sync + 'static {
    /// The stable name, e.g. `OrderPlaced`.
    fn event_type(&self) -> &'static str;
    /// The version of the shape `to_data` writes.
    fn schema_version(&self) -> u32;
    /// The payload without the type tag.
    fn to_data(&self) -> Value;
    /// Reads a stored event, upcasting older versions of its shape to the current one.
    fn from_data(
        event_type: &str,
        schema_version: u32,
        data: Value,
    ) -> Result<Self, EventDecodeError>
    where
        Self: Sized;
    /// Every event type of this aggregate.
    fn all_event_types() -> &'static [&'static str]
    where
        Self: Sized;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDecodeError {
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    #[error("{event_type} has no schema version {version} (known: 1..={current})")]
    UnknownVersion {
        event_type: String,
        version: u32,
        current: u32,
    },
    #[error("{event_type} v{version} does not fit its schema: {reason}")]
    BadShape {
        event_type: String,
        version: u32,
        reason: String,
    },
}

/// Turns older stored shapes of an aggregate's events into the current one.
pub trait Upcast {
    /// The current schema version of `event_type`.
    fn current_version(_event_type: &str) -> u32 {
        1
    }

    /// `data` of `event_type` at `version` (older than current) in the current shape.
    /// Aggregates with no older versions keep this default, which knows none.
    fn upcast(event_type: &str, version: u32, _data: Value) -> Result<Value, EventDecodeError> {
        Err(EventDecodeError::UnknownVersion {
            event_type: event_type.to_owned(),
            version,
            current: Self::current_version(event_type),
        })
    }
}

/// Implements [`DomainEvent`] for an externally tagged serde enum whose variants are its
/// event types: the stored `data` is the variant's body.
#[macro_export]
macro_rules! domain_event {
    ($enum:ident { $($variant:ident),* $(,)? }) => {
        impl $crate::aggregate::DomainEvent for $enum {
            fn event_type(&self) -> &'static str {
                match self {
                    $( $enum::$variant { .. } => stringify!($variant), )*
                }
            }

            fn schema_version(&self) -> u32 {
                <$enum as $crate::aggregate::Upcast>::current_version(self.event_type())
            }

            fn to_data(&self) -> serde_json::Value {
                match serde_json::to_value(self) {
                    Ok(serde_json::Value::Object(mut tagged)) => tagged
                        .remove(self.event_type())
                        .unwrap_or(serde_json::Value::Object(Default::default())),
                    // Unit variants serialize as a bare string: their body is empty.
                    _ => serde_json::Value::Object(Default::default()),
                }
            }

            fn from_data(
                event_type: &str,
                schema_version: u32,
                data: serde_json::Value,
            ) -> Result<Self, $crate::aggregate::EventDecodeError> {
                const TYPES: &[&str] = &[$(stringify!($variant)),*];
                if !TYPES.contains(&event_type) {
                    return Err($crate::aggregate::EventDecodeError::UnknownType(event_type.to_owned()));
                }
                let current = <$enum as $crate::aggregate::Upcast>::current_version(event_type);
                let data = if schema_version == current {
                    data
                } else if schema_version < current && schema_version > 0 {
                    <$enum as $crate::aggregate::Upcast>::upcast(event_type, schema_version, data)?
                } else {
                    return Err($crate::aggregate::EventDecodeError::UnknownVersion {
                        event_type: event_type.to_owned(),
                        version: schema_version,
                        current,
                    });
                };
                let mut tagged = serde_json::Map::new();
                tagged.insert(event_type.to_owned(), data);
                serde_json::from_value(serde_json::Value::Object(tagged)).map_err(|e| {
                    $crate::aggregate::EventDecodeError::BadShape {
                        event_type: event_type.to_owned(),
                        version: schema_version,
                        reason: e.to_string(),
                    }
                })
            }

            fn all_event_types() -> &'static [&'static str] {
                &[$(stringify!($variant)),*]
            }
        }
    };
}
