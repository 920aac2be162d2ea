//! Search: the log of what shoppers searched for ([ADR 0007]).
//!
//! A search is a read and appends nothing on its path. Each gateway counts the searches it
//! answers in memory, per normalised query text, and now and then records the counts as one
//! [`SearchEvent::SearchQueriesRecorded`] in a stream of its own (a [`SearchLog`] per
//! gateway process), so gateways never contend for one stream. The text of a query is not
//! personal data: no actor is stored with it.
//!
//! [ADR 0007]: ../../docs/adr/0007-search-on-postgresql.md

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Upcast};

/// The most distinct queries one event records.
pub const MAX_QUERIES: usize = 1_000;
/// The longest query text kept, in characters (longer ones are cut by [`normalise`]).
pub const MAX_QUERY: usize = 200;

/// A query as the log counts it: trimmed, lower-cased, runs of white space as one space,
/// at most [`MAX_QUERY`] characters. `None` when nothing is left.
pub fn normalise(raw: &str) -> Option<String> {
    let text = raw
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_QUERY)
        .collect::<String>();
    let text = text.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// How often one query was searched in an interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct QueryCount {
    /// The normalised text.
    pub query: String,
    /// Searches of it in the interval (at least 1).
    pub searches: u64,
    /// How many of them found nothing.
    pub zero_results: u64,
    /// How many results the last of them found.
    pub last_results: u64,
}

/// One gateway's search log.
pub struct SearchLog;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchCommand {
    /// Records the counts of an interval.
    RecordQueries {
        queries: Vec<QueryCount>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum SearchEvent {
    /// The searches one gateway answered between `from` and `to`, counted per query.
    SearchQueriesRecorded {
        queries: Vec<QueryCount>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

crate::domain_event!(SearchEvent {
    SearchQueriesRecorded
});
impl Upcast for SearchEvent {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchLogState {
    /// Intervals recorded so far.
    pub intervals: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

fn invalid(field: &'static str, message: impl Into<String>) -> SearchError {
    SearchError::Invalid {
        field,
        message: message.into(),
    }
}

impl Aggregate for SearchLog {
    const CATEGORY: &'static str = "search";
    type State = SearchLogState;
    type Command = SearchCommand;
    type Event = SearchEvent;
    type Error = SearchError;

    fn decide(_: &SearchLogState, cmd: &SearchCommand) -> Result<Vec<SearchEvent>, SearchError> {
        match cmd {
            SearchCommand::RecordQueries { queries, from, to } => {
                if queries.is_empty() {
                    return Ok(vec![]);
                }
                if queries.len() > MAX_QUERIES {
                    return Err(invalid(
                        "queries",
                        format!("at most {MAX_QUERIES} per interval"),
                    ));
                }
                if to < from {
                    return Err(invalid("to", "must not be before from"));
                }
                for q in queries {
                    if normalise(&q.query).as_deref() != Some(q.query.as_str()) {
                        return Err(invalid("query", "must be normalised text"));
                    }
                    if q.searches == 0 || q.zero_results > q.searches {
                        return Err(invalid(
                            "searches",
                            "at least 1, and no fewer than zero_results",
                        ));
                    }
                }
                Ok(vec![SearchEvent::SearchQueriesRecorded {
                    queries: queries.clone(),
                    from: *from,
                    to: *to,
                }])
            }
        }
    }

    fn evolve(state: SearchLogState, event: &SearchEvent) -> SearchLogState {
        match event {
            SearchEvent::SearchQueriesRecorded { .. } => SearchLogState {
                intervals: state.intervals + 1,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(query: &str, searches: u64, zero: u64) -> QueryCount {
        QueryCount {
            query: query.into(),
            searches,
            zero_results: zero,
            last_results: 0,
        }
    }

    #[test]
    fn normalising_trims_folds_case_and_spaces() {
        assert_eq!(normalise("  Red   SHOE\t"), Some("red shoe".into()));
        assert_eq!(normalise(" \n "), None);
        assert_eq!(normalise(&"x".repeat(500)).unwrap().len(), MAX_QUERY);
    }

    #[test]
    fn an_interval_is_recorded_and_bad_counts_refused() {
        let now = Utc::now();
        let cmd = |q| SearchCommand::RecordQueries {
            queries: q,
            from: now,
            to: now,
        };
        let s = SearchLogState::default();
        assert_eq!(
            SearchLog::decide(&s, &cmd(vec![count("shoe", 2, 1)]))
                .unwrap()
                .len(),
            1
        );
        assert!(SearchLog::decide(&s, &cmd(vec![])).unwrap().is_empty());
        assert!(SearchLog::decide(&s, &cmd(vec![count("Shoe", 1, 0)])).is_err());
        assert!(SearchLog::decide(&s, &cmd(vec![count("shoe", 1, 2)])).is_err());
        assert!(SearchLog::decide(&s, &cmd(vec![count("shoe", 0, 0)])).is_err());
    }
}
