//! A configuration key as the API shows it, and the body that sets one.

use domain::configuration::{ConfigKey, ConfigState, ConfigType};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// One key of the registry and what it holds now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigEntryView {
    /// The key's default, of its type.
    pub default: Value,
    pub description: String,
    pub key: String,
    /// For `int`: the largest value taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// For `string`: the most characters taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// For `int`: the smallest value taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// For `enum`: the words taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    /// Whether anyone may read it (storefront flags); otherwise staff only.
    pub public: bool,
    /// `bool`, `int`, `string` or `enum`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether staff ever set it (false: it holds its default).
    pub set: bool,
    /// What the key holds now.
    pub value: Value,
}

impl ConfigEntryView {
    pub fn of(key: &ConfigKey, state: &ConfigState) -> Self {
        let (mut min, mut max, mut max_length, mut options) = (None, None, None, None);
        match key.kind {
            ConfigType::Bool => {}
            ConfigType::Int { min: lo, max: hi } => {
                min = Some(lo);
                max = Some(hi);
            }
            ConfigType::Text { max_len } => max_length = Some(max_len),
            ConfigType::Enum(words) => {
                options = Some(words.iter().map(|w| (*w).to_owned()).collect());
            }
        }
        ConfigEntryView {
            default: key.default.value().to_json(),
            description: key.description.to_owned(),
            key: key.key.to_owned(),
            max,
            max_length,
            min,
            options,
            public: key.public,
            kind: key.kind.name().to_owned(),
            set: state.values.contains_key(key.key),
            value: state.value(key).to_json(),
        }
    }
}

/// The new value of a key: JSON of the key's type (`true`, `48`, `"dark"`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigBody {
    pub value: Value,
}
