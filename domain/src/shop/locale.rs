//! A locale as storefronts name one: a BCP 47 language tag of the common shape
//! `language[-Script][-REGION]` (`en`, `en-US`, `zh-Hant-TW`, `es-419`), normalised to the
//! registry's case. Private-use, variant and extension subtags are refused: a storefront
//! picks translations by these three parts and nothing else.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A checked, normalised locale tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Locale(String);

/// Why a tag is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a language tag such as en, en-US, zh-Hant-TW or es-419 (BCP 47)")]
pub struct BadLocale;

impl Locale {
    /// `language` (2 or 3 letters), then an optional `Script` (4 letters), then an
    /// optional region (2 letters or 3 digits), joined by `-` (or `_`, taken as `-`).
    /// Case is normalised: `EN_us` is `en-US`.
    pub fn parse(raw: &str) -> Result<Self, BadLocale> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 16 {
            return Err(BadLocale);
        }
        let mut parts = raw.split(['-', '_']);
        let language = parts.next().ok_or(BadLocale)?;
        if !(2..=3).contains(&language.len()) || !language.chars().all(|c| c.is_ascii_alphabetic())
        {
            return Err(BadLocale);
        }
        let mut tag = language.to_ascii_lowercase();
        let mut next = parts.next();
        if let Some(script) = next.filter(|s| s.len() == 4) {
            if !script.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(BadLocale);
            }
            tag.push('-');
            tag.push_str(&script[..1].to_ascii_uppercase());
            tag.push_str(&script[1..].to_ascii_lowercase());
            next = parts.next();
        }
        if let Some(region) = next {
            let letters = region.len() == 2 && region.chars().all(|c| c.is_ascii_alphabetic());
            let digits = region.len() == 3 && region.chars().all(|c| c.is_ascii_digit());
            if !letters && !digits {
                return Err(BadLocale);
            }
            tag.push('-');
            tag.push_str(&region.to_ascii_uppercase());
        }
        if parts.next().is_some() {
            return Err(BadLocale);
        }
        Ok(Locale(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Locale {
    type Error = BadLocale;
    fn try_from(s: String) -> Result<Self, BadLocale> {
        Locale::parse(&s)
    }
}

impl From<Locale> for String {
    fn from(l: Locale) -> String {
        l.0
    }
}

impl schemars::JsonSchema for Locale {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Locale".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised() {
        for (raw, tag) in [
            ("en", "en"),
            ("EN_us", "en-US"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("es-419", "es-419"),
            ("sr-Latn", "sr-Latn"),
            (" fil-PH ", "fil-PH"),
        ] {
            assert_eq!(Locale::parse(raw).unwrap().as_str(), tag, "{raw}");
        }
    }

    #[test]
    fn other_shapes_are_refused() {
        for raw in [
            "",
            "e",
            "engl",
            "en-",
            "en-USA",
            "en-1",
            "en-US-x-private",
            "de-DE-1996",
            "e1",
            "en US",
            "en-Latn-US-US",
        ] {
            assert_eq!(Locale::parse(raw), Err(BadLocale), "{raw:?}");
        }
    }
}
