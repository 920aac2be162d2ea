//! `audit`: who did what, when, through which request, read from the metadata every event
//! carries (invariant 9). It scans `$all`, so it needs nothing but the store; the `audit`
//! read model answers the same questions faster for the API.

use std::io::Write;

use chrono::{DateTime, Utc};
use commands::store::{EventStore, Position, RecordedEvent};
use serde_json::{json, Value};

use crate::cli::AuditFormat;
use crate::UmctlError;

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub correlation: Option<String>,
    pub event_type: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

fn meta<'a>(e: &'a RecordedEvent, key: &str) -> &'a str {
    e.metadata.get(key).and_then(Value::as_str).unwrap_or("")
}

/// When it happened: the command's time, or when the store recorded it.
fn occurred(e: &RecordedEvent) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(meta(e, "occurred_at"))
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(e.recorded_at)
}

impl AuditFilter {
    fn keeps(&self, e: &RecordedEvent) -> bool {
        let at = occurred(e);
        self.actor
            .as_deref()
            .is_none_or(|a| meta(e, "actor_id") == a)
            && self
                .correlation
                .as_deref()
                .is_none_or(|c| meta(e, "correlation_id") == c)
            && self.event_type.as_deref().is_none_or(|t| e.event_type == t)
            && self.from.is_none_or(|f| at >= f)
            && self.to.is_none_or(|t| at < t)
    }
}

const COLUMNS: [&str; 11] = [
    "occurred_at",
    "actor_id",
    "actor_role",
    "action",
    "stream",
    "revision",
    "position",
    "correlation_id",
    "causation_id",
    "command_id",
    "client_ip",
];

fn row(e: &RecordedEvent) -> [String; 11] {
    [
        occurred(e).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        meta(e, "actor_id").to_owned(),
        meta(e, "actor_role").to_owned(),
        e.event_type.clone(),
        e.stream_id.clone(),
        e.revision.to_string(),
        e.position.to_string(),
        meta(e, "correlation_id").to_owned(),
        meta(e, "causation_id").to_owned(),
        meta(e, "command_id").to_owned(),
        meta(e, "client_ip").to_owned(),
    ]
}

/// RFC 4180: quote fields holding a comma, quote or line break; double inner quotes.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

pub async fn audit(
    store: &dyn EventStore,
    filter: &AuditFilter,
    format: AuditFormat,
    out: &mut impl Write,
) -> Result<usize, UmctlError> {
    match format {
        AuditFormat::Csv => writeln!(out, "{}", COLUMNS.join(","))?,
        AuditFormat::Table => writeln!(
            out,
            "{:<24}  {:<36}  {:<8}  {:<24}  {:<40}  correlation",
            "occurred at", "actor", "role", "action", "stream"
        )?,
        AuditFormat::Ndjson => {}
    }
    let mut after = Position::START;
    let mut n = 0;
    loop {
        let page = store.read_all(after, 2_000).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for e in page.iter().filter(|e| filter.keeps(e)) {
            let r = row(e);
            match format {
                AuditFormat::Csv => {
                    let fields: Vec<String> = r.iter().map(|f| csv_field(f)).collect();
                    writeln!(out, "{}", fields.join(","))?;
                }
                AuditFormat::Table => writeln!(
                    out,
                    "{:<24}  {:<36}  {:<8}  {:<24}  {:<40}  {}",
                    r[0], r[1], r[2], r[3], r[4], r[7]
                )?,
                AuditFormat::Ndjson => {
                    let mut obj = serde_json::Map::new();
                    for (k, v) in COLUMNS.iter().zip(r) {
                        obj.insert((*k).to_owned(), json!(v));
                    }
                    obj.insert("details".into(), e.data.clone());
                    serde_json::to_writer(&mut *out, &obj).map_err(std::io::Error::from)?;
                    writeln!(out)?;
                }
            }
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
