//! How events and streams are printed.

use std::io::Write;

use commands::store::{RecordedEvent, StreamInfo};
use serde_json::{json, Value};

use crate::cli::Format;

/// The JSON shape of an event in `read --format json`, `tail` and `export`; `import` reads it.
pub fn event_json(e: &RecordedEvent) -> Value {
    json!({
        "id": e.id,
        "stream_id": e.stream_id,
        "revision": e.revision,
        "position": e.position.to_string(),
        "event_type": e.event_type,
        "schema_version": e.schema_version,
        "data": e.data,
        "metadata": e.metadata,
        "recorded_at": e.recorded_at,
    })
}

pub fn write_events(
    out: &mut impl Write,
    events: &[RecordedEvent],
    format: Format,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let all: Vec<Value> = events.iter().map(event_json).collect();
            serde_json::to_writer_pretty(&mut *out, &all)?;
            writeln!(out)
        }
        Format::Ndjson => {
            for e in events {
                serde_json::to_writer(&mut *out, &event_json(e))?;
                writeln!(out)?;
            }
            Ok(())
        }
        Format::Table => {
            writeln!(
                out,
                "{:>8}  {:<16}  {:<28}  {:<24}  {:<12}  data",
                "revision", "position", "type", "recorded at", "actor"
            )?;
            for e in events {
                writeln!(out, "{}", event_row(e))?;
            }
            Ok(())
        }
    }
}

pub fn event_row(e: &RecordedEvent) -> String {
    let actor = e
        .metadata
        .get("actor_role")
        .and_then(Value::as_str)
        .unwrap_or("-");
    let mut data = e.data.to_string();
    if data.len() > 120 {
        let cut = (0..=117)
            .rev()
            .find(|&i| data.is_char_boundary(i))
            .unwrap_or(0);
        data.truncate(cut);
        data.push_str("...");
    }
    format!(
        "{:>8}  {:<16}  {:<28}  {:<24}  {:<12}  {}",
        e.revision,
        e.position.to_string(),
        e.event_type,
        e.recorded_at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        actor,
        data
    )
}

pub fn write_streams(
    out: &mut impl Write,
    streams: &[StreamInfo],
    format: Format,
) -> std::io::Result<()> {
    let as_json = |s: &StreamInfo| json!({ "stream_id": s.stream_id, "version": s.revision, "updated_at": s.updated_at });
    match format {
        Format::Json => {
            let all: Vec<Value> = streams.iter().map(as_json).collect();
            serde_json::to_writer_pretty(&mut *out, &all)?;
            writeln!(out)
        }
        Format::Ndjson => {
            for s in streams {
                serde_json::to_writer(&mut *out, &as_json(s))?;
                writeln!(out)?;
            }
            Ok(())
        }
        Format::Table => {
            writeln!(out, "{:<60}  {:>8}  last event", "stream", "version")?;
            for s in streams {
                writeln!(
                    out,
                    "{:<60}  {:>8}  {}",
                    s.stream_id,
                    s.revision,
                    s.updated_at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
                )?;
            }
            Ok(())
        }
    }
}
