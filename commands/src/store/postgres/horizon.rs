//! Reads of `$all` below the horizon, the oldest transaction still in flight: the store's
//! own `read_all` and `head_position`, and the tail's, which follows `$all` through them;
//! and `committed_head`, the one read that looks past the horizon.

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

/// The last committed event, below the horizon or not: an append that committed behind an
/// older transaction still open has answered its position already, and that position is
/// no forgery.
pub(super) async fn committed_head(pool: &PgPool) -> Result<Position, StoreError> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "select transaction_id::text::bigint, event_position from store.events \
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

#[cfg(test)]
mod tests {
    use sqlx::postgres::PgPool;
    use uuid::Uuid;

    use crate::store::postgres::PgEventStore;
    use crate::store::{EventStore, ExpectedVersion, NewEvent};

    /// An append that commits while an older transaction is open is not readable yet, but
    /// its position was answered: the committed head covers it where the readable head
    /// does not, so a client sending it back is not taken for a forger.
    #[sqlx::test(migrator = "crate::database::MIGRATOR")]
    async fn the_committed_head_covers_appends_hidden_behind_the_horizon(pool: PgPool) {
        let store = PgEventStore::new(pool.clone());
        let mut older = pool.begin().await.unwrap();
        sqlx::query("select pg_current_xact_id()")
            .execute(&mut *older)
            .await
            .unwrap();
        let appended = store
            .append(
                "note-1",
                ExpectedVersion::Any,
                vec![NewEvent {
                    id: Uuid::new_v4(),
                    event_type: "Noted".into(),
                    schema_version: 1,
                    data: serde_json::json!({}),
                    metadata: serde_json::json!({}),
                }],
            )
            .await
            .unwrap();
        assert!(store.head_position().await.unwrap() < appended.position);
        assert_eq!(store.committed_head().await.unwrap(), appended.position);
        // (The readable head catching up after the commit is not asserted: the horizon is
        // the whole cluster's, and other tests' transactions may hold it back.)
        older.commit().await.unwrap();
    }
}
