//! Values checked at the edge: once built, an `Email`, `Sku`, `Quantity`, `Slug` or
//! `Address` is valid, so the rules never re-check them.
//!
//! Free text (names, address lines, notes, reasons, descriptions) goes through one rule,
//! [`line`] or [`paragraphs`]: trimmed, bounded in characters, and without control
//! characters. A line break in a name would travel into an e-mail's headers (the greeting
//! and, later, a `To:` display name: SMTP header smuggling) and into CSV exports and logs;
//! NUL and the other controls have no business in anything a person typed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A value that failed its check, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidValue {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> InvalidValue {
    InvalidValue {
        field,
        message: message.into(),
    }
}

/// Longest person's name (first or last), address label or address name line.
pub const MAX_PERSON_NAME: usize = 100;
/// Longest reason given for a staff action (a suspension, a stock adjustment, a refund).
pub const MAX_REASON: usize = 500;
/// Longest note left with an order's status change.
pub const MAX_NOTE: usize = 2_000;
/// Longest short code or reference (a tracking number, a coupon code).
pub const MAX_CODE: usize = 100;

/// Characters that end or break a line: the ASCII controls, DEL, the C1 controls, and the
/// Unicode line and paragraph separators.
fn breaks_a_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

fn bounded(field: &'static str, s: &str, max: usize) -> Result<(), InvalidValue> {
    if s.chars().count() > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    Ok(())
}

/// One line of free text (a name, an address line, a code), trimmed: at most `max`
/// characters, no control characters, no line or paragraph separators. May be empty; the
/// caller says whether the field is required.
pub fn line(field: &'static str, raw: &str, max: usize) -> Result<String, InvalidValue> {
    let s = raw.trim();
    bounded(field, s, max)?;
    if s.chars().any(breaks_a_line) {
        return Err(invalid(
            field,
            "must be one line without control characters",
        ));
    }
    Ok(s.to_owned())
}

/// An optional [`line`]: blank counts as absent.
pub fn optional_line(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, InvalidValue> {
    match raw.map(|s| line(field, s, max)).transpose()? {
        Some(s) if s.is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// Free text that may span lines (a description, a note, a reason), trimmed: at most
/// `max` characters; line breaks and tabs are kept, every other control character
/// refused.
pub fn paragraphs(field: &'static str, raw: &str, max: usize) -> Result<String, InvalidValue> {
    let s = raw.trim();
    bounded(field, s, max)?;
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(invalid(
            field,
            "must not contain control characters other than line breaks and tabs",
        ));
    }
    Ok(s.to_owned())
}

/// An optional [`paragraphs`]: blank counts as absent.
pub fn optional_paragraphs(
    field: &'static str,
    raw: Option<&str>,
    max: usize,
) -> Result<Option<String>, InvalidValue> {
    match raw.map(|s| paragraphs(field, s, max)).transpose()? {
        Some(s) if s.is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// The longest URL a record keeps (a logo, a review's image).
pub const MAX_URL: usize = 2048;

/// A link to a page or an image: http or https, at most [`MAX_URL`] characters, no
/// spaces or control characters.
pub fn web_url(field: &'static str, raw: &str) -> Result<String, InvalidValue> {
    let s = raw.trim();
    let ok = (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > "https://".len()
        && s.len() <= MAX_URL
        && !s.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok {
        Ok(s.to_owned())
    } else {
        Err(invalid(
            field,
            format!("must be an http(s) URL of at most {MAX_URL} characters"),
        ))
    }
}

macro_rules! string_value {
    ($name:ident, $schema:tt) => {
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!($schema)
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(s: String) -> Result<Self, InvalidValue> {
                $name::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

/// An e-mail address, trimmed and lowercased so one mailbox has one spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let s = raw.trim().to_lowercase();
        if s.len() > 254 {
            return Err(invalid("email", "must be at most 254 characters"));
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(invalid("email", "must contain @"));
        };
        let ok_local = !local.is_empty()
            && local.len() <= 64
            && !local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '@');
        let ok_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if !ok_local || !ok_domain {
            return Err(invalid("email", "is not a valid e-mail address"));
        }
        Ok(Email(s))
    }
}
string_value!(Email, { "type": "string", "format": "email", "maxLength": 254 });

/// A stock keeping unit: 1 to 64 of `A-Z 0-9 - _ .`, uppercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let s = raw.trim().to_uppercase();
        if s.is_empty() || s.len() > 64 {
            return Err(invalid("sku", "must be 1 to 64 characters"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(invalid(
                "sku",
                "may hold only letters, digits, '-', '_' and '.'",
            ));
        }
        Ok(Sku(s))
    }
}
string_value!(Sku, { "type": "string", "pattern": "^[A-Z0-9._-]{1,64}$" });

/// A URL slug: lowercase letters, digits and single dashes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let ok = !raw.is_empty()
            && raw.len() <= 120
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && !raw.contains("--")
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(invalid(
                "slug",
                "must be 1 to 120 of a-z, 0-9 and single dashes inside",
            ));
        }
        Ok(Slug(raw.to_owned()))
    }

    /// The slug of a name: `"Red Shoes (2024)"` → `red-shoes-2024`.
    pub fn from_name(name: &str) -> Result<Self, InvalidValue> {
        let mut s = String::new();
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                s.push(c.to_ascii_lowercase());
            } else if !s.ends_with('-') && !s.is_empty() {
                s.push('-');
            }
        }
        while s.ends_with('-') {
            s.pop();
        }
        s.truncate(120);
        while s.ends_with('-') {
            s.pop();
        }
        Slug::parse(&s).map_err(|_| {
            invalid(
                "slug",
                "the name has no letters or digits to make a slug from",
            )
        })
    }
}
string_value!(Slug, { "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 120 });

/// How many of a thing: 1 to 10,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    pub const MAX: u32 = 10_000;

    pub fn new(n: u32) -> Result<Self, InvalidValue> {
        if n == 0 || n > Self::MAX {
            return Err(invalid("quantity", format!("must be 1 to {}", Self::MAX)));
        }
        Ok(Quantity(n))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl schemars::JsonSchema for Quantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "integer", "minimum": 1, "maximum": Quantity::MAX })
    }
}

impl TryFrom<u32> for Quantity {
    type Error = InvalidValue;
    fn try_from(n: u32) -> Result<Self, InvalidValue> {
        Quantity::new(n)
    }
}

impl From<Quantity> for u32 {
    fn from(q: Quantity) -> u32 {
        q.0
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "AddressFields")]
pub struct Address {
    pub name: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, uppercase.
    pub country: String,
}

/// The stored and accepted shape of an [`Address`]; its schema is the address's.
#[derive(Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Address")]
struct AddressFields {
    name: Option<String>,
    line1: String,
    line2: Option<String>,
    city: String,
    region: Option<String>,
    postal_code: String,
    country: String,
}

impl TryFrom<AddressFields> for Address {
    type Error = InvalidValue;
    fn try_from(f: AddressFields) -> Result<Self, InvalidValue> {
        fn text(field: &'static str, v: String, max: usize) -> Result<String, InvalidValue> {
            let v = line(field, &v, max)?;
            if v.is_empty() {
                return Err(invalid(field, format!("must be 1 to {max} characters")));
            }
            Ok(v)
        }
        fn optional(
            field: &'static str,
            v: Option<String>,
            max: usize,
        ) -> Result<Option<String>, InvalidValue> {
            optional_line(field, v.as_deref(), max)
        }
        let country = f.country.trim().to_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(invalid(
                "country",
                "must be an ISO 3166-1 alpha-2 code, e.g. US",
            ));
        }
        Ok(Address {
            name: optional("name", f.name, 200)?,
            line1: text("line1", f.line1, 200)?,
            line2: optional("line2", f.line2, 200)?,
            city: text("city", f.city, 100)?,
            region: optional("region", f.region, 100)?,
            postal_code: text("postal_code", f.postal_code, 20)?,
            country,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.com",
            "ann@localhost",
            "a b@x.com",
            "ann@x..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn skus_quantities_and_slugs() {
        assert_eq!(Sku::parse("abc-123.x").unwrap().as_str(), "ABC-123.X");
        assert!(Sku::parse("no spaces").is_err());
        assert!(Sku::parse(&"X".repeat(65)).is_err());
        assert!(Quantity::new(0).is_err());
        assert!(Quantity::new(10_001).is_err());
        assert_eq!(
            Slug::from_name("Red Shoes (2024)!").unwrap().as_str(),
            "red-shoes-2024"
        );
        assert!(Slug::from_name("!!!").is_err());
        assert!(Slug::parse("Bad_Slug").is_err());
    }

    #[test]
    fn free_text_is_bounded_and_free_of_control_characters() {
        assert_eq!(line("name", "  Ann  ", 10).unwrap(), "Ann");
        assert_eq!(
            line("name", &"é".repeat(10), 10).unwrap().chars().count(),
            10
        );
        let long = line("name", &"é".repeat(11), 10).unwrap_err();
        assert_eq!(long.field, "name");
        assert!(long.message.contains("at most 10"), "{long}");
        for smuggled in [
            "Ann\r\nBcc: all@example.com",
            "Ann\nX",
            "Ann\rX",
            "A\tB",
            "A\u{0}B",
            "A\u{7f}B",
            "A\u{85}B",
            "A\u{2028}B",
        ] {
            let e = line("first_name", smuggled, 100).unwrap_err();
            assert_eq!(e.field, "first_name", "{smuggled:?}");
        }
        assert_eq!(optional_line("label", Some("  "), 5).unwrap(), None);
        assert_eq!(optional_line("label", None, 5).unwrap(), None);
        assert_eq!(
            paragraphs("notes", "line one\r\nline two\ttabbed", 100).unwrap(),
            "line one\r\nline two\ttabbed"
        );
        for bad in ["a\u{0}b", "a\u{1b}[31mred", "a\u{8}b"] {
            assert_eq!(paragraphs("notes", bad, 100).unwrap_err().field, "notes");
        }
        assert!(paragraphs("notes", &"x".repeat(101), 100).is_err());
        assert_eq!(optional_paragraphs("notes", Some("\n "), 5).unwrap(), None);
    }

    #[test]
    fn addresses_refuse_what_cannot_be_delivered() {
        let ok = serde_json::json!({"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "us"});
        let a: Address = serde_json::from_value(ok).unwrap();
        assert_eq!(a.country, "US");
        let bad =
            serde_json::json!({"line1": " ", "city": "X", "postal_code": "1", "country": "US"});
        let err = serde_json::from_value::<Address>(bad).unwrap_err();
        assert!(err.to_string().contains("line1"));
        let smuggled = serde_json::json!({"line1": "1 Main St", "city": "Spring\r\nfield", "postal_code": "12345", "country": "US"});
        let err = serde_json::from_value::<Address>(smuggled).unwrap_err();
        assert!(err.to_string().contains("city"), "{err}");
    }
}
