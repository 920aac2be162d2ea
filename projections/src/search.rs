//! The `search` read model (ADR 0007): top queries and queries that found nothing, folded
//! from the `SearchQueriesRecorded` events of the `search-<gateway>` streams.
//!
//! One upsert per event adds its counts to each query's row; every value comes from the
//! event (its interval's end is the time), so a rebuild equals the live build.

use async_trait::async_trait;
use commands::store::RecordedEvent;
use domain::search::SearchEvent;
use sqlx::PgConnection;

use crate::runtime::projection::{decode, Projection, ProjectionError};

pub struct SearchProjection;

#[async_trait]
impl Projection for SearchProjection {
    fn name(&self) -> &'static str {
        "search"
    }

    fn schema(&self) -> &'static str {
        "search"
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        event.category() == "search"
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/search.sql")
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let SearchEvent::SearchQueriesRecorded { queries, to, .. } = decode::<SearchEvent>(event)?;
        let queries =
            serde_json::to_value(&queries).map_err(|e| ProjectionError::event(event, e))?;
        sqlx::query(
            "insert into queries as q (query, searches, zero_result_searches, last_results,
                 first_searched_at, last_searched_at)
             select query, sum(searches)::bigint, sum(zero_results)::bigint,
                    (array_agg(last_results))[1], $2, $2
               from jsonb_to_recordset($1) as r(query text, searches bigint,
                                                zero_results bigint, last_results bigint)
              group by query
             on conflict (query) do update set
                 searches = q.searches + excluded.searches,
                 zero_result_searches = q.zero_result_searches + excluded.zero_result_searches,
                 last_results = excluded.last_results,
                 last_searched_at = greatest(q.last_searched_at, excluded.last_searched_at)",
        )
        .bind(queries)
        .bind(to)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}
