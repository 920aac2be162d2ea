//! The catalog's query strings, read strictly: a parameter that is unknown, given twice or
//! malformed answers 400 `invalid_query`, with every wrong one named in `errors`, rather
//! than being ignored (a client with a typo should learn of it).

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use uuid::Uuid;

use crate::error::{ApiError, FieldError};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// The query string as name → value; a name given twice or not in `known` is an error.
pub fn params(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    known: &[&str],
) -> Result<HashMap<String, String>, ApiError> {
    let Query(pairs) = query.map_err(|e| ApiError::invalid_query("query", e.body_text()))?;
    let mut out = HashMap::new();
    let mut errors = Vec::new();
    for (k, v) in pairs {
        if !known.contains(&k.as_str()) {
            errors.push(FieldError::new(
                &k,
                format!("unknown parameter; known: {}", known.join(", ")),
            ));
        } else {
            match out.entry(k) {
                Entry::Occupied(e) => {
                    errors.push(FieldError::new(e.key(), "given more than once"));
                }
                Entry::Vacant(e) => {
                    e.insert(v);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::InvalidQuery(errors))
    }
}

/// Collects the field errors of one query string.
#[derive(Default)]
pub struct Check(Vec<FieldError>);

impl Check {
    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn int(
        &mut self,
        p: &HashMap<String, String>,
        field: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<i64> {
        let raw = p.get(field)?;
        match raw.trim().parse::<i64>() {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                self.fail(
                    field,
                    format!(
                        "must be a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    pub fn uuid(&mut self, p: &HashMap<String, String>, field: &str) -> Option<Uuid> {
        let raw = p.get(field)?;
        Uuid::parse_str(raw.trim())
            .map_err(|_| self.fail(field, "must be a UUID"))
            .ok()
    }

    pub fn bool(&mut self, p: &HashMap<String, String>, field: &str) -> Option<bool> {
        match p.get(field)?.as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => {
                self.fail(field, "must be true or false");
                None
            }
        }
    }

    /// `limit` (1 to 100, default 20) and `offset` (default 0).
    pub fn page(&mut self, p: &HashMap<String, String>) -> (i64, i64) {
        (
            self.int(p, "limit", 1..=MAX_LIMIT).unwrap_or(DEFAULT_LIMIT),
            self.int(p, "offset", 0..=1_000_000).unwrap_or(0),
        )
    }

    pub fn done(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::InvalidQuery(self.0))
        }
    }
}

/// The raw query string, part of a cache key.
pub fn raw_query(q: &Option<String>) -> &str {
    q.as_deref().unwrap_or("")
}
