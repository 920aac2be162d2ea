//! [`Recorder`]: the searches this gateway answered, counted in memory per normalised
//! query (ADR 0007). A search only notes itself here, under a lock held for a map update;
//! the search log's task ([`super::log`]) takes the counts and appends them as one event
//! per interval, or earlier when the buffer fills. It imports nothing of the gateway, so
//! `AppState` can hold it.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use domain::search::{normalise, QueryCount};
use tokio::sync::Notify;
use uuid::Uuid;

struct Counts {
    since: DateTime<Utc>,
    queries: HashMap<String, QueryCount>,
    /// Searches of new queries not counted because the buffer was full twice over.
    dropped: u64,
}

/// One interval's counts, taken to be recorded.
pub struct Interval {
    pub queries: Vec<QueryCount>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub dropped: u64,
}

pub struct Recorder {
    /// This process's search log stream: `search-<log>`.
    pub log: Uuid,
    /// Distinct queries that make the buffer full.
    capacity: usize,
    counts: Mutex<Counts>,
    /// Told when the buffer fills.
    pub full: Notify,
}

impl Recorder {
    pub fn new(capacity: usize) -> Recorder {
        Recorder {
            log: Uuid::new_v4(),
            capacity: capacity.max(1),
            counts: Mutex::new(Counts {
                since: Utc::now(),
                queries: HashMap::new(),
                dropped: 0,
            }),
            full: Notify::new(),
        }
    }

    /// Counts one search of `raw` that found `results`. Never waits on IO.
    pub fn note(&self, raw: &str, results: u64) {
        let Some(query) = normalise(raw) else {
            return;
        };
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let len = c.queries.len();
        // Until the task takes the counts, a full buffer keeps counting the queries it
        // holds and, past twice its size, drops new ones rather than grow without bound.
        if len >= 2 * self.capacity && !c.queries.contains_key(&query) {
            c.dropped += 1;
            return;
        }
        let entry = c.queries.entry(query.clone()).or_insert(QueryCount {
            query,
            searches: 0,
            zero_results: 0,
            last_results: 0,
        });
        entry.searches += 1;
        entry.zero_results += u64::from(results == 0);
        entry.last_results = results;
        let filled = c.queries.len() >= self.capacity;
        drop(c);
        if filled {
            self.full.notify_one();
        }
    }

    /// Takes the counts so far, leaving an empty buffer; `None` when there are none.
    pub fn take(&self) -> Option<Interval> {
        let now = Utc::now();
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let from = std::mem::replace(&mut c.since, now);
        let dropped = std::mem::take(&mut c.dropped);
        if c.queries.is_empty() {
            return None;
        }
        let mut queries: Vec<QueryCount> = c.queries.drain().map(|(_, q)| q).collect();
        drop(c);
        queries.sort_by(|a, b| a.query.cmp(&b.query));
        Some(Interval {
            queries,
            from,
            to: now.max(from),
            dropped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_normalised_query_and_empties_when_taken() {
        let r = Recorder::new(10);
        r.note("Red  Shoe", 3);
        r.note("red shoe", 0);
        r.note("  ", 0);
        let i = r.take().unwrap();
        assert_eq!(i.queries.len(), 1);
        let q = &i.queries[0];
        assert_eq!(
            (q.query.as_str(), q.searches, q.zero_results, q.last_results),
            ("red shoe", 2, 1, 0)
        );
        assert!(r.take().is_none());
    }

    #[test]
    fn a_full_buffer_drops_new_queries_past_twice_its_size() {
        let r = Recorder::new(2);
        for q in ["a", "b", "c", "d", "e"] {
            r.note(q, 1);
        }
        r.note("a", 1);
        let i = r.take().unwrap();
        assert_eq!(i.queries.len(), 4);
        assert_eq!(i.dropped, 1);
        assert_eq!(i.queries[0].searches, 2);
    }
}
