//! The search log's use case (ADR 0007): a gateway records the searches it answered in an
//! interval, counted per normalised query, as one event in its own stream
//! (`search-<gateway id>`). Never called on a search's path: the gateway's recorder calls
//! it from a background task.

use domain::search::{QueryCount, SearchCommand, SearchError, SearchLog};
use uuid::Uuid;

use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::{Position, StoreError};

/// Why recording did not go through.
#[derive(Debug, thiserror::Error)]
pub enum SearchUseError {
    /// Counts the rules refuse (not normalised, too many).
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Store(StoreError),
    /// The command handler failed otherwise (contention, shutdown).
    #[error("{0}")]
    Failed(String),
}

impl From<CommandError<SearchError>> for SearchUseError {
    fn from(e: CommandError<SearchError>) -> Self {
        match e {
            CommandError::Rejected(SearchError::Invalid { field, message }) => {
                SearchUseError::Invalid { field, message }
            }
            CommandError::Store(e) => SearchUseError::Store(e),
            other => SearchUseError::Failed(other.to_string()),
        }
    }
}

/// Records one interval's counts in the stream of the search log `log` (one per gateway
/// process). Nothing is appended for an empty interval.
#[tracing::instrument(skip_all, err)]
pub async fn record_queries(
    handlers: &Handlers,
    log: Uuid,
    queries: Vec<QueryCount>,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
    meta: &CommandMeta,
) -> Result<Option<Position>, SearchUseError> {
    let handled = handlers
        .search
        .handle(
            &CommandHandler::<SearchLog>::stream_id(log),
            SearchCommand::RecordQueries { queries, from, to },
            meta.clone(),
        )
        .await?;
    Ok(handled.position)
}
