//! The `search` read model (ADR 0007): the search log's intervals, from several gateways'
//! streams, folded into one row per query; and a rebuild equals the live build.

mod common;

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use commands::handler::CommandHandler;
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use common::{all_events, meta};
use domain::search::{QueryCount, SearchCommand, SearchLog};
use projections::search::SearchProjection;
use projections::Runner;
use sqlx::PgPool;
use uuid::Uuid;

fn count(query: &str, searches: u64, zero_results: u64, last_results: u64) -> QueryCount {
    QueryCount {
        query: query.into(),
        searches,
        zero_results,
        last_results,
    }
}

async fn dump(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("select t::text from search.queries t order by 1")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn intervals_of_several_gateways_fold_per_query_and_rebuild_the_same(pool: PgPool) {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let log: CommandHandler<SearchLog> = CommandHandler::new(store.clone(), 10);
    let (one, two) = (Uuid::new_v4(), Uuid::new_v4());
    let t0 = Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, 0).unwrap();
    let intervals = [
        (
            one,
            0,
            vec![count("mug", 3, 0, 4), count("unicorn", 1, 1, 0)],
        ),
        (two, 1, vec![count("mug", 2, 1, 0), count("tent", 1, 0, 2)]),
        (one, 2, vec![count("unicorn", 2, 2, 0)]),
    ];
    for (gateway, n, queries) in intervals {
        log.handle(
            &CommandHandler::<SearchLog>::stream_id(gateway),
            SearchCommand::RecordQueries {
                queries,
                from: t0 + Duration::seconds(5 * n),
                to: t0 + Duration::seconds(5 * n + 5),
            },
            meta(),
        )
        .await
        .unwrap();
    }
    let events = all_events(&*store, 3).await;
    let runner = Runner::new(store.clone(), pool.clone(), Arc::new(SearchProjection));
    for batch in events.chunks(1) {
        runner.apply_batch(batch).await.unwrap();
    }
    let rows: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "select query, searches, zero_result_searches, last_results,
                extract(epoch from first_searched_at - $1)::bigint,
                extract(epoch from last_searched_at - $1)::bigint
           from search.queries order by searches desc, query",
    )
    .bind(t0)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            ("mug".to_owned(), 5, 1, 0, 5, 10),
            ("unicorn".to_owned(), 3, 3, 0, 5, 15),
            ("tent".to_owned(), 1, 0, 2, 10, 10),
        ]
    );
    let live = dump(&pool).await;
    projections::rebuild::rebuild(
        store.clone(),
        &pool,
        Arc::new(SearchProjection),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(dump(&pool).await, live, "rebuilt vs live");
}
