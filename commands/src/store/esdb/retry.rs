//! Retried appends. EventStoreDB checks event ids itself only in some cases: with an
//! exact or no-stream expectation that is *behind* the stream, it compares the events
//! already there; with `Any`/`StreamExists` it looks in a cache of recently committed ids.
//! The adapter fills the gaps the contract needs: with `Any`/`StreamExists` it first looks
//! for the ids among the stream's last `n + 64` events (one extra read per such append; the
//! command handler appends with exact versions and never pays it); after a refusal it looks
//! there again; after a success that a fresh append cannot have produced (no position, or
//! another revision than the expectation implies) it answers the first append's result. A
//! first id found there followed by other ids is [`StoreError::DuplicateEventId`].
//! Not detected: with `Any`/`StreamExists`, a retry further back than that window whose ids
//! have left the server's cache; with `Exact`, a retry expecting the revision the first
//! append produced (the server sees nothing behind it to compare and appends).

use eventstore::{ReadAllOptions, ReadStreamOptions, StreamPosition};
use uuid::Uuid;

use super::connection::Connection;
use super::mapping::{original, position_of};
use super::reading::{head_position, ALL_PAGE};
use crate::store::{AppendResult, NewEvent, Position, StoreError};

/// How many events before a batch's own length a retried batch is looked for.
const RETRY_TAIL: usize = 64;
/// How far back `$all` is read to find a retried batch's position.
const RETRY_SCAN: usize = 10_000;

/// Where a batch's ids sit in the end of a stream.
#[derive(Debug, PartialEq, Eq)]
enum Retry {
    /// The first id is not there: not a retry (as far as the window reaches).
    Absent,
    /// The ids follow each other in order; the revision of the last.
    Found(u64),
    /// The first id is there but other events follow it: a different command reusing ids.
    Mismatch,
}

/// Looks for `ids` in `tail`, the end of a stream in revision order.
fn find_batch(tail: &[(Uuid, u64)], ids: &[Uuid]) -> Retry {
    let Some(first) = ids.first() else {
        return Retry::Absent;
    };
    let Some(start) = tail.iter().position(|(id, _)| id == first) else {
        return Retry::Absent;
    };
    let run = &tail[start..];
    if run.len() >= ids.len() && run.iter().zip(ids).all(|((found, _), id)| found == id) {
        Retry::Found(run[ids.len() - 1].1)
    } else {
        Retry::Mismatch
    }
}

/// Recognises `events` as a batch already at the end of `stream_id`.
pub(super) async fn find_retry(
    conn: &Connection,
    stream_id: &str,
    events: &[NewEvent],
) -> Result<Option<AppendResult>, StoreError> {
    let options = ReadStreamOptions::default()
        .position(StreamPosition::End)
        .backwards()
        .max_count(events.len().saturating_add(RETRY_TAIL));
    let mut read = conn.read_stream(stream_id, &options).await?;
    let mut tail = Vec::new();
    while let Some(resolved) = read.next().await? {
        let e = original(&resolved)?;
        tail.push((e.id, e.revision));
    }
    tail.reverse();
    let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    match find_batch(&tail, &ids) {
        Retry::Absent => Ok(None),
        Retry::Found(revision) => Ok(Some(
            answer_retry(conn, stream_id, events, revision, None).await?,
        )),
        Retry::Mismatch => Err(StoreError::DuplicateEventId {
            event_id: ids[0],
            existing_stream: stream_id.to_owned(),
        }),
    }
}

/// The first append's answer for a batch whose last event has `revision`. Stream reads
/// carry no `$all` position, so it comes from the server (`known`) or from `$all`.
pub(super) async fn answer_retry(
    conn: &Connection,
    stream_id: &str,
    events: &[NewEvent],
    revision: u64,
    known: Option<Position>,
) -> Result<AppendResult, StoreError> {
    let position = match known {
        Some(p) => p,
        None => match find_in_all(conn, stream_id, events).await? {
            Some(p) => p,
            None => {
                // Too old to find cheaply. The head is past the first append, so a
                // caller waiting for readers to reach this position still waits enough.
                tracing::warn!(
                    stream = stream_id,
                    revision,
                    "retried append recognised, but its position is beyond the search; answering the head of $all"
                );
                head_position(conn).await?
            }
        },
    };
    Ok(AppendResult { revision, position })
}

/// The `$all` position of the batch's last event, searching back from the end.
async fn find_in_all(
    conn: &Connection,
    stream_id: &str,
    events: &[NewEvent],
) -> Result<Option<Position>, StoreError> {
    let Some(last) = events.last() else {
        return Ok(None);
    };
    let mut from = StreamPosition::End;
    let mut scanned = 0;
    while scanned < RETRY_SCAN {
        let options = ReadAllOptions::default()
            .position(from)
            .backwards()
            .max_count(ALL_PAGE);
        let mut read = conn.read_all(&options).await?;
        let mut seen = 0;
        while let Some(resolved) = read.next().await? {
            seen += 1;
            let e = original(&resolved)?;
            if e.id == last.id && e.stream_id == stream_id {
                return Ok(Some(position_of(e.position)));
            }
            from = StreamPosition::Position(e.position);
        }
        if seen < ALL_PAGE {
            break;
        }
        scanned += seen;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A retry is the same ids in the same order; a first id followed by others is not.
    #[test]
    fn batches_are_found_at_the_end_of_a_stream() {
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
        let tail: Vec<(Uuid, u64)> = ids.iter().copied().zip(10..).collect();
        assert_eq!(find_batch(&tail, &ids[1..3]), Retry::Found(12));
        assert_eq!(find_batch(&tail, &ids[3..]), Retry::Found(14));
        assert_eq!(find_batch(&tail, &[Uuid::new_v4()]), Retry::Absent);
        assert_eq!(find_batch(&tail, &[ids[1], ids[3]]), Retry::Mismatch);
        // The batch would run past the end of the stream.
        assert_eq!(
            find_batch(&tail, &[ids[4], Uuid::new_v4()]),
            Retry::Mismatch
        );
    }
}
