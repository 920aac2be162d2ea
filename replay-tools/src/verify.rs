//! `verify`: the log checks itself. Every event validates against the JSON Schema of its
//! type and version and decodes with the current code (upcasters included), and every
//! stream's versions run 0, 1, 2, ... without a gap.
//!
//! A sealed personal field (ADR 0005) is checked as its declaration's erasure placeholder,
//! which fits the schema and decodes by construction: the envelope stands where the schema
//! declares `x-personal`, and needs no key to be checked, so a log verifies the same before
//! and after an erasure, and in a copy that holds no keys. An envelope in a field that is
//! not declared personal is checked as it is, and does not fit. Metadata has no schema.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use commands::store::{category_of, EventStore, Position, RecordedEvent};

use crate::history::AGGREGATES;
use crate::personal::as_erased;
use crate::UmctlError;

/// Most problems listed before the rest are only counted.
const SHOWN: usize = 50;

include!(concat!(env!("OUT_DIR"), "/event_schemas.rs"));

type Validators = HashMap<(String, u32), jsonschema::Validator>;

fn validator(source: &str, text: &str) -> Result<jsonschema::Validator, UmctlError> {
    let schema: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| UmctlError::VerifyFailed(format!("{source}: {e}")))?;
    jsonschema::validator_for(&schema)
        .map_err(|e| UmctlError::VerifyFailed(format!("{source}: {e}")))
}

/// The schemas built into the binary (see `build.rs`).
fn embedded_schemas() -> Result<Validators, UmctlError> {
    EVENT_SCHEMAS
        .iter()
        .map(|(name, version, text)| {
            let v = validator(&format!("the built-in schema of {name} v{version}"), text)?;
            Ok(((name.to_string(), *version), v))
        })
        .collect()
}

/// Schemas from a folder laid out like `schemas/events`, to check a log against schemas
/// newer than the binary.
fn schemas_in(dir: &Path) -> Result<Validators, UmctlError> {
    let mut out = HashMap::new();
    let categories = std::fs::read_dir(dir)
        .map_err(|e| UmctlError::NotFound(format!("event schemas at {}: {e}", dir.display())))?;
    for category in categories {
        for file in std::fs::read_dir(category?.path())? {
            let path = file?.path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let Some((name, version)) = stem.rsplit_once(".v") else {
                continue;
            };
            let Ok(version) = version.parse::<u32>() else {
                continue;
            };
            let text = std::fs::read_to_string(&path)?;
            let v = validator(&path.display().to_string(), &text)?;
            out.insert((name.to_owned(), version), v);
        }
    }
    Ok(out)
}

pub struct Report {
    pub events: u64,
    pub streams: usize,
    pub problems: Vec<String>,
}

/// Checks the log in `store` against the schemas in `schemas`, or the built-in ones.
pub async fn verify(
    store: &dyn EventStore,
    schemas: Option<&Path>,
    out: &mut impl Write,
) -> Result<Report, UmctlError> {
    let (validators, from) = match schemas {
        Some(dir) => (schemas_in(dir)?, dir.display().to_string()),
        None => (embedded_schemas()?, "built into umctl".to_owned()),
    };
    let mut next_revision: HashMap<String, u64> = HashMap::new();
    let mut by_stream: HashMap<String, Vec<RecordedEvent>> = HashMap::new();
    let mut problems = Vec::new();
    let mut events = 0u64;
    let mut sealed = 0usize;
    let mut after = Position::START;
    loop {
        let page = store.read_all(after, 2_000).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for mut e in page {
            events += 1;
            let expected = next_revision.entry(e.stream_id.clone()).or_insert(0);
            if e.revision != *expected {
                problems.push(format!(
                    "{}: revision {} follows {} (a gap or a repeat)",
                    e.stream_id,
                    e.revision,
                    expected.wrapping_sub(1) as i64
                ));
            }
            *expected = e.revision + 1;
            if AGGREGATES.contains(&category_of(&e.stream_id)) {
                sealed += as_erased(&mut e);
                match validators.get(&(e.event_type.clone(), e.schema_version)) {
                    None => problems.push(format!(
                        "{} revision {}: no schema for {} v{}",
                        e.stream_id, e.revision, e.event_type, e.schema_version
                    )),
                    Some(v) => {
                        if let Err(err) = v.validate(&e.data) {
                            problems.push(format!(
                                "{} revision {}: {} v{} does not fit its schema: {err}",
                                e.stream_id, e.revision, e.event_type, e.schema_version
                            ));
                        }
                    }
                }
                by_stream.entry(e.stream_id.clone()).or_default().push(e);
            }
        }
    }
    for (stream, events) in &by_stream {
        if let Err(e) = crate::history::decodes(stream, events) {
            problems.push(e.to_string());
        }
    }
    writeln!(out, "events:   {events}")?;
    writeln!(out, "streams:  {}", next_revision.len())?;
    writeln!(
        out,
        "sealed:   {sealed} personal fields, checked as their erasure placeholders"
    )?;
    writeln!(
        out,
        "schemas:  {} types and versions known ({from})",
        validators.len()
    )?;
    if problems.is_empty() {
        writeln!(
            out,
            "ok: every event fits its schema and decodes; every stream is gapless"
        )?;
    } else {
        for p in problems.iter().take(SHOWN) {
            writeln!(out, "problem: {p}")?;
        }
        if problems.len() > SHOWN {
            writeln!(out, "... and {} more", problems.len() - SHOWN)?;
        }
    }
    Ok(Report {
        events,
        streams: next_revision.len(),
        problems,
    })
}
