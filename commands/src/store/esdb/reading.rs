//! Reads of `$all`: forwards after a position, and backwards to find its head. Both skip
//! the server's own events.

use eventstore::{ReadAllOptions, StreamPosition};

use super::connection::Connection;
use super::mapping::{all_from, check_after, decode, is_system, original, position_of};
use crate::store::{Position, RecordedEvent, StoreError};

/// Most events read from `$all` in one request.
pub(super) const ALL_PAGE: usize = 1_000;
/// Fewest events read from `$all` in one request.
const MIN_ALL_PAGE: usize = 32;
/// `$all` events read per event wanted: each of ours is followed by a link from each
/// standard projection, which readers skip.
const ALL_PAGE_FACTOR: usize = 5;

#[tracing::instrument(skip_all, fields(after = %after, limit = limit), err)]
pub(super) async fn read_all(
    conn: &Connection,
    after: Position,
    limit: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    check_after(after)?;
    let mut out = Vec::new();
    let mut cursor = after;
    while out.len() < limit {
        let page = (limit - out.len())
            .saturating_mul(ALL_PAGE_FACTOR)
            .clamp(MIN_ALL_PAGE, ALL_PAGE);
        let options = ReadAllOptions::default()
            .position(all_from(cursor))
            .forwards()
            .max_count(page);
        let mut read = conn.read_all(&options).await?;
        let mut seen = 0;
        while let Some(resolved) = read.next().await? {
            seen += 1;
            let e = original(&resolved)?;
            let position = position_of(e.position);
            if position <= cursor {
                // The event at the position a read starts from.
                continue;
            }
            cursor = position;
            if is_system(e) {
                continue;
            }
            out.push(decode(&resolved)?);
            if out.len() == limit {
                return Ok(out);
            }
        }
        if seen < page {
            break;
        }
    }
    Ok(out)
}

#[tracing::instrument(skip_all, err)]
pub(super) async fn head_position(conn: &Connection) -> Result<Position, StoreError> {
    let mut from = StreamPosition::End;
    loop {
        let options = ReadAllOptions::default()
            .position(from)
            .backwards()
            .max_count(ALL_PAGE);
        let mut read = conn.read_all(&options).await?;
        let mut seen = 0;
        while let Some(resolved) = read.next().await? {
            seen += 1;
            let e = original(&resolved)?;
            if !is_system(e) {
                return Ok(position_of(e.position));
            }
            from = StreamPosition::Position(e.position);
        }
        if seen < ALL_PAGE {
            return Ok(Position::START);
        }
    }
}
