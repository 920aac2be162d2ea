//! Moving a log between stores: `export` writes `$all` as NDJSON, `import` appends it to an
//! empty store with the same event ids, streams, revisions and `$all` order (positions are
//! the new store's own). This is how a deployment moves from PostgreSQL to EventStoreDB.

use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};
use commands::store::{EventStore, ExpectedVersion, NewEvent, Position};
use serde::Deserialize;
use uuid::Uuid;

use crate::format::event_json;
use crate::UmctlError;

const PAGE: usize = 2_000;
/// Most events of one stream appended in one go during an import.
const IMPORT_BATCH: usize = 500;

pub async fn export(
    store: &dyn EventStore,
    after: Position,
    out: &mut impl Write,
) -> Result<u64, UmctlError> {
    let mut after = after;
    let mut n = 0;
    loop {
        let page = store.read_all(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for e in &page {
            serde_json::to_writer(&mut *out, &event_json(e)).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
        n += page.len() as u64;
    }
    out.flush()?;
    Ok(n)
}

/// One line of an export.
#[derive(Debug, Deserialize)]
struct ExportedEvent {
    id: Uuid,
    stream_id: String,
    revision: u64,
    event_type: String,
    schema_version: u32,
    data: serde_json::Value,
    metadata: serde_json::Value,
    #[allow(dead_code)]
    recorded_at: DateTime<Utc>,
}

pub async fn import(store: &dyn EventStore, input: impl BufRead) -> Result<u64, UmctlError> {
    // Streams as well as the head: on PostgreSQL, `$all` shows a commit only once older
    // transactions have ended, but the streams table shows it at once.
    if store.head_position().await? != Position::START
        || !store.list_streams("", None, 1).await?.is_empty()
    {
        return Err(UmctlError::BadArgument(
            "the target store is not empty; import only into an empty store".into(),
        ));
    }
    let mut batch: Vec<ExportedEvent> = Vec::new();
    let mut n = 0;
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let event: ExportedEvent = serde_json::from_str(&line)
            .map_err(|e| UmctlError::BadArgument(format!("line {}: {e}", i + 1)))?;
        let continues = batch.last().is_some_and(|last| {
            last.stream_id == event.stream_id && last.revision + 1 == event.revision
        });
        if !continues || batch.len() >= IMPORT_BATCH {
            n += flush(store, &mut batch).await?;
        }
        batch.push(event);
    }
    n += flush(store, &mut batch).await?;
    Ok(n)
}

async fn flush(store: &dyn EventStore, batch: &mut Vec<ExportedEvent>) -> Result<u64, UmctlError> {
    let Some(first) = batch.first() else {
        return Ok(0);
    };
    let stream = first.stream_id.clone();
    // The exact revision keeps the stream gapless: an export with a hole fails here rather
    // than renumbering history.
    let expected = match first.revision {
        0 => ExpectedVersion::NoStream,
        r => ExpectedVersion::Exact(r - 1),
    };
    let events: Vec<NewEvent> = batch
        .drain(..)
        .map(|e| NewEvent {
            id: e.id,
            event_type: e.event_type,
            schema_version: e.schema_version,
            data: e.data,
            metadata: e.metadata,
        })
        .collect();
    let n = events.len() as u64;
    store.append(&stream, expected, events).await?;
    Ok(n)
}
