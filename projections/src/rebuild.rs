//! Rebuild of a read model from the event store (never from NATS), without downtime.
//!
//! The projection replays `$all` into a shadow schema (`<schema>__rebuild`) under its own
//! checkpoint (`<name>#rebuild`) while the live schema keeps serving queries and keeps
//! following `$all`. Once the shadow is near the head, one transaction takes the live
//! projection's lock (its runner waits), applies the last events to the shadow, renames
//! the live schema away and the shadow into its place, drops the old one and moves the
//! live checkpoint to the shadow's. The runner then resumes on the new tables: whatever it
//! had in hand is at or below the new checkpoint and skipped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use commands::store::{EventStore, Position};
use sqlx::PgPool;

use crate::checkpoint;
use crate::runtime::batch::{apply_in, begin_batch, Target};
use crate::runtime::projection::{Projection, ProjectionError};
use crate::runtime::schema::create_tables;

/// Reports progress after each page.
pub type OnProgress<'a> = &'a mut (dyn FnMut(&Progress) + Send);

/// Events read from the store per page (and applied per transaction).
const PAGE: usize = 2_000;

/// How far a rebuild has come, reported after each page.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub events: u64,
    pub position: Position,
    /// The store's head when the rebuild started: the bulk of the work.
    pub head: Position,
    pub elapsed: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub events: u64,
    pub position: Position,
    pub elapsed: Duration,
}

impl Report {
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A fresh schema for a replay: dropped if left over, created from the projection's DDL,
/// its checkpoint `key` at the start.
async fn fresh_schema(
    pool: &PgPool,
    projection: &dyn Projection,
    schema: &str,
    key: &str,
) -> Result<(), ProjectionError> {
    let mut tx = pool.begin().await?;
    checkpoint::lock(&mut tx, key).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop schema if exists {} cascade",
        quoted(schema)
    )))
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from projections.parked where projection = $1")
        .bind(key)
        .execute(&mut *tx)
        .await?;
    create_tables(&mut tx, schema, projection.tables()).await?;
    checkpoint::set(&mut tx, key, Position::START, 0, projection.tables(), None).await?;
    tx.commit().await?;
    Ok(())
}

/// Applies `page` to `target` in a transaction of its own, parking poison.
async fn apply_page(
    pool: &PgPool,
    projection: &dyn Projection,
    target: Target<'_>,
    page: &[commands::store::RecordedEvent],
    attempts: &mut HashMap<uuid::Uuid, u32>,
) -> Result<(), ProjectionError> {
    loop {
        let mut tx = begin_batch(pool, target).await?;
        match apply_in(&mut tx, projection, target, page, attempts, None, 0).await {
            Ok(_) => {
                tx.commit().await?;
                return Ok(());
            }
            // The failing event is now known: the next try parks it if it fails again.
            Err(e) if e.is_deterministic() && !attempts.is_empty() => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Replays `$all` after `from` into `target`, page by page, up to and including `until`
/// (or while pages come back full, when `until` is `None`: the caller takes the tail).
#[allow(clippy::too_many_arguments)]
async fn fill(
    store: &dyn EventStore,
    pool: &PgPool,
    projection: &dyn Projection,
    target: Target<'_>,
    mut at: Position,
    until: Option<Position>,
    started: Instant,
    on_progress: OnProgress<'_>,
) -> Result<(Position, u64), ProjectionError> {
    let head = match until {
        Some(p) => p,
        None => store.head_position().await?,
    };
    let mut attempts = HashMap::new();
    let mut events = 0u64;
    let mut next = store.read_all(at, PAGE).await?;
    loop {
        let mut page = std::mem::take(&mut next);
        let full = page.len() == PAGE;
        if let Some(until) = until {
            page.retain(|e| e.position <= until);
        } else if !full {
            return Ok((at, events));
        }
        if page.is_empty() {
            return Ok((at, events));
        }
        at = page.last().expect("not empty").position;
        // The next page is read while this one is applied: the store and the read model
        // are on different connections, so a rebuild costs the slower of the two.
        let more = full && until.is_none_or(|u| at < u);
        let (applied, read) = tokio::join!(
            apply_page(pool, projection, target, &page, &mut attempts),
            async {
                if more {
                    store.read_all(at, PAGE).await
                } else {
                    Ok(Vec::new())
                }
            }
        );
        applied?;
        next = read?;
        events += page.len() as u64;
        on_progress(&Progress {
            events,
            position: at,
            head,
            elapsed: started.elapsed(),
        });
        if until.is_some_and(|u| at >= u) || !full {
            return Ok((at, events));
        }
    }
}

/// Rebuilds `projection` from the whole of `$all` and swaps the result in.
pub async fn rebuild(
    store: Arc<dyn EventStore>,
    pool: &PgPool,
    projection: Arc<dyn Projection>,
    on_progress: OnProgress<'_>,
) -> Result<Report, ProjectionError> {
    let started = Instant::now();
    let name = projection.name();
    let schema = projection.schema();
    let shadow = format!("{schema}__rebuild");
    let key = format!("{name}#rebuild");
    let target = Target {
        schema: &shadow,
        key: &key,
    };
    fresh_schema(pool, &*projection, &shadow, &key).await?;
    // The bulk, page by page, while the live read model serves.
    let (mut at, mut events) = fill(
        &*store,
        pool,
        &*projection,
        target,
        Position::START,
        None,
        started,
        on_progress,
    )
    .await?;

    // The tail and the swap, in one transaction that holds the live projection's lock.
    let mut attempts = HashMap::new();
    loop {
        let mut tx = begin_batch(pool, target).await?;
        checkpoint::lock(&mut tx, name).await?;
        let mut failed = None;
        let mut pos = at;
        let mut tail = 0u64;
        loop {
            let page = store.read_all(pos, PAGE).await?;
            if let Err(e) =
                apply_in(&mut tx, &*projection, target, &page, &mut attempts, None, 0).await
            {
                failed = Some(e);
                break;
            }
            tail += page.len() as u64;
            if let Some(last) = page.last() {
                pos = last.position;
            }
            if page.len() < PAGE {
                break;
            }
        }
        if let Some(e) = failed {
            drop(tx);
            if !e.is_deterministic() || attempts.is_empty() {
                return Err(e);
            }
            continue;
        }
        swap(&mut tx, &*projection, &shadow, &key, pos).await?;
        tx.commit().await?;
        at = pos;
        events += tail;
        break;
    }
    let report = Report {
        events,
        position: at,
        elapsed: started.elapsed(),
    };
    on_progress(&Progress {
        events,
        position: at,
        head: at,
        elapsed: report.elapsed,
    });
    tracing::info!(projection = name, events, elapsed = ?report.elapsed, "rebuilt and swapped in");
    Ok(report)
}

/// Puts the shadow schema in the live one's place and its checkpoint (and parked events)
/// in the live one's.
async fn swap(
    tx: &mut sqlx::PgConnection,
    projection: &dyn Projection,
    shadow: &str,
    key: &str,
    at: Position,
) -> Result<(), ProjectionError> {
    let (name, schema) = (projection.name(), projection.schema());
    let (applied, last_event_at): (i64, Option<chrono::DateTime<chrono::Utc>>) = sqlx::query_as(
        "select events_applied, last_event_at from projections.checkpoints where projection = $1",
    )
    .bind(key)
    .fetch_one(&mut *tx)
    .await?;
    let old = format!("{schema}__old");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop schema if exists {} cascade",
        quoted(&old)
    )))
    .execute(&mut *tx)
    .await?;
    let live_exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_namespace where nspname = $1)")
            .bind(schema)
            .fetch_one(&mut *tx)
            .await?;
    if live_exists {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "alter schema {} rename to {}",
            quoted(schema),
            quoted(&old)
        )))
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "alter schema {} rename to {}",
        quoted(shadow),
        quoted(schema)
    )))
    .execute(&mut *tx)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop schema if exists {} cascade",
        quoted(&old)
    )))
    .execute(&mut *tx)
    .await?;
    checkpoint::set(tx, name, at, applied, projection.tables(), last_event_at).await?;
    sqlx::query("delete from projections.checkpoints where projection = $1")
        .bind(key)
        .execute(&mut *tx)
        .await?;
    sqlx::query("delete from projections.parked where projection = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    sqlx::query("update projections.parked set projection = $1 where projection = $2")
        .bind(name)
        .bind(key)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// One table's fingerprint: its row count and the md5 of its rows, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableChecksum {
    pub table: String,
    pub rows: i64,
    /// Over every column: what live and replayed tables of one store must share.
    pub md5: String,
    /// Without the projection's store-local columns: what the same log must give in any
    /// store (say after `umctl export` and `import`).
    pub portable_md5: String,
}

/// Fingerprints every table of `schema`, in name order, leaving `local` columns out of
/// the portable checksum.
pub async fn checksums(
    conn: &mut sqlx::PgConnection,
    schema: &str,
    local: &[&str],
) -> Result<Vec<TableChecksum>, ProjectionError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "select tablename::text from pg_tables where schemaname = $1 order by tablename",
    )
    .bind(schema)
    .fetch_all(&mut *conn)
    .await?;
    let local: Vec<String> = local.iter().map(|c| (*c).to_owned()).collect();
    let mut out = Vec::with_capacity(tables.len());
    for table in tables {
        let (rows, md5, portable): (i64, Option<String>, Option<String>) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "with r as (select t::text as full_row, (to_jsonb(t) - $1::text[])::text as portable
                          from {}.{} t)
             select count(*),
                    md5(string_agg(full_row, E'\\n' order by full_row)),
                    md5(string_agg(portable, E'\\n' order by portable))
               from r",
            quoted(schema),
            quoted(&table)
        )))
            .bind(&local)
            .fetch_one(&mut *conn)
            .await?;
        out.push(TableChecksum {
            table,
            rows,
            md5: md5.unwrap_or_else(|| "empty".into()),
            portable_md5: portable.unwrap_or_else(|| "empty".into()),
        });
    }
    Ok(out)
}

/// What [`verify`] found: a fresh replay's fingerprints and, when the read model exists,
/// the live tables' at the same position.
#[derive(Debug, Clone)]
pub struct Verification {
    pub position: Position,
    /// `None` when this database has no live tables of the read model.
    pub live: Option<Vec<TableChecksum>>,
    pub replayed: Vec<TableChecksum>,
}

impl Verification {
    /// Whether the live tables equal the replay (true when there are none to compare).
    pub fn matches(&self) -> bool {
        self.live.as_ref().is_none_or(|live| *live == self.replayed)
    }
}

/// Replays `projection` from the store into a scratch schema up to the live checkpoint and
/// compares every table with the live one. The live runner waits only while the live
/// tables are fingerprinted. Without live tables, the replay runs to the store's head.
pub async fn verify(
    store: Arc<dyn EventStore>,
    pool: &PgPool,
    projection: Arc<dyn Projection>,
    on_progress: OnProgress<'_>,
) -> Result<Verification, ProjectionError> {
    let started = Instant::now();
    let (name, schema) = (projection.name(), projection.schema());
    let (position, live) = {
        let mut tx = pool.begin().await?;
        checkpoint::lock(&mut tx, name).await?;
        let exists: bool =
            sqlx::query_scalar("select exists (select 1 from pg_namespace where nspname = $1)")
                .bind(schema)
                .fetch_one(&mut *tx)
                .await?;
        let found = if exists {
            let position = checkpoint::position_in(&mut *tx, name).await?;
            let live = checksums(&mut tx, schema, projection.store_local_columns()).await?;
            (position, Some(live))
        } else {
            (store.head_position().await?, None)
        };
        tx.commit().await?;
        found
    };
    let scratch = format!("{schema}__verify");
    let key = format!("{name}#verify");
    fresh_schema(pool, &*projection, &scratch, &key).await?;
    let target = Target {
        schema: &scratch,
        key: &key,
    };
    let replay = async {
        fill(
            &*store,
            pool,
            &*projection,
            target,
            Position::START,
            Some(position),
            started,
            on_progress,
        )
        .await?;
        let mut conn = pool.acquire().await?;
        checksums(&mut conn, &scratch, projection.store_local_columns()).await
    }
    .await;
    let mut tx = pool.begin().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop schema if exists {} cascade",
        quoted(&scratch)
    )))
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from projections.checkpoints where projection = $1")
        .bind(&key)
        .execute(&mut *tx)
        .await?;
    sqlx::query("delete from projections.parked where projection = $1")
        .bind(&key)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Verification {
        position,
        live,
        replayed: replay?,
    })
}
