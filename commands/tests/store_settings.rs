//! The store's settings, configuration keys and menus (issue 22 items 5 and 6) against a
//! real PostgreSQL store: what a change appends (and that a repeat appends nothing), that
//! a second set of handlers (another process) reads it, the actor on every event, and a
//! menu's links checked against the catalog on the write side.

use std::sync::Arc;

use chrono::Utc;
use commands::configuration::{self, ConfigUseError};
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::handlers::Handlers;
use commands::navigation::{self, NavigationUseError};
use commands::shop::{self, ShopError};
use commands::store::postgres::PgEventStore;
use commands::store::{Direction, EventStore, ReadFrom};
use domain::catalog::{Category, CategoryCommand};
use domain::configuration::{known, ConfigValue};
use domain::id::CategoryId;
use domain::navigation::{Link, MenuItem, MenuName};
use domain::shop::SettingsDraft;
use domain::value::Slug;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

fn staff(user: Uuid) -> CommandMeta {
    CommandMeta::new(
        Uuid::new_v4(),
        Uuid::new_v4(),
        Actor {
            user_id: Some(user),
            role: "staff".into(),
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

/// The actor ids recorded on a stream's events, oldest first.
async fn actors(pool: &PgPool, stream: &str) -> Vec<Option<String>> {
    let store = PgEventStore::new(pool.clone());
    let events = store
        .read_stream(stream, ReadFrom::End, Direction::Forwards, 100)
        .await
        .unwrap();
    events
        .iter()
        .map(|e| e.metadata["actor_id"].as_str().map(str::to_owned))
        .collect()
}

fn draft(name: &str) -> SettingsDraft {
    SettingsDraft {
        name: name.into(),
        default_currency: "GBP".into(),
        accepted_currencies: None,
        default_locale: "en-GB".into(),
        locales: Some(vec!["en-GB".into(), "cy".into()]),
        address: None,
        tax_inclusive_display: true,
        order_number_format: Some("{yy}{mm}-{seq:4}".into()),
    }
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn settings_are_replaced_once_audited_and_read_by_another_process(pool: PgPool) {
    let (one, other) = (handlers(&pool), handlers(&pool));
    let before = shop::store_settings(&other).await.unwrap();
    assert!(!before.changed);
    assert_eq!(before.settings.name, "UltraMarket");

    let ann = Uuid::new_v4();
    let done = shop::replace_settings(&one, draft("Tea Room"), &staff(ann))
        .await
        .unwrap();
    assert!(done.position.is_some());
    let repeat = shop::replace_settings(&one, draft("Tea Room"), &staff(ann))
        .await
        .unwrap();
    assert_eq!(
        repeat.position, None,
        "the same settings again append nothing"
    );
    let read = shop::store_settings(&other).await.unwrap();
    assert_eq!(read.settings.name, "Tea Room");
    assert_eq!(read.settings.locales.len(), 2);
    assert_eq!(
        read.settings
            .order_number_format
            .render(chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap(), 9),
        "2612-0009"
    );

    let mut bad = draft("Tea Room");
    bad.accepted_currencies = Some(vec!["EUR".into()]);
    match shop::replace_settings(&one, bad, &staff(ann)).await {
        Err(ShopError::Invalid { field, .. }) => assert_eq!(field, "accepted_currencies"),
        other => panic!("refused, got {other:?}"),
    }
    assert_eq!(
        actors(&pool, &shop::settings_stream()).await,
        vec![Some(ann.to_string())]
    );
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn configuration_values_are_typed_and_audited(pool: PgPool) {
    let h = handlers(&pool);
    let bob = Uuid::new_v4();
    let done = configuration::set_value(&h, "reviews.enabled".into(), json!(true), &staff(bob))
        .await
        .unwrap();
    assert_eq!(
        done.state.value(known("reviews.enabled").unwrap()),
        ConfigValue::Bool(true)
    );
    assert!(matches!(
        configuration::set_value(&h, "reviews.enabled".into(), json!(1), &staff(bob)).await,
        Err(ConfigUseError::InvalidValue(_))
    ));
    assert!(matches!(
        configuration::set_value(&h, "nope".into(), json!(1), &staff(bob)).await,
        Err(ConfigUseError::UnknownKey(_))
    ));
    let state = configuration::configuration(&handlers(&pool))
        .await
        .unwrap();
    assert_eq!(state.values.len(), 1);
    assert_eq!(
        actors(&pool, &configuration::config_stream()).await,
        vec![Some(bob.to_string())]
    );
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_menu_links_only_to_categories_that_exist(pool: PgPool) {
    let h = handlers(&pool);
    let cat = Uuid::new_v4();
    h.categories
        .handle(
            &CommandHandler::<Category>::stream_id(cat),
            CategoryCommand::Create {
                category_id: CategoryId::new(cat),
                name: "Tea".into(),
                slug: Slug::parse("tea").unwrap(),
                parent_id: None,
            },
            staff(Uuid::nil()),
        )
        .await
        .unwrap();
    let item = |link| MenuItem {
        label: "x".into(),
        link,
        children: vec![],
    };
    let ghost = Uuid::new_v4();
    let refused = navigation::replace_menu(
        &h,
        MenuName::Footer,
        vec![
            item(Link::Category { category_id: cat }),
            item(Link::Category { category_id: ghost }),
        ],
        &staff(Uuid::nil()),
    )
    .await;
    match refused {
        Err(NavigationUseError::Invalid { field, .. }) => {
            assert_eq!(field, "items[1].link.category_id")
        }
        other => panic!("refused, got {other:?}"),
    }
    assert!(
        actors(&pool, &navigation::menu_stream(MenuName::Footer))
            .await
            .is_empty(),
        "nothing appended"
    );
    let done = navigation::replace_menu(
        &h,
        MenuName::Footer,
        vec![item(Link::Category { category_id: cat })],
        &staff(Uuid::nil()),
    )
    .await
    .unwrap();
    assert_eq!(done.state.revisions, 1);
    let read = navigation::menu(&handlers(&pool), MenuName::Footer)
        .await
        .unwrap();
    assert_eq!(read.items, done.state.items);
    assert!(navigation::menu(&h, MenuName::Header)
        .await
        .unwrap()
        .items
        .is_empty());
}
