//! The catalog's administration use cases against the real PostgreSQL store: a variant's
//! SKU is claimed across products and variants and given back on removal (once its stock
//! is counted out), its opening stock is received into its SKU, a new slug keeps the old one claimed, a refused change
//! writes nothing, and a category move walks the tree to refuse cycles.

use std::sync::Arc;

use chrono::Utc;
use commands::catalog::claims::{CATEGORY_SLUG, PRODUCT_SLUG, SKU};
use commands::catalog::{
    change_category, create_category, create_product, create_variant, publish_product,
    remove_variant, unpublish_product, update_product, update_variant, CategoryChange,
    ChangeCategoryError, ChangeProductError, NewCategory, NewProduct, NewVariant, ProductChange,
    VariantChange,
};
use commands::handler::{Actor, CommandMeta};
use commands::handlers::Handlers;
use commands::inventory::{adjust_stock, StockAdjustment};
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use commands::unique;
use domain::catalog::{CatalogError, ProductStatus, Seller, Variant};
use domain::id::{CategoryId, ProductId, UserId, VariantId};
use domain::money::{Currency, Money};
use domain::value::{Sku, Slug};
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
    let master = commands::privacy::MasterKey::from_bytes([7; 32]);
    let keys = Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None));
    Handlers::new(&store, keys, 100)
}

async fn category(h: &Handlers, name: &str, parent: Option<CategoryId>) -> CategoryId {
    let id = CategoryId::new(Uuid::new_v4());
    let new = NewCategory {
        category_id: id,
        name: name.into(),
        slug: None,
        parent_id: parent,
    };
    create_category(h, new, &meta()).await.unwrap();
    id
}

async fn product(h: &Handlers, category_id: CategoryId, sku: &str, seller: Seller) -> ProductId {
    let new = NewProduct {
        product_id: ProductId::new(Uuid::new_v4()),
        sku: Sku::parse(sku).unwrap(),
        name: format!("Lamp {sku}"),
        slug: None,
        description: None,
        category_id,
        price: Money::new(4_999, Currency::USD),
        attributes: Map::new(),
        seller,
        seo: Default::default(),
        draft: false,
    };
    create_product(h, new, &meta())
        .await
        .unwrap()
        .product
        .product_id
}

fn variant(sku: &str) -> Variant {
    Variant {
        variant_id: VariantId::new(Uuid::new_v4()),
        sku: Sku::parse(sku).unwrap(),
        name: "Red".into(),
        price: Money::new(5_999, Currency::USD),
        attributes: Map::new(),
    }
}

/// A variant's SKU is unique across products and variants: another product's SKU or
/// another variant's is refused (and appends nothing); removing the variant frees it.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_variants_sku_is_claimed_across_the_catalog_and_freed_on_removal(pool: PgPool) {
    let h = handlers(&pool);
    let lamps = category(&h, "Lamps", None).await;
    let a = product(&h, lamps, "LAMP-A", Seller::Staff).await;
    let b = product(&h, lamps, "LAMP-B", Seller::Staff).await;
    let red = create_variant(
        &h,
        a,
        NewVariant {
            variant: variant("LAMP-A-RED"),
            stock: 7,
        },
        Seller::Staff,
        &meta(),
    )
    .await
    .unwrap();
    assert_eq!(red.stock.available(), 7, "the opening stock is received");
    assert_eq!(red.appended, 3, "the claim, the variant and the receipt");

    let before = events(&pool).await;
    for sku in ["LAMP-A", "LAMP-A-RED"] {
        let refused = create_variant(
            &h,
            b,
            NewVariant {
                variant: variant(sku),
                stock: 0,
            },
            Seller::Staff,
            &meta(),
        )
        .await;
        assert!(
            matches!(&refused, Err(ChangeProductError::SkuTaken { sku: s }) if s == sku),
            "{refused:?}"
        );
    }
    assert_eq!(events(&pool).await, before, "refusals append nothing");

    // Its units would go with the SKU to the next owner: counted out first.
    let stocked = remove_variant(&h, a, red.variant.variant_id, Seller::Staff, &meta()).await;
    assert!(
        matches!(&stocked, Err(ChangeProductError::VariantHasStock { sku }) if sku == "LAMP-A-RED"),
        "{stocked:?}"
    );
    let counted = StockAdjustment {
        sku: Sku::parse("LAMP-A-RED").unwrap(),
        delta: -7,
        reason: "recount".into(),
        warehouse: None,
    };
    adjust_stock(&h, counted, &meta()).await.unwrap();
    remove_variant(&h, a, red.variant.variant_id, Seller::Staff, &meta())
        .await
        .unwrap();
    assert_eq!(
        unique::owner_of(&h, SKU, "LAMP-A-RED").await.unwrap(),
        None,
        "the SKU is given back"
    );
    let again = remove_variant(&h, a, red.variant.variant_id, Seller::Staff, &meta()).await;
    assert!(matches!(
        again,
        Err(ChangeProductError::Rejected(CatalogError::UnknownVariant(
            _
        )))
    ));
    let taken = create_variant(
        &h,
        b,
        NewVariant {
            variant: variant("LAMP-A-RED"),
            stock: 0,
        },
        Seller::Staff,
        &meta(),
    )
    .await
    .unwrap();
    assert_eq!(taken.variant.sku.as_str(), "LAMP-A-RED");
    // Another vendor touches nothing.
    let bob = Seller::Vendor(UserId::new(Uuid::new_v4()));
    let refused = update_variant(
        &h,
        b,
        taken.variant.variant_id,
        VariantChange {
            name: Some("Blue".into()),
            ..VariantChange::default()
        },
        bob,
        &meta(),
    )
    .await;
    assert!(matches!(refused, Err(ChangeProductError::NotOwner)));
}

/// A new slug is claimed for the product and the old one stays its own; a change the
/// rules refuse in any field writes none of them.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_new_slug_keeps_the_old_one_and_a_refused_change_writes_nothing(pool: PgPool) {
    let h = handlers(&pool);
    let lamps = category(&h, "Lamps", None).await;
    let a = product(&h, lamps, "LAMP-A", Seller::Staff).await;
    let b = product(&h, lamps, "LAMP-B", Seller::Staff).await;
    let change = |slug: &str| ProductChange {
        slug: Some(Slug::parse(slug).unwrap()),
        meta_title: Some("Lamp A".into()),
        ..ProductChange::default()
    };
    let changed = update_product(&h, a, change("desk-lamp"), Seller::Staff, &meta())
        .await
        .unwrap();
    assert_eq!(changed.product.slug.as_str(), "desk-lamp");
    assert_eq!(changed.product.seo.meta_title.as_deref(), Some("Lamp A"));
    for slug in ["lamp-lamp-a", "desk-lamp"] {
        assert_eq!(
            unique::owner_of(&h, PRODUCT_SLUG, slug).await.unwrap(),
            Some(a.as_uuid()),
            "{slug} is the product's"
        );
    }
    let refused = update_product(&h, b, change("lamp-lamp-a"), Seller::Staff, &meta()).await;
    assert!(
        matches!(&refused, Err(ChangeProductError::SlugTaken { slug }) if slug == "lamp-lamp-a"),
        "{refused:?}"
    );

    let before = events(&pool).await;
    let half_bad = ProductChange {
        name: Some("Lamp B2".into()),
        slug: Some(Slug::parse("lamp-b2").unwrap()),
        meta_description: Some("two\nlines".into()),
        ..ProductChange::default()
    };
    let refused = update_product(&h, b, half_bad, Seller::Staff, &meta()).await;
    assert!(matches!(
        refused,
        Err(ChangeProductError::Rejected(CatalogError::Invalid {
            field: "meta_description",
            ..
        }))
    ));
    assert_eq!(
        events(&pool).await,
        before,
        "nothing written, nothing claimed"
    );
}

/// A vendor's publish submits the draft; staff's approves it; unpublish takes it off sale.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_vendors_product_is_reviewed_before_it_goes_on_sale(pool: PgPool) {
    let h = handlers(&pool);
    let lamps = category(&h, "Lamps", None).await;
    let ann = Seller::Vendor(UserId::new(Uuid::new_v4()));
    let p = product(&h, lamps, "LAMP-V", ann).await;
    let bob = Seller::Vendor(UserId::new(Uuid::new_v4()));
    assert!(matches!(
        publish_product(&h, p, bob, &meta()).await,
        Err(ChangeProductError::NotOwner)
    ));
    let submitted = publish_product(&h, p, ann, &meta()).await.unwrap();
    assert_eq!(submitted.product.status, ProductStatus::PendingReview);
    let approved = publish_product(&h, p, Seller::Staff, &meta())
        .await
        .unwrap();
    assert_eq!(approved.product.status, ProductStatus::Active);
    let off = unpublish_product(&h, p, ann, &meta()).await.unwrap();
    assert_eq!(off.product.status, ProductStatus::Draft);
}

/// Moving a category walks its new parent's ancestors: under itself or a descendant is
/// refused (and writes nothing); elsewhere, or to the root, it moves; a new slug frees the
/// old one.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_category_never_moves_under_its_own_descendant(pool: PgPool) {
    let h = handlers(&pool);
    let home = category(&h, "Home", None).await;
    let lighting = category(&h, "Lighting", Some(home)).await;
    let lamps = category(&h, "Lamps", Some(lighting)).await;
    let garden = category(&h, "Garden", None).await;

    let before = events(&pool).await;
    for under in [lamps, lighting, home] {
        let refused = change_category(
            &h,
            home,
            CategoryChange {
                name: Some("House".into()),
                parent_id: Some(Some(under)),
                ..CategoryChange::default()
            },
            &meta(),
        )
        .await;
        assert!(
            matches!(
                refused,
                Err(ChangeCategoryError::Rejected(
                    CatalogError::Cycle(_) | CatalogError::OwnParent
                ))
            ),
            "{refused:?}"
        );
    }
    assert_eq!(
        events(&pool).await,
        before,
        "not even the rename is written"
    );
    let unknown = change_category(
        &h,
        home,
        CategoryChange {
            parent_id: Some(Some(CategoryId::new(Uuid::new_v4()))),
            ..CategoryChange::default()
        },
        &meta(),
    )
    .await;
    assert!(matches!(unknown, Err(ChangeCategoryError::UnknownParent)));

    let moved = change_category(
        &h,
        lighting,
        CategoryChange {
            slug: Some(Slug::parse("lights").unwrap()),
            parent_id: Some(Some(garden)),
            ..CategoryChange::default()
        },
        &meta(),
    )
    .await
    .unwrap();
    assert_eq!(moved.state.parent_id, Some(garden));
    assert_eq!(
        unique::owner_of(&h, CATEGORY_SLUG, "lighting")
            .await
            .unwrap(),
        None,
        "the old slug is free"
    );
    // Now Home may go under Lamps: Lamps is no longer below it.
    let rooted = change_category(
        &h,
        home,
        CategoryChange {
            parent_id: Some(Some(lamps)),
            ..CategoryChange::default()
        },
        &meta(),
    )
    .await
    .unwrap();
    assert_eq!(rooted.state.parent_id, Some(lamps));
    let root = change_category(
        &h,
        lighting,
        CategoryChange {
            parent_id: Some(None),
            ..CategoryChange::default()
        },
        &meta(),
    )
    .await
    .unwrap();
    assert_eq!(root.state.parent_id, None);
}
