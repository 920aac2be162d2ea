//! `audit`: who did what, when, through which request, read from the metadata every event
//! carries (invariant 9). It scans `$all`, so it needs nothing but the store; the `audit`
//! read model answers the same questions faster for the API. The client's IP and the
//! event's personal details show as encrypted unless revealed (see [`crate::personal`]).

use std::io::Write;

use chrono::{DateTime, Utc};
use commands::store::{EventStore, Position, RecordedEvent};
use serde_json::{json, Value};

use crate::cli::AuditFormat;
use crate::personal::Disclosure;
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

/// Where the rows go, in the format asked for.
enum Sink<'w, W: Write> {
    /// RFC 4180 quoting (a field holding a comma, quote or line break is quoted, inner
    /// quotes doubled), one record per line.
    Csv(Box<csv::Writer<&'w mut W>>),
    Table(&'w mut W),
    Ndjson(&'w mut W),
}

impl<'w, W: Write> Sink<'w, W> {
    fn new(format: AuditFormat, out: &'w mut W) -> std::io::Result<Self> {
        Ok(match format {
            AuditFormat::Csv => {
                let mut csv = csv::WriterBuilder::new()
                    .terminator(csv::Terminator::Any(b'\n'))
                    .from_writer(out);
                csv.write_record(COLUMNS)?;
                Sink::Csv(Box::new(csv))
            }
            AuditFormat::Table => {
                writeln!(
                    out,
                    "{:<24}  {:<36}  {:<8}  {:<24}  {:<40}  correlation",
                    "occurred at", "actor", "role", "action", "stream"
                )?;
                Sink::Table(out)
            }
            AuditFormat::Ndjson => Sink::Ndjson(out),
        })
    }

    fn row(&mut self, e: &RecordedEvent) -> std::io::Result<()> {
        let r = row(e);
        match self {
            Sink::Csv(csv) => csv.write_record(&r)?,
            Sink::Table(out) => writeln!(
                out,
                "{:<24}  {:<36}  {:<8}  {:<24}  {:<40}  {}",
                r[0], r[1], r[2], r[3], r[4], r[7]
            )?,
            Sink::Ndjson(out) => {
                let mut obj = serde_json::Map::new();
                for (k, v) in COLUMNS.iter().zip(r) {
                    obj.insert((*k).to_owned(), json!(v));
                }
                obj.insert("details".into(), e.data.clone());
                serde_json::to_writer(&mut **out, &obj).map_err(std::io::Error::from)?;
                writeln!(out)?;
            }
        }
        Ok(())
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Csv(mut csv) => csv.flush(),
            Sink::Table(out) | Sink::Ndjson(out) => out.flush(),
        }
    }
}

pub async fn audit<W: Write>(
    store: &dyn EventStore,
    filter: &AuditFilter,
    format: AuditFormat,
    disclosure: &Disclosure,
    out: &mut W,
) -> Result<usize, UmctlError> {
    let mut sink = Sink::new(format, out)?;
    let mut after = Position::START;
    let mut n = 0;
    loop {
        let page = store.read_all(after, 2_000).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        let mut kept: Vec<RecordedEvent> = page.into_iter().filter(|e| filter.keeps(e)).collect();
        disclosure.show(&mut kept).await?;
        for e in &kept {
            sink.row(e)?;
            n += 1;
        }
    }
    sink.finish()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    fn csv_line(fields: &[&str]) -> String {
        let mut out = Vec::new();
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(&mut out);
        csv.write_record(fields).unwrap();
        drop(csv);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(csv_line(&["plain", "a,b"]), "plain,\"a,b\"\n");
        assert_eq!(csv_line(&["say \"hi\""]), "\"say \"\"hi\"\"\"\n");
        assert_eq!(csv_line(&["two\nlines", ""]), "\"two\nlines\",\n");
    }
}
