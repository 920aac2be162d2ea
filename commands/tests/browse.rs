//! The console's reads of the log (issue 25): stream search and filtered reads of `$all`
//! either way. The PostgreSQL adapter answers them in SQL; the port's defaults (what the
//! EventStoreDB adapter uses) answer them by scanning. Both must answer the same, and
//! pages cut at positions must meet every event once.

use async_trait::async_trait;
use commands::store::postgres::PgEventStore;
use commands::store::{
    AllRead, AppendResult, Direction, EventFilter, EventStore, ExpectedVersion, NewEvent, Position,
    ReadFrom, RecordedEvent, StoreError, StreamFilter, StreamInfo, SubscriptionStream,
};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

/// The PostgreSQL store with only the port's required methods: its browsing is the
/// port's scanning defaults.
struct Scanning(PgEventStore);

#[async_trait]
impl EventStore for Scanning {
    async fn append(
        &self,
        stream_id: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult, StoreError> {
        self.0.append(stream_id, expected, events).await
    }
    async fn read_stream(
        &self,
        stream_id: &str,
        from: ReadFrom,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.0.read_stream(stream_id, from, direction, limit).await
    }
    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.0.read_all(after, limit).await
    }
    async fn subscribe_all(&self, after: Position) -> Result<SubscriptionStream, StoreError> {
        self.0.subscribe_all(after).await
    }
    async fn head_position(&self) -> Result<Position, StoreError> {
        self.0.head_position().await
    }
    async fn list_streams(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StreamInfo>, StoreError> {
        self.0.list_streams(prefix, after, limit).await
    }
}

fn event(event_type: &str, correlation: Uuid) -> NewEvent {
    NewEvent {
        id: Uuid::new_v4(),
        event_type: event_type.into(),
        schema_version: 1,
        data: json!({}),
        metadata: json!({ "correlation_id": correlation, "causation_id": Uuid::new_v4() }),
    }
}

/// Three orders and two products, their events under two correlations.
async fn a_small_log(store: &dyn EventStore) -> (Uuid, Uuid) {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    for (i, stream) in ["order-1", "order-2", "product-1", "order-3", "product-2"]
        .iter()
        .enumerate()
    {
        let correlation = if i % 2 == 0 { a } else { b };
        let kind = if stream.starts_with("order") {
            "Order"
        } else {
            "Product"
        };
        store
            .append(
                stream,
                ExpectedVersion::Any,
                vec![
                    event(&format!("{kind}Created"), correlation),
                    event(&format!("{kind}Changed"), correlation),
                ],
            )
            .await
            .unwrap();
    }
    // A stream whose id holds the category's name without being of it.
    let last = store
        .append("orderly-1", ExpectedVersion::Any, vec![event("Tidied", a)])
        .await
        .unwrap();
    // `$all` is read below the oldest transaction open in the whole cluster, which other
    // tests' may hold back for a moment: wait until the log is readable to its end.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while store.head_position().await.unwrap() < last.position {
        assert!(
            std::time::Instant::now() < deadline,
            "the log never became readable"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    (a, b)
}

fn ids(events: &[RecordedEvent]) -> Vec<Uuid> {
    events.iter().map(|e| e.id).collect()
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn sql_and_scanning_answer_the_same_filtered_reads(pool: PgPool) {
    let sql = PgEventStore::new(pool.clone());
    let scanning = Scanning(PgEventStore::new(pool));
    let (a, _) = a_small_log(&sql).await;
    let head = sql.head_position().await.unwrap();
    let filters = [
        EventFilter::default(),
        EventFilter {
            category: Some("order".into()),
            ..Default::default()
        },
        EventFilter {
            event_type: Some("ProductChanged".into()),
            ..Default::default()
        },
        EventFilter {
            correlation_id: Some(a),
            category: Some("order".into()),
            ..Default::default()
        },
    ];
    for filter in &filters {
        for from in [
            AllRead::Backwards { before: None },
            AllRead::Backwards { before: Some(head) },
            AllRead::Forwards {
                after: Position::START,
            },
        ] {
            for limit in [1, 3, 100] {
                let by_sql = sql.read_all_filtered(filter, from, limit).await.unwrap();
                let by_scan = scanning
                    .read_all_filtered(filter, from, limit)
                    .await
                    .unwrap();
                assert_eq!(ids(&by_sql), ids(&by_scan), "{filter:?} {from:?} {limit}");
                assert!(by_sql.len() <= limit);
                assert!(by_sql.iter().all(|e| filter.matches(e)));
            }
        }
    }
    let orders = sql
        .read_all_filtered(&filters[1], AllRead::Backwards { before: None }, 100)
        .await
        .unwrap();
    assert_eq!(orders.len(), 6, "order-1..3, not orderly-1");
    assert!(
        orders.windows(2).all(|w| w[0].position > w[1].position),
        "newest first"
    );

    for filter in [
        StreamFilter::default(),
        StreamFilter {
            category: Some("order".into()),
            ..Default::default()
        },
        StreamFilter {
            id_pattern: Some("ORDER".into()),
            ..Default::default()
        },
        StreamFilter {
            id_pattern: Some("*-2".into()),
            ..Default::default()
        },
        StreamFilter {
            active_since: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            ..Default::default()
        },
    ] {
        let by_sql = sql.search_streams(&filter, None, 100).await.unwrap();
        let by_scan = scanning.search_streams(&filter, None, 100).await.unwrap();
        let names = |s: &[StreamInfo]| s.iter().map(|s| s.stream_id.clone()).collect::<Vec<_>>();
        assert_eq!(names(&by_sql), names(&by_scan), "{filter:?}");
    }
    let pattern = StreamFilter {
        id_pattern: Some("*-2".into()),
        ..Default::default()
    };
    let ending = sql.search_streams(&pattern, None, 100).await.unwrap();
    let ending: Vec<_> = ending.iter().map(|s| s.stream_id.as_str()).collect();
    assert_eq!(ending, ["order-2", "product-2"]);
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn pages_cut_at_positions_meet_every_event_once_either_way(pool: PgPool) {
    let store = PgEventStore::new(pool);
    a_small_log(&store).await;
    let filter = EventFilter::default();
    let everything = store
        .read_all_filtered(&filter, AllRead::Backwards { before: None }, 1000)
        .await
        .unwrap();
    assert_eq!(everything.len(), 11);
    // Backwards, two at a time, each page before the last one's oldest event…
    let mut walked = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .read_all_filtered(&filter, AllRead::Backwards { before }, 2)
            .await
            .unwrap();
        let Some(oldest) = page.last() else { break };
        before = Some(oldest.position);
        walked.extend(ids(&page));
    }
    assert_eq!(walked, ids(&everything));
    // …and forwards, three at a time, after the last one's newest.
    let mut forwards = Vec::new();
    let mut after = Position::START;
    loop {
        let page = store
            .read_all_filtered(&filter, AllRead::Forwards { after }, 3)
            .await
            .unwrap();
        let Some(newest) = page.last() else { break };
        after = newest.position;
        forwards.extend(ids(&page));
    }
    forwards.reverse();
    assert_eq!(forwards, walked);
}
