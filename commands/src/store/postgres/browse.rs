//! What the console browses: streams searched by category, id and last activity, and
//! `$all` read either way under a filter. Both answer in SQL what the port's scanning
//! defaults would find by reading everything, and `$all` here, as in `horizon`, stops at
//! the oldest transaction in flight, so pages cut at positions never miss a late commit.

use sqlx::postgres::PgPool;

use super::rows::{clamp_limit, db_error, to_i64, EventRow, EVENT_COLUMNS};
use crate::store::{AllRead, EventFilter, RecordedEvent, StoreError, StreamFilter, StreamInfo};

/// `pattern` (where `*` is any run of characters, and no `*` means "contains") as an
/// `ilike` pattern with `\` as its escape.
fn like_pattern(pattern: &str) -> String {
    let mut like = String::with_capacity(pattern.len() + 2);
    for c in pattern.chars() {
        match c {
            '%' | '_' | '\\' => {
                like.push('\\');
                like.push(c);
            }
            '*' => like.push('%'),
            c => like.push(c),
        }
    }
    if pattern.contains('*') {
        like
    } else {
        format!("%{like}%")
    }
}

pub(super) async fn search_streams(
    pool: &PgPool,
    filter: &StreamFilter,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<StreamInfo>, StoreError> {
    let rows: Vec<(String, i64, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "select stream_id, revision, updated_at from store.streams
          where ($1::text is null or stream_id = $1 or starts_with(stream_id, $1 || '-'))
            and ($2::text is null or stream_id ilike $2 escape '\\')
            and ($3::timestamptz is null or updated_at >= $3)
            and ($4::text is null or stream_id > $4)
          order by stream_id limit $5",
    )
    .bind(filter.category.as_deref())
    .bind(filter.id_pattern.as_deref().map(like_pattern))
    .bind(filter.active_since)
    .bind(after)
    .bind(clamp_limit(limit))
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(stream_id, revision, updated_at)| StreamInfo {
            stream_id,
            revision: revision as u64,
            updated_at,
        })
        .collect())
}

pub(super) async fn read_all_filtered(
    pool: &PgPool,
    filter: &EventFilter,
    from: AllRead,
    limit: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let (cursor, order) = match from {
        AllRead::Forwards { after } => (
            Some(after),
            "(transaction_id, event_position) > ($1::bigint::text::xid8, $2) \
             order by transaction_id, event_position",
        ),
        AllRead::Backwards { before } => (
            before,
            "($1::bigint is null or \
              (transaction_id, event_position) < ($1::bigint::text::xid8, $2)) \
             order by transaction_id desc, event_position desc",
        ),
    };
    let (commit, prepare) = match cursor {
        Some(p) => (
            Some(to_i64(p.commit, "position")?),
            Some(to_i64(p.prepare, "position")?),
        ),
        None => (None, None),
    };
    // The category test mirrors `category_of`: the id up to its first `-`.
    let sql = format!(
        "select {EVENT_COLUMNS} from store.events \
         where transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
           and ($3::text is null or stream_id = $3 or starts_with(stream_id, $3 || '-')) \
           and ($4::text is null or event_type = $4) \
           and ($5::timestamptz is null or recorded_at >= $5) \
           and ($6::timestamptz is null or recorded_at < $6) \
           and ($7::text is null or metadata->>'correlation_id' = $7) \
           and ($8::text is null or metadata->>'causation_id' = $8) \
           and {order} limit $9"
    );
    let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(commit)
        .bind(prepare)
        .bind(filter.category.as_deref())
        .bind(filter.event_type.as_deref())
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.correlation_id.map(|u| u.to_string()))
        .bind(filter.causation_id.map(|u| u.to_string()))
        .bind(clamp_limit(limit))
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
    rows.into_iter().map(RecordedEvent::try_from).collect()
}
