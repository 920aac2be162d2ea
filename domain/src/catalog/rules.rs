//! The limits and field rules both catalog aggregates apply, and their error.

use serde_json::{Map, Value};

use crate::id::{CategoryId, ImageId, VariantId};
use crate::money::{Money, MoneyError};
use crate::value::{line, optional_line, paragraphs, InvalidValue};

pub const MAX_NAME: usize = 200;
pub const MAX_DESCRIPTION: usize = 20_000;
pub const MAX_ATTRIBUTES: usize = 100;
pub const MAX_VARIANTS: usize = 100;
pub const MAX_IMAGES: usize = 50;
/// Longest attribute name, and longest attribute value as JSON text.
pub const MAX_ATTRIBUTE_NAME: usize = 100;
pub const MAX_ATTRIBUTE_VALUE: usize = 1_000;
/// Longest alternative text of an image.
pub const MAX_ALT: usize = 500;
/// Highest position of an image among a product's images.
pub const MAX_IMAGE_POSITION: u32 = 10_000;
/// Longest image URL: until a file service exists, an image is a link.
pub const MAX_URL: usize = 2048;
/// Longest SEO title and description: search engines show less, shops write more.
pub const MAX_META_TITLE: usize = 200;
pub const MAX_META_DESCRIPTION: usize = 1_000;
/// Deepest category tree a move may make: the write side walks a new parent's ancestors
/// one stream at a time, so the walk, and the tree, is bounded.
pub const MAX_CATEGORY_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("it already exists")]
    AlreadyCreated,
    #[error("no such item")]
    NotCreated,
    #[error("the product is archived")]
    Archived,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("a category cannot be its own parent")]
    OwnParent,
    #[error("variant {0} exists already")]
    DuplicateVariant(String),
    #[error("no image {0}")]
    UnknownImage(ImageId),
    #[error("the price must use the product's currency {0}")]
    CurrencyChange(String),
    #[error("no variant {0}")]
    UnknownVariant(VariantId),
    /// A move under the category itself or one of its descendants would detach a loop
    /// from the tree.
    #[error("category {0} is the category itself or one of its descendants")]
    Cycle(CategoryId),
    #[error("the tree would be deeper than {MAX_CATEGORY_DEPTH} levels")]
    TooDeep,
    /// Only a submission waiting for review can be sent back.
    #[error("the product is not waiting for review")]
    NotPendingReview,
}

impl From<InvalidValue> for CatalogError {
    fn from(e: InvalidValue) -> Self {
        CatalogError::Invalid {
            field: e.field,
            reason: e.message,
        }
    }
}

/// A category, product or variant name: one line (`crate::value::line`), 1 to
/// [`MAX_NAME`] characters.
pub(super) fn name_ok(field: &'static str, name: &str) -> Result<String, CatalogError> {
    let name = line(field, name, MAX_NAME)?;
    if name.is_empty() {
        return Err(CatalogError::Invalid {
            field,
            reason: format!("must be 1 to {MAX_NAME} characters"),
        });
    }
    Ok(name)
}

/// A description may span lines; it is kept as sent once the rule accepts it.
pub(super) fn description_ok(description: Option<&String>) -> Result<(), CatalogError> {
    if let Some(d) = description {
        paragraphs("description", d, MAX_DESCRIPTION)?;
    }
    Ok(())
}

/// A price is 0 to [`MAX_PRICE`](crate::money::MAX_PRICE) minor units: with the cart's
/// and the order's limits on lines and quantities, no total built from prices can
/// overflow.
pub(super) fn price_ok(price: &Money) -> Result<(), CatalogError> {
    Money::price(price.amount, price.currency)
        .map(|_| ())
        .map_err(|e| CatalogError::Invalid {
            field: "price.amount",
            reason: match e {
                MoneyError::Negative => "must not be negative".into(),
                other => other.to_string(),
            },
        })
}

/// At most [`MAX_ATTRIBUTES`]; each name one line of at most [`MAX_ATTRIBUTE_NAME`], each
/// value at most [`MAX_ATTRIBUTE_VALUE`] characters of JSON, its texts without control
/// characters but line breaks and tabs.
pub(super) fn attributes_ok(a: &Map<String, Value>) -> Result<(), CatalogError> {
    fn texts_ok(v: &Value) -> Result<(), InvalidValue> {
        match v {
            Value::String(s) => paragraphs("attributes", s, MAX_ATTRIBUTE_VALUE).map(drop),
            Value::Array(items) => items.iter().try_for_each(texts_ok),
            Value::Object(o) => o.iter().try_for_each(|(k, v)| {
                line("attributes", k, MAX_ATTRIBUTE_NAME)?;
                texts_ok(v)
            }),
            _ => Ok(()),
        }
    }
    let invalid = |reason: String| CatalogError::Invalid {
        field: "attributes",
        reason,
    };
    if a.len() > MAX_ATTRIBUTES {
        return Err(invalid(format!("at most {MAX_ATTRIBUTES} attributes")));
    }
    for (name, value) in a {
        if line("attributes", name, MAX_ATTRIBUTE_NAME)?.is_empty() {
            return Err(invalid("an attribute needs a name".into()));
        }
        if value.to_string().chars().count() > MAX_ATTRIBUTE_VALUE {
            return Err(invalid(format!(
                "{name}: a value is at most {MAX_ATTRIBUTE_VALUE} characters of JSON"
            )));
        }
        texts_ok(value)?;
    }
    Ok(())
}

/// An image's URL: http or https, at most [`MAX_URL`] characters, no spaces or controls.
pub(super) fn url_ok(url: &str) -> Result<(), CatalogError> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len()
        && url.len() <= MAX_URL
        && !url.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err(CatalogError::Invalid {
            field: "url",
            reason: format!("must be an http(s) URL of at most {MAX_URL} characters"),
        })
    }
}

/// An SEO title or description as sent: one line, bounded; blank clears it.
pub(super) fn meta_ok(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, CatalogError> {
    Ok(optional_line(field, raw, max)?)
}
