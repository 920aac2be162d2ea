//! Time travel: an aggregate's state as of a version or a time (`state`), and what
//! changed between two versions (`diff`). States are folded with the domain's own
//! `evolve`, so what staff see is what the command side saw, personal data included only
//! when revealed: otherwise each sealed field is folded as its erasure placeholder, which
//! the domain decodes (see [`crate::personal`]), and a note says so.

use std::io::Write;

use chrono::{DateTime, Utc};
use commands::store::{Direction, EventStore, ReadFrom, RecordedEvent};
use commands::time_travel::{self, TimeTravelError};

use crate::personal::Disclosure;
use crate::UmctlError;

pub use commands::time_travel::{AsOf, AGGREGATES};

pub fn parse_time(s: &str) -> Result<DateTime<Utc>, UmctlError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            UmctlError::BadArgument(format!(
                "{s:?} is not an RFC 3339 time ({e}), e.g. 2026-11-24T12:00:00Z"
            ))
        })
}

async fn events_of(store: &dyn EventStore, stream: &str) -> Result<Vec<RecordedEvent>, UmctlError> {
    let events = store
        .read_stream(stream, ReadFrom::End, Direction::Forwards, usize::MAX)
        .await?;
    if events.is_empty() {
        return Err(UmctlError::NotFound(format!(
            "stream {stream:?} does not exist"
        )));
    }
    Ok(events)
}

/// Where the shared fold's refusals land among umctl's exit codes.
fn refused(e: TimeTravelError) -> UmctlError {
    match e {
        TimeTravelError::NotAnAggregate(_) => {
            UmctlError::BadArgument(format!("{e}; use `umctl read`"))
        }
        TimeTravelError::Undecodable { .. } => UmctlError::VerifyFailed(e.to_string()),
        TimeTravelError::NoSuchVersion { .. } | TimeTravelError::NothingYet(_) => {
            UmctlError::NotFound(e.to_string())
        }
    }
}

/// The state of `stream` folded from `events`, rendered for people.
fn render(stream: &str, events: &[RecordedEvent]) -> Result<String, UmctlError> {
    time_travel::state(stream, events).map_err(refused)
}

fn upto(
    events: Vec<RecordedEvent>,
    as_of: AsOf,
    stream: &str,
) -> Result<Vec<RecordedEvent>, UmctlError> {
    time_travel::upto(events, as_of, stream).map_err(refused)
}

/// Says how many sealed fields were folded as placeholders, when some were.
fn note_placeholders(placeholders: usize, out: &mut impl Write) -> std::io::Result<()> {
    if placeholders > 0 {
        writeln!(
            out,
            "note: {placeholders} sealed personal fields are folded as their erasure \
             placeholders (e.g. erased@erased.invalid); --reveal opens them"
        )?;
    }
    Ok(())
}

pub async fn state(
    store: &dyn EventStore,
    stream: &str,
    as_of: AsOf,
    disclosure: &Disclosure,
    out: &mut impl Write,
) -> Result<(), UmctlError> {
    let mut events = upto(events_of(store, stream).await?, as_of, stream)?;
    let placeholders = disclosure.foldable(&mut events).await?;
    let last = &events[events.len() - 1];
    writeln!(
        out,
        "{stream} at version {} ({}, {} events)",
        last.revision,
        last.recorded_at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        events.len()
    )?;
    note_placeholders(placeholders, out)?;
    writeln!(out, "{}", render(stream, &events)?)?;
    Ok(())
}

pub async fn diff(
    store: &dyn EventStore,
    stream: &str,
    v1: u64,
    v2: u64,
    disclosure: &Disclosure,
    out: &mut impl Write,
) -> Result<(), UmctlError> {
    let mut events = events_of(store, stream).await?;
    let mut folded = events.clone();
    let placeholders = disclosure.foldable(&mut folded).await?;
    disclosure.show(&mut events).await?;
    let a = render(stream, &upto(folded.clone(), AsOf::Version(v1), stream)?)?;
    let b = render(stream, &upto(folded, AsOf::Version(v2), stream)?)?;
    note_placeholders(placeholders, out)?;
    writeln!(out, "--- {stream} @ {v1}\n+++ {stream} @ {v2}")?;
    for line in line_diff(&a, &b) {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "events between:")?;
    let (lo, hi) = (v1.min(v2), v1.max(v2));
    for e in events
        .iter()
        .filter(|e| e.revision > lo && e.revision <= hi)
    {
        writeln!(out, "  {} {} {}", e.revision, e.event_type, e.data)?;
    }
    Ok(())
}

/// A line diff by longest common subsequence: ` ` kept, `-` only in `a`, `+` only in `b`.
fn line_diff(a: &str, b: &str) -> Vec<String> {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(format!(" {}", a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(format!("+{}", b[j]));
            j += 1;
        } else {
            out.push(format!("-{}", a[i]));
            i += 1;
        }
    }
    out
}

/// Every event of a stream decodes with the current code.
pub fn decodes(stream: &str, events: &[RecordedEvent]) -> Result<(), UmctlError> {
    render(stream, events).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::{line_diff, render};
    use crate::UmctlError;

    #[test]
    fn a_stream_that_is_no_aggregate_is_a_usage_error() {
        assert!(render("order-1", &[]).is_ok());
        assert!(matches!(
            render("unique-1", &[]),
            Err(UmctlError::BadArgument(m)) if m.contains("umctl read")
        ));
    }

    #[test]
    fn diffs_show_what_changed() {
        let d = line_diff("a\nb\nc", "a\nc\nd");
        assert_eq!(d, vec![" a", "-b", " c", "+d"]);
    }
}
