//! Looking at the log as it is: `streams`, `read`, `tail`. Sealed personal data shows as
//! encrypted unless revealed (see [`crate::personal`]).

use std::io::Write;

use commands::store::{Direction, EventStore, Position, ReadFrom};
use futures::StreamExt;

use crate::cli::Format;
use crate::format::{event_json, event_row, write_events, write_streams};
use crate::personal::Disclosure;
use crate::UmctlError;

/// The most streams `streams` pages through per query.
const STREAM_PAGE: usize = 500;

pub async fn streams(
    store: &dyn EventStore,
    category: Option<&str>,
    prefix: Option<&str>,
    limit: usize,
    format: Format,
    out: &mut impl Write,
) -> Result<(), UmctlError> {
    let prefix = match (category, prefix) {
        (Some(c), Some(p)) if !p.starts_with(&format!("{c}-")) => {
            return Err(UmctlError::BadArgument(format!(
                "--prefix {p:?} is not inside --category {c:?}"
            )))
        }
        (_, Some(p)) => p.to_owned(),
        (Some(c), None) => format!("{c}-"),
        (None, None) => String::new(),
    };
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    while all.len() < limit {
        let page = store
            .list_streams(
                &prefix,
                after.as_deref(),
                STREAM_PAGE.min(limit - all.len()),
            )
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.stream_id.clone());
        all.extend(page);
    }
    write_streams(out, &all, format)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn read(
    store: &dyn EventStore,
    stream: &str,
    from: Option<u64>,
    backwards: bool,
    limit: usize,
    format: Format,
    disclosure: &Disclosure,
    out: &mut impl Write,
) -> Result<(), UmctlError> {
    let direction = if backwards {
        Direction::Backwards
    } else {
        Direction::Forwards
    };
    let start = from.map_or(ReadFrom::End, ReadFrom::Revision);
    let mut events = store.read_stream(stream, start, direction, limit).await?;
    if events.is_empty() {
        // Tell an empty page of a real stream from a stream that does not exist.
        let head = store
            .read_stream(stream, ReadFrom::End, Direction::Backwards, 1)
            .await?;
        return Err(UmctlError::NotFound(match head.first() {
            None => format!("stream {stream:?} does not exist"),
            Some(last) => format!(
                "stream {stream:?} has no events from revision {} {} (its last revision is {})",
                from.unwrap_or(0),
                if backwards { "backwards" } else { "on" },
                last.revision
            ),
        }));
    }
    disclosure.show(&mut events).await?;
    write_events(out, &events, format)?;
    Ok(())
}

/// Parses `--from`: `start`, or a `commit/prepare` position.
pub fn parse_position(s: &str) -> Result<Position, UmctlError> {
    if s == "start" {
        return Ok(Position::START);
    }
    s.parse()
        .map_err(|e: commands::store::InvalidPosition| UmctlError::BadArgument(e.to_string()))
}

#[allow(clippy::too_many_arguments)]
pub async fn tail(
    store: &dyn EventStore,
    event_type: Option<&str>,
    category: Option<&str>,
    from: Option<&str>,
    count: Option<usize>,
    format: Format,
    disclosure: &Disclosure,
    out: &mut impl Write,
) -> Result<(), UmctlError> {
    let after = match from {
        Some(f) => parse_position(f)?,
        None => store.head_position().await?,
    };
    let mut sub = store.subscribe_all(after).await?;
    let mut shown = 0;
    while count.is_none_or(|c| shown < c) {
        let Some(event) = sub.next().await else { break };
        let mut event = event?;
        if event_type.is_some_and(|t| t != event.event_type)
            || category.is_some_and(|c| c != event.category())
        {
            continue;
        }
        disclosure.show(std::slice::from_mut(&mut event)).await?;
        match format {
            Format::Table => writeln!(out, "{}  {}", event.stream_id, event_row(&event))?,
            Format::Json | Format::Ndjson => {
                serde_json::to_writer(&mut *out, &event_json(&event))
                    .map_err(std::io::Error::from)?;
                writeln!(out)?;
            }
        }
        out.flush()?;
        shown += 1;
    }
    Ok(())
}
