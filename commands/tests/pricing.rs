//! The price rules' use cases against a real PostgreSQL store: a rule's life as events
//! with their actor, a scope naming nothing refused with nothing written, the scheduler's
//! tick repeated without a second event.

use std::sync::Arc;

use chrono::{Duration, Utc};
use commands::handler::{Actor, CommandMeta};
use commands::handlers::Handlers;
use commands::pricing::{self, PricingUseError};
use commands::store::postgres::PgEventStore;
use commands::store::{Direction, EventStore, ReadFrom};
use domain::id::ProductId;
use domain::pricing::{Adjustment, PriceRuleTerms, RuleStatus, Scope, Segment, Window};
use sqlx::PgPool;
use uuid::Uuid;

fn staff() -> CommandMeta {
    CommandMeta::new(
        Uuid::new_v4(),
        Uuid::new_v4(),
        Actor {
            user_id: Some(Uuid::from_u128(42)),
            role: "admin".into(),
        },
        Utc::now(),
    )
}

fn handlers(pool: &PgPool) -> Arc<Handlers> {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let master = commands::privacy::MasterKey::from_bytes([7; 32]);
    let keys = Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None));
    Handlers::new(&store, keys, 1_000)
}

fn terms(window: Window) -> PriceRuleTerms {
    PriceRuleTerms {
        name: "winter sale".into(),
        scope: Scope::Store,
        adjustment: Adjustment::PercentOff {
            basis_points: 1_500,
        },
        window,
        priority: 0,
        stacks: true,
        segment: Segment::All,
    }
}

async fn events(h: &Handlers, rule: Uuid) -> Vec<(String, Option<Uuid>)> {
    let stream = format!("price_rule-{rule}");
    h.store
        .read_stream(&stream, ReadFrom::End, Direction::Forwards, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.event_type,
                e.metadata["actor_id"].as_str().map(|u| u.parse().unwrap()),
            )
        })
        .collect()
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_rule_is_scheduled_activated_and_expired_each_step_an_event_with_its_actor(pool: PgPool) {
    let h = handlers(&pool);
    let start = Utc::now() + Duration::hours(1);
    let window = Window {
        starts_at: Some(start),
        ends_at: Some(start + Duration::hours(1)),
    };
    let created = pricing::create_rule(&h, terms(window), true, &staff())
        .await
        .unwrap();
    let id = created.rule_id;
    assert_eq!(created.state.status, RuleStatus::Scheduled);

    // The scheduler's ticks: nothing before the start, one event at it, none repeated.
    // Each tick is its own command: a repeated command id would be taken for a retry.
    let ticks: Vec<CommandMeta> = (0..4).map(|_| staff()).collect();
    let tick = |n: usize, at| pricing::tick_rule(&h, id, at, &ticks[n]);
    assert!(tick(0, Utc::now()).await.unwrap().position.is_none());
    assert_eq!(
        tick(1, start).await.unwrap().state.status,
        RuleStatus::Active
    );
    assert!(tick(2, start).await.unwrap().position.is_none());
    let expired = tick(3, start + Duration::hours(1)).await.unwrap();
    assert_eq!(expired.state.status, RuleStatus::Expired);

    let changed = pricing::update_rule(&h, id, terms(Window::default()), &staff())
        .await
        .unwrap();
    assert_eq!(changed.state.rule.as_ref().unwrap().version, 2);
    assert_eq!(changed.state.status, RuleStatus::Active);
    pricing::disable_rule(&h, id, &staff()).await.unwrap();

    let log = events(&h, id).await;
    let types: Vec<&str> = log.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "PriceRuleCreated",
            "PriceRuleActivated",
            "PriceRuleExpired",
            "PriceRuleUpdated",
            "PriceRuleDisabled"
        ]
    );
    assert!(log
        .iter()
        .all(|(_, actor)| *actor == Some(Uuid::from_u128(42))));
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn bad_terms_an_unknown_product_and_an_unknown_rule_are_refused_with_nothing_written(
    pool: PgPool,
) {
    let h = handlers(&pool);
    let mut bad = terms(Window::default());
    bad.adjustment = Adjustment::PercentOff { basis_points: 0 };
    match pricing::create_rule(&h, bad, false, &staff()).await {
        Err(PricingUseError::Invalid { field, .. }) => assert_eq!(field, "adjustment.basis_points"),
        other => panic!("expected invalid terms, got {other:?}"),
    }
    let mut nowhere = terms(Window::default());
    nowhere.scope = Scope::Product {
        product_id: ProductId::new(Uuid::new_v4()),
    };
    match pricing::create_rule(&h, nowhere, false, &staff()).await {
        Err(PricingUseError::Invalid { field, message }) => {
            assert_eq!(
                (field.as_str(), message.as_str()),
                ("scope", "no such product")
            )
        }
        other => panic!("expected an unknown product, got {other:?}"),
    }
    let all = h
        .store
        .read_all(commands::store::Position::START, 100)
        .await
        .unwrap();
    assert!(all.iter().all(|e| !e.stream_id.starts_with("price_rule-")));
    assert!(matches!(
        pricing::enable_rule(&h, Uuid::new_v4(), &staff()).await,
        Err(PricingUseError::NotFound)
    ));
}
