//! The catalog read model against a real store: events made by the command handlers, applied
//! by the runner, and the rows they leave (prices, the category tree's counts, stock after
//! reserve/commit/release, search ranking, archived products), then a rebuild that must
//! equal the incremental build row for row.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, Position, RecordedEvent};
use domain::catalog::{
    Category, CategoryCommand, CreateProduct, Image, Product, ProductCommand, Variant,
};
use domain::id::{CategoryId, ImageId, OrderId, ProductId, UserId, VariantId};
use domain::inventory::{Inventory, InventoryCommand, DEFAULT_WAREHOUSE};
use domain::money::{Currency, Money};
use domain::value::{Sku, Slug};
use projections::catalog::CatalogProjection;
use projections::{Projection, Runner};
use serde_json::{json, Map};
use sqlx::PgPool;
use uuid::Uuid;

/// How long a polled condition may take before the test fails: nothing when all is well,
/// and a whole workspace's tests on a small machine can be slow.
const PATIENCE: Duration = Duration::from_secs(60);

fn meta() -> CommandMeta {
    let id = Uuid::new_v4();
    CommandMeta::new(
        id,
        id,
        Actor {
            user_id: None,
            role: "staff".into(),
        },
        Utc::now(),
    )
}

struct Shop {
    store: Arc<dyn EventStore>,
    categories: CommandHandler<Category>,
    products: CommandHandler<Product>,
    inventory: CommandHandler<Inventory>,
    /// The `$all` position of the last event appended, which `$all` readers wait for.
    last: std::sync::Mutex<Position>,
}

impl Shop {
    fn new(pool: &PgPool) -> Shop {
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        Shop {
            categories: CommandHandler::new(store.clone(), 1000),
            products: CommandHandler::new(store.clone(), 1000),
            inventory: CommandHandler::new(store.clone(), 1000),
            store,
            last: std::sync::Mutex::new(Position::START),
        }
    }

    fn appended(&self, at: Option<Position>) {
        let mut last = self.last.lock().unwrap();
        *last = (*last).max(at.unwrap_or(Position::START));
    }

    fn head(&self) -> Position {
        *self.last.lock().unwrap()
    }

    async fn category(&self, name: &str, parent: Option<Uuid>) -> Uuid {
        let id = Uuid::new_v4();
        let handled = self
            .categories
            .handle(
                &CommandHandler::<Category>::stream_id(id),
                CategoryCommand::Create {
                    category_id: CategoryId::new(id),
                    name: name.into(),
                    slug: Slug::from_name(&format!("{name} {}", id.simple())).unwrap(),
                    parent_id: parent.map(CategoryId::new),
                },
                meta(),
            )
            .await
            .unwrap();
        self.appended(handled.position);
        id
    }

    async fn category_command(&self, id: Uuid, command: CategoryCommand) {
        let handled = self
            .categories
            .handle(&CommandHandler::<Category>::stream_id(id), command, meta())
            .await
            .unwrap();
        self.appended(handled.position);
    }

    /// A product as staff create it (published at once) unless `draft`.
    async fn product(
        &self,
        sku: &str,
        name: &str,
        description: &str,
        category: Uuid,
        price: i64,
        draft: bool,
    ) -> Uuid {
        let id = Uuid::new_v4();
        let mut attributes = Map::new();
        attributes.insert("colour".into(), json!("graphite"));
        let handled = self
            .products
            .handle(
                &CommandHandler::<Product>::stream_id(id),
                ProductCommand::Create(Box::new(CreateProduct {
                    product_id: ProductId::new(id),
                    sku: Sku::parse(sku).unwrap(),
                    name: name.into(),
                    slug: Slug::from_name(&format!("{name} {}", id.simple())).unwrap(),
                    description: Some(description.into()),
                    category_id: CategoryId::new(category),
                    price: Money::new(price, Currency::USD),
                    attributes,
                    vendor_id: draft.then(|| UserId::new(Uuid::new_v4())),
                    publish: !draft,
                    seo: Default::default(),
                    at: Utc::now(),
                })),
                meta(),
            )
            .await
            .unwrap();
        self.appended(handled.position);
        id
    }

    async fn product_command(&self, id: Uuid, command: ProductCommand) {
        let handled = self
            .products
            .handle(&CommandHandler::<Product>::stream_id(id), command, meta())
            .await
            .unwrap();
        self.appended(handled.position);
    }

    async fn stock(&self, sku: &str, command: InventoryCommand) {
        let sku = Sku::parse(sku).unwrap();
        let handled = self
            .inventory
            .handle(
                &CommandHandler::<Inventory>::stream_id(&sku),
                command,
                meta(),
            )
            .await
            .unwrap();
        self.appended(handled.position);
    }

    async fn receive(&self, sku: &str, quantity: u32) {
        self.stock(
            sku,
            InventoryCommand::ReceiveStock {
                sku: Sku::parse(sku).unwrap(),
                warehouse: DEFAULT_WAREHOUSE.into(),
                quantity,
            },
        )
        .await;
    }

    async fn reserve(&self, sku: &str, order: OrderId, quantity: u32) {
        self.stock(
            sku,
            InventoryCommand::ReserveStock {
                sku: Sku::parse(sku).unwrap(),
                order_id: order,
                quantity,
            },
        )
        .await;
    }

    /// Applies everything in `$all` so far to the catalog.
    async fn project(&self, pool: &PgPool) -> Runner {
        let runner = Runner::new(
            self.store.clone(),
            pool.clone(),
            Arc::new(CatalogProjection),
        );
        self.catch_up(&runner).await;
        runner
    }

    async fn catch_up(&self, runner: &Runner) {
        let events = all_events(&*self.store, self.head()).await;
        runner.apply_batch(&events).await.unwrap();
    }
}

/// `$all` up to `head` ($all shows a commit once older transactions of the cluster end).
async fn all_events(store: &dyn EventStore, head: Position) -> Vec<RecordedEvent> {
    let mut out = Vec::new();
    let mut at = Position::START;
    let deadline = std::time::Instant::now() + PATIENCE;
    while std::time::Instant::now() < deadline {
        let page = store.read_all(at, 5_000).await.unwrap();
        if let Some(last) = page.last() {
            at = last.position;
        }
        out.extend(page);
        if at >= head {
            return out;
        }
        if out.is_empty() || at < head {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    panic!("$all did not reach {head} within {PATIENCE:?}");
}

type CategoryCounts = (String, i32, i32, i32);

async fn counts(pool: &PgPool) -> Vec<CategoryCounts> {
    sqlx::query_as(
        "select name, depth, product_count, subtree_product_count from catalog.categories
          order by depth, name",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

fn row(name: &str, depth: i32, direct: i32, subtree: i32) -> CategoryCounts {
    (name.into(), depth, direct, subtree)
}

/// Prices land as minor units; active products count in their category and every ancestor;
/// drafts do not count, archiving leaves the counts, and moving or renaming a category
/// carries its subtree and its products' search text along.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn products_fill_the_category_tree(pool: PgPool) {
    let shop = Shop::new(&pool);
    let root = shop.category("Sports", None).await;
    let shoes = shop.category("Shoes", Some(root)).await;
    let running = shop.category("Running", Some(shoes)).await;
    let bags = shop.category("Bags", None).await;

    let a = shop
        .product("RUN-1", "Trail runner", "grippy", running, 8999, false)
        .await;
    shop.product("RUN-2", "Road runner", "light", running, 7999, false)
        .await;
    shop.product("SHOE-1", "Loafer", "leather", shoes, 5999, false)
        .await;
    let draft = shop
        .product("SHOE-2", "Sandal", "open", shoes, 2999, true)
        .await;
    shop.project(&pool).await;

    let (price, currency, status, version): (i64, String, String, i64) = sqlx::query_as(
        "select price, currency, status, version from catalog.products where product_id = $1",
    )
    .bind(a)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (price, currency.as_str(), status.as_str(), version),
        (8999, "USD", "active", 1),
        "created then published: stream revision 1"
    );
    assert_eq!(
        counts(&pool).await,
        vec![
            row("Bags", 0, 0, 0),
            row("Sports", 0, 0, 3),
            row("Shoes", 1, 1, 3),
            row("Running", 2, 2, 2),
        ],
        "the vendor's draft counts nowhere"
    );

    // Price change, publish the draft, archive a runner, move one into another category.
    shop.product_command(
        a,
        ProductCommand::ChangePrice {
            price: Money::new(6999, Currency::USD),
            at: Utc::now(),
        },
    )
    .await;
    shop.product_command(draft, ProductCommand::Publish { at: Utc::now() })
        .await;
    shop.product_command(
        a,
        ProductCommand::Update {
            name: None,
            description: None,
            category_id: Some(CategoryId::new(bags)),
            attributes: None,
            at: Utc::now(),
        },
    )
    .await;
    let runner = shop.project(&pool).await;
    assert_eq!(
        counts(&pool).await,
        vec![
            row("Bags", 0, 1, 1),
            row("Sports", 0, 0, 3),
            row("Shoes", 1, 2, 3),
            row("Running", 2, 1, 1),
        ]
    );
    let history: Vec<(i64, i64)> = sqlx::query_as(
        "select from_price, to_price from catalog.price_changes where product_id = $1",
    )
    .bind(a)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(history, vec![(8999, 6999)]);

    shop.product_command(a, ProductCommand::Archive { at: Utc::now() })
        .await;
    // Running (with its one product) moves from Shoes to the root level; Bags is renamed.
    shop.category_command(
        running,
        CategoryCommand::Move {
            parent_id: None,
            ancestors: vec![],
        },
    )
    .await;
    shop.category_command(
        bags,
        CategoryCommand::Rename {
            name: "Luggage".into(),
        },
    )
    .await;
    shop.catch_up(&runner).await;
    assert_eq!(
        counts(&pool).await,
        vec![
            row("Luggage", 0, 0, 0),
            row("Running", 0, 1, 1),
            row("Sports", 0, 0, 2),
            row("Shoes", 1, 2, 2),
        ],
        "archived: out of Luggage; moved: Running's product leaves Sports"
    );
    let (path, status, category_name): (Vec<Uuid>, String, String) = sqlx::query_as(
        "select c.path, p.status, p.category_name from catalog.products p
           join catalog.categories c using (category_id) where p.product_id = $1",
    )
    .bind(a)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(path, vec![bags]);
    assert_eq!(
        (status.as_str(), category_name.as_str()),
        ("archived", "Luggage")
    );
    let found: bool = sqlx::query_scalar(
        "select search @@ websearch_to_tsquery('english', 'luggage') from catalog.product_search
          where product_id = $1",
    )
    .bind(a)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        found,
        "a renamed category's name is searchable on its products"
    );
}

/// On hand, reserved and available per SKU and summed per product through receive,
/// reserve, commit and release, variants included; the low-stock flag follows the
/// threshold both ways. Stock received before its product exists is not lost.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn availability_follows_reservations(pool: PgPool) {
    let shop = Shop::new(&pool);
    let cat = shop.category("Mugs", None).await;
    // Stock arrives before the product is created.
    shop.receive("MUG-1", 10).await;
    let mug = shop
        .product("MUG-1", "Mug", "stoneware", cat, 1250, false)
        .await;
    shop.product_command(
        mug,
        ProductCommand::AddVariant(Variant {
            variant_id: VariantId::new(Uuid::new_v4()),
            sku: Sku::parse("MUG-1-XL").unwrap(),
            name: "Large".into(),
            price: Money::new(1550, Currency::USD),
            attributes: Map::new(),
        }),
    )
    .await;
    shop.receive("MUG-1-XL", 4).await;
    let (a, b) = (OrderId::new(Uuid::new_v4()), OrderId::new(Uuid::new_v4()));
    shop.reserve("MUG-1", a, 3).await;
    shop.reserve("MUG-1", b, 2).await;
    let runner = shop.project(&pool).await;

    let stock = |sku: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, (i64, i64, i64, i64, bool)>(
                "select on_hand, reserved, available, sold, low_stock from catalog.stock where sku = $1",
            )
            .bind(sku)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let product = || {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, (i64, i64, i64, bool)>(
                "select on_hand, reserved, available, low_stock from catalog.product_stock where product_id = $1",
            )
            .bind(mug)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(stock("MUG-1").await, (10, 5, 5, 0, false));
    assert_eq!(
        product().await,
        (14, 5, 9, false),
        "product sums: 10 + 4 on hand, 5 reserved"
    );

    shop.stock("MUG-1", InventoryCommand::CommitReservation { order_id: a })
        .await;
    shop.stock(
        "MUG-1",
        InventoryCommand::ReleaseReservation { order_id: b },
    )
    .await;
    shop.stock(
        "MUG-1",
        InventoryCommand::SetLowStockThreshold { threshold: 8 },
    )
    .await;
    shop.catch_up(&runner).await;
    assert_eq!(
        stock("MUG-1").await,
        (7, 0, 7, 3, true),
        "3 sold left the shelf, 2 went back; 7 < 8 is low"
    );
    assert_eq!(product().await, (11, 0, 11, true));
    let (alerts,): (i32,) =
        sqlx::query_as("select low_stock_alerts from catalog.stock where sku = 'MUG-1'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(alerts, 1, "the domain's LowStockDetected is counted");

    shop.receive("MUG-1", 5).await;
    shop.catch_up(&runner).await;
    assert_eq!(stock("MUG-1").await, (12, 0, 12, 3, false));
    assert_eq!(product().await, (16, 0, 16, false), "back above the line");
}

/// A word in the name outranks the same word in the description (weights A over B);
/// SKUs, category names and attribute values are found too.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn search_ranks_names_over_descriptions(pool: PgPool) {
    let shop = Shop::new(&pool);
    let cat = shop.category("Outdoor", None).await;
    let in_description = shop
        .product(
            "TENT-1",
            "Dome tent",
            "Made for trail camping.",
            cat,
            19999,
            false,
        )
        .await;
    let in_name = shop
        .product(
            "BOOT-1",
            "Trail boots",
            "Sturdy leather.",
            cat,
            12999,
            false,
        )
        .await;
    shop.product("CUP-1", "Camping cup", "Enamel.", cat, 999, false)
        .await;
    let images = [
        (ImageId::new(Uuid::new_v4()), 2),
        (ImageId::new(Uuid::new_v4()), 1),
    ];
    for (image_id, position) in images {
        shop.product_command(
            in_name,
            ProductCommand::AddImage(Image {
                image_id,
                url: format!("https://img.example.com/{image_id}.jpg"),
                alt: None,
                position,
            }),
        )
        .await;
    }
    shop.product_command(
        in_name,
        ProductCommand::RemoveImage {
            image_id: images[0].0,
        },
    )
    .await;
    shop.project(&pool).await;

    let search = |q: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, Uuid>(
                "select product_id from catalog.product_search
                  where search @@ websearch_to_tsquery('english', $1)
                  order by ts_rank(search, websearch_to_tsquery('english', $1)) desc, product_id",
            )
            .bind(q)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(search("trails").await, vec![in_name, in_description]);
    assert_eq!(search("boot-1").await, vec![in_name], "by SKU");
    assert_eq!(search("graphite").await.len(), 3, "attribute values");
    assert_eq!(search("outdoor -camping").await, vec![in_name]);
    let images: Vec<i32> = sqlx::query_scalar(
        "select position from catalog.images where product_id = $1 order by position",
    )
    .bind(in_name)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(images, vec![1]);
}

/// Every table's rows in `schema`, in a stable order, as text.
async fn dump(pool: &PgPool, schema: &str) -> Vec<String> {
    let mut out = Vec::new();
    for table in [
        "categories",
        "products",
        "product_search",
        "variants",
        "images",
        "price_changes",
        "stock",
        "product_redirects",
        "product_facets",
        "suggestions",
    ] {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select t::text from {schema}.{table} t order by 1"
        )))
        .fetch_all(pool)
        .await
        .unwrap();
        out.push(format!("{table}: {}", rows.len()));
        out.extend(rows);
    }
    out
}

fn assert_same(expected: &[String], actual: &[String], what: &str) {
    assert_eq!(expected.len(), actual.len(), "{what}: row counts differ");
    for (e, a) in expected.iter().zip(actual) {
        assert_eq!(e, a, "{what}");
    }
}

fn scale() -> usize {
    std::env::var("CATALOG_REBUILD_PRODUCTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(120)
}

/// A shop's history, many products at once so their events interleave in `$all`: a
/// category tree; per product, stock in (sometimes before the product exists), a
/// threshold, orders reserving then shipping or giving back, a price change, sometimes a
/// variant with stock of its own, sometimes archiving; then a category moves.
async fn busy_shop(shop: &Arc<Shop>, products: usize) {
    let root = shop.category("All", None).await;
    let mut cats = vec![root];
    for i in 0..12 {
        let parent = cats[i / 3];
        cats.push(shop.category(&format!("Dept {i}"), Some(parent)).await);
    }
    let cats = Arc::new(cats);
    let work = (0..products).map(|i| {
        let shop = shop.clone();
        let cat = cats[i % cats.len()];
        let other = cats[(i + 1) % cats.len()];
        async move {
            let sku = format!("SKU-{i}");
            if i % 4 == 1 {
                shop.receive(&sku, 5).await;
            }
            let name = format!("Item {i}");
            let id = shop
                .product(&sku, &name, "a thing", cat, 1000 + i as i64, i % 7 == 0)
                .await;
            shop.receive(&sku, 50).await;
            shop.stock(
                &sku,
                InventoryCommand::SetLowStockThreshold { threshold: 45 },
            )
            .await;
            for n in 0..6u32 {
                let order = OrderId::new(Uuid::new_v4());
                shop.reserve(&sku, order, 1 + n % 3).await;
                let settle = if n % 2 == 0 {
                    InventoryCommand::CommitReservation { order_id: order }
                } else {
                    InventoryCommand::ReleaseReservation { order_id: order }
                };
                shop.stock(&sku, settle).await;
            }
            if i % 6 == 0 {
                let variant = format!("{sku}-XL");
                let variant_id = VariantId::new(Uuid::new_v4());
                shop.receive(&variant, 3).await;
                shop.product_command(
                    id,
                    ProductCommand::AddVariant(Variant {
                        variant_id,
                        sku: Sku::parse(&variant).unwrap(),
                        name: "XL".into(),
                        price: Money::new(2000, Currency::USD),
                        attributes: Map::from_iter([("size".to_owned(), json!("XL"))]),
                    }),
                )
                .await;
                shop.reserve(&variant, OrderId::new(Uuid::new_v4()), 1)
                    .await;
                shop.product_command(
                    id,
                    ProductCommand::UpdateVariant {
                        variant_id,
                        name: Some("Extra large".into()),
                        price: Some(Money::new(2100, Currency::USD)),
                        attributes: None,
                        at: Utc::now(),
                    },
                )
                .await;
                if i % 12 == 0 {
                    shop.product_command(
                        id,
                        ProductCommand::RemoveVariant {
                            variant_id,
                            at: Utc::now(),
                        },
                    )
                    .await;
                }
            }
            // Search (ADR 0007): brands and attributes, some changed, are facets and
            // suggestions.
            if i % 3 == 0 {
                let attributes = Map::from_iter([
                    ("brand".to_owned(), json!(format!("Brand {}", i % 4))),
                    ("tags".to_owned(), json!(["a", format!("t{}", i % 5)])),
                    ("weight".to_owned(), json!(i % 10)),
                ]);
                shop.product_command(
                    id,
                    ProductCommand::Update {
                        name: (i % 2 == 0).then(|| format!("Renamed item {i}")),
                        description: None,
                        category_id: (i % 9 == 0).then_some(CategoryId::new(other)),
                        attributes: Some(attributes),
                        at: Utc::now(),
                    },
                )
                .await;
            }
            // Issue 21: a vendor's review, unpublishing, a new slug and SEO texts.
            if i % 7 == 0 {
                shop.product_command(id, ProductCommand::SubmitForReview { at: Utc::now() })
                    .await;
                if i % 14 == 0 {
                    shop.product_command(id, ProductCommand::Publish { at: Utc::now() })
                        .await;
                }
            }
            if i % 9 == 2 {
                shop.product_command(id, ProductCommand::Unpublish { at: Utc::now() })
                    .await;
            }
            if i % 8 == 3 {
                for slug in [format!("item-{i}-new"), format!("item-{i}-newer")] {
                    shop.product_command(
                        id,
                        ProductCommand::ChangeSlug {
                            slug: Slug::parse(&slug).unwrap(),
                            at: Utc::now(),
                        },
                    )
                    .await;
                }
                shop.product_command(
                    id,
                    ProductCommand::ChangeSeo {
                        meta_title: Some(format!("Item {i}")),
                        meta_description: Some("A thing.".into()),
                        at: Utc::now(),
                    },
                )
                .await;
            }
            shop.product_command(
                id,
                ProductCommand::ChangePrice {
                    price: Money::new(900 + i as i64, Currency::USD),
                    at: Utc::now(),
                },
            )
            .await;
            if i % 5 == 0 {
                shop.product_command(id, ProductCommand::Archive { at: Utc::now() })
                    .await;
            }
        }
    });
    futures::future::join_all(work).await;
    shop.category_command(
        cats[4],
        CategoryCommand::Move {
            parent_id: Some(CategoryId::new(cats[2])),
            ancestors: vec![CategoryId::new(cats[2])],
        },
    )
    .await;
    shop.category_command(
        cats[3],
        CategoryCommand::Rename {
            name: "Dept renamed".into(),
        },
    )
    .await;
    shop.category_command(
        cats[5],
        CategoryCommand::ChangeSlug {
            slug: Slug::parse("dept-four-renamed").unwrap(),
        },
    )
    .await;
}

/// A few thousand mixed events built live (batch by batch, as the runner follows `$all`)
/// and then rebuilt from the store into a shadow schema: the two are identical row for
/// row. Prints the rebuild's rate (`CATALOG_REBUILD_PRODUCTS` scales the shop).
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_rebuild_equals_the_live_build(pool: PgPool) {
    let shop = Arc::new(Shop::new(&pool));
    let products = scale();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let live = Runner::new(
        shop.store.clone(),
        pool.clone(),
        Arc::new(CatalogProjection),
    );
    let task = tokio::spawn(live.run(stopped));
    busy_shop(&shop, products).await;

    let head = shop.head();
    let events = all_events(&*shop.store, head).await.len();
    let deadline = std::time::Instant::now() + PATIENCE;
    while std::time::Instant::now() < deadline {
        if projections::checkpoint::position(&pool, "catalog")
            .await
            .unwrap()
            >= head
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
    let before = dump(&pool, "catalog").await;
    let parked: i64 = sqlx::query_scalar("select count(*) from projections.parked")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(parked, 0);

    let started = Instant::now();
    let report = projections::rebuild::rebuild(
        shop.store.clone(),
        &pool,
        Arc::new(CatalogProjection),
        &mut |_| {},
    )
    .await
    .unwrap();
    println!(
        "catalog rebuild through the runner: {} events in {:.2?}: {:.0} events/s",
        report.events,
        started.elapsed(),
        report.events_per_second()
    );
    assert!(events > products * 10, "{events} events");
    assert_same(&before, &dump(&pool, "catalog").await, "rebuilt vs live");
    let sum: (i64, i64) = sqlx::query_as(
        "select (select sum(subtree_product_count) from catalog.categories where depth = 0)::bigint,
                (select count(*) from catalog.products where status = 'active')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(sum.0, sum.1, "the root counts every active product once");
    // The search tables follow what is on sale.
    let search: (i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(distinct product_id) from catalog.product_facets),
                (select count(*) from catalog.products where status = 'active'),
                (select weight from catalog.suggestions where kind = 'category'
                    and ref = (select category_id::text from catalog.categories where depth = 0))::bigint,
                (select count(*) from catalog.suggestions where kind = 'category'
                    and term = 'Dept renamed')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        search.0, search.1,
        "every product on sale has facets, no other"
    );
    assert_eq!(
        search.2, search.1,
        "the root's suggestion weighs every product on sale"
    );
    assert!(
        search.3 <= 1,
        "a renamed category is suggested by its new name"
    );
}

/// Builds the catalog's tables in `schema` from `events`, `batch` events per transaction
/// through [`CatalogProjection::apply_events`]; answers how long the applying took.
async fn build_in(pool: &PgPool, schema: &str, events: &[RecordedEvent], batch: usize) -> Duration {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("create schema {schema}")))
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "set local search_path to {schema}"
    )))
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::Executor::execute(&mut *tx, CatalogProjection.tables())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let started = Instant::now();
    for chunk in events.chunks(batch) {
        let mut tx = pool.begin().await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "set local search_path to {schema}"
        )))
        .execute(&mut *tx)
        .await
        .unwrap();
        let refs: Vec<&RecordedEvent> = chunk.iter().collect();
        CatalogProjection
            .apply_events(&mut tx, &refs)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    started.elapsed()
}

/// Stock movements summed per SKU over a batch leave the same rows as the same events
/// applied one at a time, whatever the batch boundaries. Prints the batched rate, the
/// rebuild's path once the runtime hands projections whole pages.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn batches_equal_one_event_at_a_time(pool: PgPool) {
    let shop = Arc::new(Shop::new(&pool));
    busy_shop(&shop, scale()).await;
    let events = all_events(&*shop.store, shop.head()).await;
    let one_by_one = build_in(&pool, "one_by_one", &events, 1).await;
    let odd = build_in(&pool, "odd_batches", &events, 7).await;
    let pages = build_in(&pool, "pages", &events, 2_000).await;
    println!(
        "catalog apply of {} events: one by one {:.0}/s, 7 per batch {:.0}/s, 2000 per batch {:.0}/s",
        events.len(),
        events.len() as f64 / one_by_one.as_secs_f64(),
        events.len() as f64 / odd.as_secs_f64(),
        events.len() as f64 / pages.as_secs_f64(),
    );
    let expected = dump(&pool, "one_by_one").await;
    assert!(expected.len() > 100);
    assert_same(&expected, &dump(&pool, "odd_batches").await, "batches of 7");
    assert_same(&expected, &dump(&pool, "pages").await, "pages of 2000");
    let low: i64 = sqlx::query_scalar("select count(*) from pages.product_stock where low_stock")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        low > 0,
        "thresholds of 45 under 50 received make some SKUs low"
    );
}
