//! Configuration: the store's feature flags and settings, typed and validated.
//!
//! [`REGISTRY`] lists every key the engine knows: its type (a boolean, an integer within a
//! range, a bounded text, or one of a set of words), its default, what it is for, and
//! whether storefronts may read it. A key not listed does not exist. The values staff set
//! are one aggregate in one stream ([`CONFIGURATION_ID`]): few keys, changed rarely, and
//! read together by the list.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::aggregate::{Aggregate, Upcast};
use crate::value::line;

/// The id of the one configuration stream (`configuration-<id>`).
pub const CONFIGURATION_ID: Uuid = Uuid::from_u128(0xc0f_0000_0000_0000_0000_0000_0000_0001);

/// What a key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    Bool,
    /// An integer from `min` to `max`, both included.
    Int {
        min: i64,
        max: i64,
    },
    /// One line of at most `max_len` characters (empty allowed).
    Text {
        max_len: usize,
    },
    /// One of these words.
    Enum(&'static [&'static str]),
}

impl ConfigType {
    /// The type's name as the API shows it.
    pub fn name(&self) -> &'static str {
        match self {
            ConfigType::Bool => "bool",
            ConfigType::Int { .. } => "int",
            ConfigType::Text { .. } => "string",
            ConfigType::Enum(_) => "enum",
        }
    }
}

/// A value of a key, as the log records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ConfigValue {
    Bool(bool),
    Int(i64),
    Text(String),
}

impl ConfigValue {
    pub fn to_json(&self) -> Value {
        match self {
            ConfigValue::Bool(b) => Value::Bool(*b),
            ConfigValue::Int(i) => Value::from(*i),
            ConfigValue::Text(s) => Value::String(s.clone()),
        }
    }
}

/// A default, written as a constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    Bool(bool),
    Int(i64),
    Text(&'static str),
}

impl DefaultValue {
    pub fn value(&self) -> ConfigValue {
        match *self {
            DefaultValue::Bool(b) => ConfigValue::Bool(b),
            DefaultValue::Int(i) => ConfigValue::Int(i),
            DefaultValue::Text(s) => ConfigValue::Text(s.to_owned()),
        }
    }
}

/// One known key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigKey {
    pub key: &'static str,
    pub kind: ConfigType,
    pub default: DefaultValue,
    pub description: &'static str,
    /// Whether anyone may read it (a storefront's flags); otherwise staff only.
    pub public: bool,
}

/// Every key the engine knows, by name.
pub const REGISTRY: &[ConfigKey] = &[
    ConfigKey {
        key: "catalog.default_page_size",
        kind: ConfigType::Int { min: 1, max: 100 },
        default: DefaultValue::Int(20),
        description:
            "How many products a storefront asks for per page when the shopper has not chosen.",
        public: true,
    },
    ConfigKey {
        key: "checkout.guest_checkout",
        kind: ConfigType::Bool,
        default: DefaultValue::Bool(false),
        description: "Whether storefronts offer checkout without an account.",
        public: true,
    },
    ConfigKey {
        key: "notifications.staff_digest_hours",
        kind: ConfigType::Int { min: 1, max: 168 },
        default: DefaultValue::Int(24),
        description: "Hours between the back-office digests sent to staff.",
        public: false,
    },
    ConfigKey {
        key: "returns.window_days",
        kind: ConfigType::Int { min: 0, max: 365 },
        default: DefaultValue::Int(30),
        description: "Days after its delivery (the carrier's delivery event) a customer may ask to return a line.",
        public: true,
    },
    ConfigKey {
        key: "reviews.enabled",
        kind: ConfigType::Bool,
        default: DefaultValue::Bool(false),
        description: "Whether storefronts show and take product reviews.",
        public: true,
    },
    ConfigKey {
        key: "storefront.announcement",
        kind: ConfigType::Text { max_len: 500 },
        default: DefaultValue::Text(""),
        description: "A one-line banner storefronts show above every page; empty shows none.",
        public: true,
    },
    ConfigKey {
        key: "storefront.maintenance_mode",
        kind: ConfigType::Bool,
        default: DefaultValue::Bool(false),
        description: "Whether storefronts show a maintenance page instead of the shop.",
        public: true,
    },
    ConfigKey {
        key: "storefront.theme",
        kind: ConfigType::Enum(&["auto", "dark", "light"]),
        default: DefaultValue::Text("auto"),
        description: "The colour scheme storefronts use: auto follows the shopper's device.",
        public: true,
    },
    ConfigKey {
        key: "vendors.default_commission_bp",
        kind: ConfigType::Int {
            min: 0,
            max: 10_000,
        },
        default: DefaultValue::Int(1_000),
        description: "The commission the marketplace takes of a vendor's sales, in basis points \
            (1000 = 10%), unless the vendor's own terms set another.",
        public: false,
    },
];

/// The registry's entry for `key`.
pub fn known(key: &str) -> Option<&'static ConfigKey> {
    REGISTRY.iter().find(|k| k.key == key)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("no configuration key is named {0:?}")]
    UnknownKey(String),
    /// The value is not of the key's type, or outside its range; the message says which.
    #[error("value: {0}")]
    InvalidValue(String),
}

impl ConfigKey {
    /// `raw` checked against the key's type.
    pub fn check(&self, raw: &Value) -> Result<ConfigValue, ConfigError> {
        let bad = |m: String| Err(ConfigError::InvalidValue(m));
        match (self.kind, raw) {
            (ConfigType::Bool, Value::Bool(b)) => Ok(ConfigValue::Bool(*b)),
            (ConfigType::Bool, _) => bad("must be true or false".into()),
            (ConfigType::Int { min, max }, Value::Number(n)) => match n.as_i64() {
                Some(i) if (min..=max).contains(&i) => Ok(ConfigValue::Int(i)),
                _ => bad(format!("must be a whole number from {min} to {max}")),
            },
            (ConfigType::Int { min, max }, _) => {
                bad(format!("must be a whole number from {min} to {max}"))
            }
            (ConfigType::Text { max_len }, Value::String(s)) => line("value", s, max_len)
                .map(ConfigValue::Text)
                .or_else(|e| bad(e.message)),
            (ConfigType::Text { max_len }, _) => {
                bad(format!("must be a string of at most {max_len} characters"))
            }
            (ConfigType::Enum(words), Value::String(s)) if words.contains(&s.as_str()) => {
                Ok(ConfigValue::Text(s.clone()))
            }
            (ConfigType::Enum(words), _) => bad(format!("must be one of {}", words.join(", "))),
        }
    }
}

pub struct Configuration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigCommand {
    /// Sets `key` to `value` (JSON, checked against the key's type).
    SetValue { key: String, value: Value },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ConfigEvent {
    ConfigValueSet {
        key: String,
        value: ConfigValue,
        /// What the key held before: the value last set, else its default.
        previous: ConfigValue,
    },
}

crate::domain_event!(ConfigEvent { ConfigValueSet });
impl Upcast for ConfigEvent {}

/// The values staff set, by key. A key absent here holds its default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigState {
    pub values: BTreeMap<String, ConfigValue>,
}

impl ConfigState {
    /// What `key` holds now: the value set, else the default.
    pub fn value(&self, key: &ConfigKey) -> ConfigValue {
        self.values
            .get(key.key)
            .cloned()
            .unwrap_or_else(|| key.default.value())
    }
}

impl Aggregate for Configuration {
    const CATEGORY: &'static str = "configuration";
    type State = ConfigState;
    type Command = ConfigCommand;
    type Event = ConfigEvent;
    type Error = ConfigError;

    fn decide(s: &ConfigState, cmd: &ConfigCommand) -> Result<Vec<ConfigEvent>, ConfigError> {
        match cmd {
            ConfigCommand::SetValue { key, value } => {
                let entry = known(key).ok_or_else(|| ConfigError::UnknownKey(key.clone()))?;
                let value = entry.check(value)?;
                let previous = s.value(entry);
                // Setting what a key holds already appends nothing, even the default the
                // first time: nothing changed.
                if previous == value {
                    return Ok(vec![]);
                }
                Ok(vec![ConfigEvent::ConfigValueSet {
                    key: entry.key.to_owned(),
                    value,
                    previous,
                }])
            }
        }
    }

    fn evolve(mut s: ConfigState, event: &ConfigEvent) -> ConfigState {
        match event {
            ConfigEvent::ConfigValueSet { key, value, .. } => {
                s.values.insert(key.clone(), value.clone());
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_sorted_unique_and_its_defaults_fit_their_types() {
        for pair in REGISTRY.windows(2) {
            assert!(
                pair[0].key < pair[1].key,
                "{} before {}",
                pair[0].key,
                pair[1].key
            );
        }
        for k in REGISTRY {
            assert_eq!(
                k.check(&k.default.value().to_json()),
                Ok(k.default.value()),
                "{}",
                k.key
            );
        }
    }
}
