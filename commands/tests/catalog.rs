//! The catalog's use cases against the real PostgreSQL store: SKU and slug claims come
//! before the product and are given back when it is refused, a refused claim appends
//! nothing, and a vendor changes only their own products.

use std::sync::Arc;

use chrono::Utc;
use commands::catalog::claims::{PRODUCT_SLUG, SKU};
use commands::catalog::{
    archive_product, create_category, create_product, update_product, ChangeProductError,
    CreateProductError, NewCategory, NewProduct, ProductChange,
};
use commands::handler::{Actor, CommandMeta};
use commands::handlers::Handlers;
use commands::inventory::{receive_stock, StockReceipt};
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use commands::unique;
use domain::catalog::Seller;
use domain::id::{CategoryId, ProductId, UserId};
use domain::money::{Currency, Money};
use domain::value::Sku;
use serde_json::Map;
use sqlx::PgPool;
use uuid::Uuid;

fn meta() -> CommandMeta {
    let id = Uuid::new_v4();
    CommandMeta::new(id, id, Actor::system(), Utc::now())
}

async fn events(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from store.events")
        .fetch_one(pool)
        .await
        .unwrap()
}

fn handlers(pool: &PgPool) -> Arc<Handlers> {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    Handlers::new(&store, test_keys(pool), 100)
}

async fn category(h: &Handlers) -> CategoryId {
    let id = CategoryId::new(Uuid::new_v4());
    let new = NewCategory {
        category_id: id,
        name: "Tents".into(),
        slug: None,
        parent_id: None,
    };
    create_category(h, new, &meta()).await.unwrap();
    id
}

fn product(category_id: CategoryId, sku: &str, name: &str, seller: Seller) -> NewProduct {
    NewProduct {
        product_id: ProductId::new(Uuid::new_v4()),
        sku: Sku::parse(sku).unwrap(),
        name: name.into(),
        slug: None,
        description: None,
        category_id,
        price: Money::new(19_999, Currency::USD),
        attributes: Map::new(),
        seller,
        seo: Default::default(),
        draft: false,
    }
}

/// A SKU another item holds: the product is refused before anything is written, so its
/// slug stays free and the store does not grow.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_taken_sku_claims_nothing_and_appends_nothing(pool: PgPool) {
    let h = handlers(&pool);
    let tents = category(&h).await;
    unique::claim(&h, SKU, "TENT-1", Uuid::new_v4(), &meta())
        .await
        .unwrap();
    let before = events(&pool).await;

    let new = product(tents, "TENT-1", "Dome tent", Seller::Staff);
    let id = new.product_id;
    let refused = create_product(&h, new, &meta()).await;
    assert!(
        matches!(&refused, Err(CreateProductError::SkuTaken { sku }) if sku == "TENT-1"),
        "{refused:?}"
    );
    assert_eq!(events(&pool).await, before, "nothing appended");
    assert_eq!(
        unique::owner_of(&h, PRODUCT_SLUG, "dome-tent")
            .await
            .unwrap(),
        None,
        "the slug was not claimed"
    );
    let change = update_product(&h, id, ProductChange::default(), Seller::Staff, &meta()).await;
    assert!(matches!(change, Err(ChangeProductError::NotFound)));
}

/// A product the aggregate refuses after its claims (an empty name) gives its SKU and
/// slug back, so the next product may take them; one that is created counts its claims
/// among the events it appended.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_refused_product_gives_its_claims_back(pool: PgPool) {
    let h = handlers(&pool);
    let tents = category(&h).await;
    let mut nameless = product(tents, "TENT-2", "   ", Seller::Staff);
    nameless.slug = Some(domain::value::Slug::parse("dome-tent").unwrap());
    let refused = create_product(&h, nameless, &meta()).await;
    assert!(
        matches!(&refused, Err(CreateProductError::Rejected(_))),
        "{refused:?}"
    );
    for (kind, key) in [(SKU, "TENT-2"), (PRODUCT_SLUG, "dome-tent")] {
        assert_eq!(
            unique::owner_of(&h, kind, key).await.unwrap(),
            None,
            "{kind} given back"
        );
    }

    let before = events(&pool).await;
    let created = create_product(
        &h,
        product(tents, "TENT-2", "Dome tent", Seller::Staff),
        &meta(),
    )
    .await
    .unwrap();
    // Two claims, ProductCreated and (staff's products go on sale) ProductPublished.
    assert_eq!(created.appended, 4);
    assert_eq!(events(&pool).await - before, 4);
    assert!(created.position.is_some());
    assert_eq!(created.product.slug.as_str(), "dome-tent");
}

/// A vendor's product waits as a draft; another vendor may neither change nor archive it,
/// and their attempts append nothing; the vendor and staff may.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_vendor_changes_only_their_own_products(pool: PgPool) {
    let h = handlers(&pool);
    let tents = category(&h).await;
    let (ann, bob) = (UserId::new(Uuid::new_v4()), UserId::new(Uuid::new_v4()));
    let created = create_product(
        &h,
        product(tents, "TENT-3", "Tunnel tent", Seller::Vendor(ann)),
        &meta(),
    )
    .await
    .unwrap();
    let id = created.product.product_id;
    assert_eq!(created.product.vendor_id, Some(ann));
    assert_eq!(
        created.product.status,
        domain::catalog::ProductStatus::Draft
    );

    let before = events(&pool).await;
    let rename = || ProductChange {
        name: Some("Storm tent".into()),
        ..ProductChange::default()
    };
    let refused = update_product(&h, id, rename(), Seller::Vendor(bob), &meta()).await;
    assert!(matches!(refused, Err(ChangeProductError::NotOwner)));
    let refused = archive_product(&h, id, Seller::Vendor(bob), &meta()).await;
    assert!(matches!(refused, Err(ChangeProductError::NotOwner)));
    assert_eq!(events(&pool).await, before);

    let renamed = update_product(&h, id, rename(), Seller::Vendor(ann), &meta())
        .await
        .unwrap();
    assert_eq!(renamed.product.name, "Storm tent");
    assert_eq!(renamed.appended, 1);
    let received = receive_stock(
        &h,
        StockReceipt {
            sku: Sku::parse("TENT-3").unwrap(),
            quantity: 5,
            warehouse: None,
        },
        &meta(),
    )
    .await
    .unwrap();
    assert_eq!(received.state.available(), 5);
    assert!(archive_product(&h, id, Seller::Staff, &meta())
        .await
        .unwrap()
        .is_some());
}

/// Data keys under a fixed master key: these tests read what they wrote through the same
/// handlers, which open it.
fn test_keys(pool: &PgPool) -> Arc<commands::privacy::DataKeys> {
    let master = commands::privacy::MasterKey::from_bytes([7; 32]);
    Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None))
}
