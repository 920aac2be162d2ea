//! Reads of `$all` below the horizon, the oldest transaction still in flight: the store's
//! own `read_all` and `head_position`, and the tail's, which follows `$all` through them.

use sqlx::postgres::PgPool;

use super::rows::{clamp_limit, db_error, to_i64, EventRow, EVENT_COLUMNS};
use crate::store::{Position, RecordedEvent, StoreError};

pub(super) async fn read_all(
    pool: &PgPool,
    after: Position,
    limit: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    // Everything below the oldest open transaction is final; nothing can commit later
    // with a smaller transaction id.
    let sql = format!(
        "select {EVENT_COLUMNS} from store.events \
         where (transaction_id, event_position) > ($1::bigint::text::xid8, $2) \
           and transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
         order by transaction_id, event_position limit $3"
    );
    let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(to_i64(after.commit, "position")?)
        .bind(to_i64(after.prepare, "position")?)
        .bind(clamp_limit(limit))
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(RecordedEvent::try_from).collect()
}

pub(super) async fn head_position(pool: &PgPool) -> Result<Position, StoreError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "select transaction_id::text::bigint, event_position from store.events \
         where transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
         order by transaction_id desc, event_position desc limit 1",
    )
    .fetch_optional(pool)
    .await
    .map_err(db_error)?;
    Ok(row.map_or(Position::START, |(c, p)| Position {
        commit: c as u64,
        prepare: p as u64,
    }))
}
