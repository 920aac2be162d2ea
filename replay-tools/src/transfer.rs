//! Moving a log between stores: `export` writes `$all` as NDJSON, `import` appends it to an
//! empty store with the same event ids, streams, revisions and `$all` order (positions are
//! the new store's own). This is how a deployment moves from PostgreSQL to EventStoreDB.
//!
//! An export carries a hash chain ([`crate::chain`]). `import` reads the file twice: the
//! first pass checks the chain, that every line is an event and that every stream runs
//! from revision 0 without a gap, and only then does the second pass append, so a broken
//! or truncated export imports nothing.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Seek, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use commands::store::{EventStore, ExpectedVersion, NewEvent, Position};
use serde::Deserialize;
use uuid::Uuid;

use crate::chain::{Chain, ChainError, ChainKey, Checked, Checker};
use crate::format::event_json;
use crate::UmctlError;

const PAGE: usize = 2_000;
/// Most events of one stream appended in one go during an import.
const IMPORT_BATCH: usize = 500;

/// Writes `$all` after `after` as a chained export (keyed when `key` is given); answers
/// the number of events.
pub async fn export(
    store: &dyn EventStore,
    after: Position,
    key: Option<ChainKey>,
    out: &mut impl Write,
) -> Result<u64, UmctlError> {
    let (mut chain, header) = Chain::start(key);
    writeln!(out, "{header}")?;
    let mut after = after;
    let mut n = 0;
    loop {
        let page = store.read_all(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for e in &page {
            let object = serde_json::to_string(&event_json(e)).map_err(std::io::Error::from)?;
            writeln!(out, "{}", chain.seal(&object))?;
        }
        n += page.len() as u64;
    }
    // Written last, so an export cut short by a failure has no trailer and is refused.
    writeln!(out, "{}", chain.trailer())?;
    out.flush()?;
    Ok(n)
}

/// How an export is to be checked.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// The HMAC key the export was written with, if any.
    pub key: Option<ChainKey>,
    /// Take an export of the first, unchained format on trust.
    pub allow_unchained: bool,
}

fn refused(e: ChainError) -> UmctlError {
    match e {
        ChainError::KeyNeeded => UmctlError::BadArgument(e.to_string()),
        ChainError::Unchained => UmctlError::VerifyFailed(format!(
            "{e}; `umctl import --allow-unchained` takes it on trust"
        )),
        e => UmctlError::VerifyFailed(e.to_string()),
    }
}

/// One event of an export.
#[derive(Debug, Deserialize)]
pub struct ExportedEvent {
    pub id: Uuid,
    pub stream_id: String,
    pub revision: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub data: serde_json::Value,
    pub metadata: serde_json::Value,
    pub recorded_at: DateTime<Utc>,
}

/// Reads an export event by event, checking its chain, that every line is an event and
/// that every stream's revisions run from 0 without a gap.
pub struct ExportReader<R> {
    lines: std::iter::Enumerate<std::io::Lines<R>>,
    checker: Checker,
    next: HashMap<String, u64>,
}

impl<R: BufRead> ExportReader<R> {
    pub fn new(input: R, trust: &Trust) -> Self {
        ExportReader {
            lines: input.lines().enumerate(),
            checker: Checker::new(trust.key.clone(), trust.allow_unchained),
            next: HashMap::new(),
        }
    }

    /// The next event, or `None` at the end of the file.
    pub fn next_event(&mut self) -> Result<Option<ExportedEvent>, UmctlError> {
        for (i, line) in self.lines.by_ref() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let Some(object) = self.checker.line(i + 1, &line).map_err(refused)? else {
                continue;
            };
            let event: ExportedEvent = serde_json::from_str(&object)
                .map_err(|e| UmctlError::BadArgument(format!("line {}: {e}", i + 1)))?;
            let due = self.next.entry(event.stream_id.clone()).or_insert(0);
            if event.revision != *due {
                return Err(UmctlError::VerifyFailed(format!(
                    "line {}: {} revision {} where {due} was due (a gap or a repeat)",
                    i + 1,
                    event.stream_id,
                    event.revision
                )));
            }
            *due += 1;
            return Ok(Some(event));
        }
        Ok(None)
    }

    /// After the last event: whether the export was whole (its trailer came and matched).
    pub fn finish(self) -> Result<Checked, UmctlError> {
        self.checker.finish().map_err(refused)
    }
}

/// Checks a whole export without a store (`umctl verify --export`).
pub fn check(input: impl BufRead, trust: &Trust) -> Result<Checked, UmctlError> {
    let mut reader = ExportReader::new(input, trust);
    while reader.next_event()?.is_some() {}
    reader.finish()
}

/// An export checked whole, ready to import: [`CheckedImport::open`] reads it once to the
/// end before anything (not even a store) is touched, [`CheckedImport::into_store`]
/// appends it.
pub struct CheckedImport {
    file: std::fs::File,
    trust: Trust,
    pub checked: Checked,
}

impl CheckedImport {
    pub fn open(path: &Path, trust: Trust) -> Result<Self, UmctlError> {
        let file = std::fs::File::open(path)
            .map_err(|e| UmctlError::NotFound(format!("cannot open {}: {e}", path.display())))?;
        let checked = check(BufReader::new(&file), &trust).map_err(|e| match e {
            UmctlError::VerifyFailed(m) => {
                UmctlError::VerifyFailed(format!("nothing imported: {m}"))
            }
            UmctlError::BadArgument(m) => UmctlError::BadArgument(format!("nothing imported: {m}")),
            e => e,
        })?;
        Ok(CheckedImport {
            file,
            trust,
            checked,
        })
    }

    /// Appends the export to `store`, which must be empty.
    pub async fn into_store(mut self, store: &dyn EventStore) -> Result<Checked, UmctlError> {
        // Streams as well as the head: on PostgreSQL, `$all` shows a commit only once older
        // transactions have ended, but the streams table shows it at once.
        if store.head_position().await? != Position::START
            || !store.list_streams("", None, 1).await?.is_empty()
        {
            return Err(UmctlError::BadArgument(
                "the target store is not empty; import only into an empty store".into(),
            ));
        }
        self.file.rewind()?;
        // This pass checks again as it appends: had the file changed since the first, the
        // import would stop at the changed line. Only then, or if the store fails midway,
        // is an import partial.
        let mut reader = ExportReader::new(BufReader::new(&self.file), &self.trust);
        let mut batch: Vec<ExportedEvent> = Vec::new();
        while let Some(event) = reader.next_event()? {
            let continues = batch.last().is_some_and(|last| {
                last.stream_id == event.stream_id && last.revision + 1 == event.revision
            });
            if !continues || batch.len() >= IMPORT_BATCH {
                flush(store, &mut batch).await?;
            }
            batch.push(event);
        }
        flush(store, &mut batch).await?;
        reader.finish()?;
        Ok(self.checked)
    }
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
