//! The order-number format: a template such as `UM-{yyyy}-{seq:6}` that turns an order's
//! date and its sequence number into the number a customer reads on an invoice.
//!
//! A template is checked once, when staff set it ([`OrderNumberFormat::parse`]), so
//! [`OrderNumberFormat::render`] cannot fail: it is a pure function of the date and the
//! sequence, and the same inputs always give the same number.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The format a store starts with.
pub const DEFAULT_ORDER_NUMBER_FORMAT: &str = "UM-{yyyy}-{seq:6}";
/// The longest template.
pub const MAX_TEMPLATE: usize = 64;
/// The widest zero-padded sequence (`{seq:12}`).
pub const MAX_SEQ_WIDTH: usize = 12;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// `{yyyy}`, four digits.
    Year,
    /// `{yy}`, the last two digits of the year.
    ShortYear,
    /// `{mm}`, `01` to `12`.
    Month,
    /// `{dd}`, `01` to `31`.
    Day,
    /// `{seq}` (no padding) or `{seq:N}`, zero-padded to N digits (more when it outgrows them).
    Seq(usize),
}

/// A checked order-number template. Kept as the text staff wrote; the parts are derived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderNumberFormat {
    template: String,
    parts: Vec<Part>,
}

/// Why a template is refused; the message names the fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadTemplate(pub String);

fn literal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.' | '#')
}

impl OrderNumberFormat {
    /// Checks `template`: 1 to [`MAX_TEMPLATE`] characters of letters, digits, `-`, `_`,
    /// `/`, `.`, `#` and the placeholders `{yyyy}`, `{yy}`, `{mm}`, `{dd}`, `{seq}` and
    /// `{seq:N}` (N from 1 to [`MAX_SEQ_WIDTH`]), with exactly one `{seq}`: without the
    /// sequence two orders could get the same number.
    pub fn parse(template: &str) -> Result<Self, BadTemplate> {
        let bad = |m: &str| Err(BadTemplate(m.to_owned()));
        if template.is_empty() || template.chars().count() > MAX_TEMPLATE {
            return bad("must be 1 to 64 characters");
        }
        let mut parts = Vec::new();
        let mut rest = template;
        let mut seqs = 0;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let Some(end) = after.find('}') else {
                    return bad("a `{` without its `}`");
                };
                let name = &after[..end];
                let part = match name {
                    "yyyy" => Part::Year,
                    "yy" => Part::ShortYear,
                    "mm" => Part::Month,
                    "dd" => Part::Day,
                    "seq" => Part::Seq(0),
                    _ => match name.strip_prefix("seq:").map(str::parse::<usize>) {
                        Some(Ok(w)) if (1..=MAX_SEQ_WIDTH).contains(&w) => Part::Seq(w),
                        Some(_) => return bad("`{seq:N}` takes a width N from 1 to 12"),
                        None => {
                            return Err(BadTemplate(format!(
                                "unknown placeholder `{{{name}}}`: use {{yyyy}}, {{yy}}, {{mm}}, {{dd}}, {{seq}} or {{seq:N}}"
                            )))
                        }
                    },
                };
                if matches!(part, Part::Seq(_)) {
                    seqs += 1;
                }
                parts.push(part);
                rest = &after[end + 1..];
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let text = &rest[..end];
                if let Some(c) = text.chars().find(|c| !literal_char(*c)) {
                    return Err(BadTemplate(format!(
                        "{c:?} is not allowed: use letters, digits, `-`, `_`, `/`, `.`, `#` and placeholders"
                    )));
                }
                parts.push(Part::Literal(text.to_owned()));
                rest = &rest[end..];
            }
        }
        if seqs != 1 {
            return bad(
                "must hold exactly one `{seq}` or `{seq:N}`, so no two orders share a number",
            );
        }
        Ok(OrderNumberFormat {
            template: template.to_owned(),
            parts,
        })
    }

    /// The template as staff wrote it.
    pub fn as_str(&self) -> &str {
        &self.template
    }

    /// The number of the order placed on `date` with sequence number `seq`.
    pub fn render(&self, date: NaiveDate, seq: u64) -> String {
        let mut out = String::with_capacity(self.template.len() + 8);
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Year => out.push_str(&format!("{:04}", date.year())),
                Part::ShortYear => out.push_str(&format!("{:02}", date.year().rem_euclid(100))),
                Part::Month => out.push_str(&format!("{:02}", date.month())),
                Part::Day => out.push_str(&format!("{:02}", date.day())),
                Part::Seq(width) => out.push_str(&format!("{seq:0width$}")),
            }
        }
        out
    }
}

impl Default for OrderNumberFormat {
    fn default() -> Self {
        // The default is a constant this module's tests parse.
        OrderNumberFormat::parse(DEFAULT_ORDER_NUMBER_FORMAT).unwrap_or(OrderNumberFormat {
            template: DEFAULT_ORDER_NUMBER_FORMAT.to_owned(),
            parts: vec![Part::Seq(6)],
        })
    }
}

impl fmt::Display for OrderNumberFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.template)
    }
}

impl TryFrom<String> for OrderNumberFormat {
    type Error = BadTemplate;
    fn try_from(s: String) -> Result<Self, BadTemplate> {
        OrderNumberFormat::parse(&s)
    }
}

impl From<OrderNumberFormat> for String {
    fn from(f: OrderNumberFormat) -> String {
        f.template
    }
}

impl schemars::JsonSchema for OrderNumberFormat {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OrderNumberFormat".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "minLength": 1, "maxLength": MAX_TEMPLATE })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_default_renders_year_and_a_six_digit_sequence() {
        let f = OrderNumberFormat::default();
        assert_eq!(f.as_str(), DEFAULT_ORDER_NUMBER_FORMAT);
        assert_eq!(f.render(day(2026, 12, 6), 42), "UM-2026-000042");
    }

    #[test]
    fn every_placeholder_renders() {
        let f = OrderNumberFormat::parse("#{yy}{mm}{dd}/{seq}").unwrap();
        assert_eq!(f.render(day(2027, 1, 5), 7), "#270105/7");
        let f = OrderNumberFormat::parse("{seq:3}.{yyyy}").unwrap();
        assert_eq!(f.render(day(2026, 3, 9), 1), "001.2026");
    }

    #[test]
    fn a_sequence_past_its_width_grows_rather_than_wrapping() {
        let f = OrderNumberFormat::parse("A{seq:2}").unwrap();
        assert_eq!(f.render(day(2026, 1, 1), 12345), "A12345");
        assert_eq!(f.render(day(2026, 1, 1), 0), "A00");
    }

    #[test]
    fn bad_templates_are_refused_with_the_reason() {
        for (template, says) in [
            ("", "1 to 64"),
            ("UM-{yyyy}", "exactly one"),
            ("{seq}-{seq:2}", "exactly one"),
            ("UM-{seq:0}", "width"),
            ("UM-{seq:13}", "width"),
            ("UM-{seq:x}", "width"),
            ("UM-{month}-{seq}", "unknown placeholder"),
            ("UM {seq}", "not allowed"),
            ("UM-{seq", "without its"),
            ("UM-}{seq}", "not allowed"),
        ] {
            let err = OrderNumberFormat::parse(template).unwrap_err();
            assert!(err.0.contains(says), "{template:?}: {err}");
        }
        let long = format!("{}{{seq}}", "A".repeat(60));
        assert!(OrderNumberFormat::parse(&long).is_err());
    }

    #[test]
    fn a_template_survives_serde_as_its_text() {
        let f = OrderNumberFormat::parse("X-{seq:4}").unwrap();
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json, "X-{seq:4}");
        let back: OrderNumberFormat = serde_json::from_value(json).unwrap();
        assert_eq!(back.render(day(2026, 1, 1), 5), "X-0005");
        assert!(serde_json::from_value::<OrderNumberFormat>("X".into()).is_err());
    }
}
