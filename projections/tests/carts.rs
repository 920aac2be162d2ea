//! The carts read model against a real store: lines and totals in minor units, the coupon's
//! discount preview, guest merges, checkout, applied effectively once.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, Position, RecordedEvent};
use domain::cart::{Cart, CartCommand, CartLine};
use domain::coupon::{Coupon, CouponCommand, CouponDiscount, CouponTerms};
use domain::id::{CartId, CartItemId, CouponId, OrderId, ProductId};
use domain::money::{Currency, Money};
use domain::value::{Quantity, Sku};
use projections::carts::CartsProjection;
use projections::Runner;
use sqlx::PgPool;
use uuid::Uuid;

/// How long a polled condition may take before the test fails: nothing when all is well,
/// and a whole workspace's tests on a small machine can be slow.
const PATIENCE: Duration = Duration::from_secs(60);

fn meta(user: Option<Uuid>) -> CommandMeta {
    let id = Uuid::new_v4();
    CommandMeta::new(
        id,
        id,
        Actor {
            user_id: user,
            role: "customer".into(),
        },
        Utc::now(),
    )
}

fn line(product: Uuid, sku: &str, quantity: u32, price: i64) -> CartLine {
    CartLine {
        item_id: CartItemId::new(Uuid::new_v4()),
        product_id: ProductId::new(product),
        variant_id: None,
        sku: Sku::parse(sku).unwrap(),
        quantity: Quantity::new(quantity).unwrap(),
        unit_price: Money::new(price, Currency::USD),
    }
}

async fn all_events(store: &dyn EventStore, n: usize) -> Vec<RecordedEvent> {
    // $all shows a commit once older transactions of the cluster have ended.
    let deadline = std::time::Instant::now() + PATIENCE;
    while std::time::Instant::now() < deadline {
        let events = store.read_all(Position::START, 10_000).await.unwrap();
        if events.len() >= n {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("$all did not show {n} events within {PATIENCE:?}");
}

struct Shop {
    pool: PgPool,
    store: Arc<dyn EventStore>,
    carts: CommandHandler<Cart>,
    coupons: CommandHandler<Coupon>,
    appended: usize,
    runner: Runner,
}

impl Shop {
    fn new(pool: PgPool) -> Shop {
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        Shop {
            carts: CommandHandler::new(store.clone(), 100),
            coupons: CommandHandler::new(store.clone(), 100),
            runner: Runner::new(store.clone(), pool.clone(), Arc::new(CartsProjection)),
            appended: 0,
            store,
            pool,
        }
    }

    async fn cart(&mut self, cart: Uuid, user: Option<Uuid>, command: CartCommand) {
        let handled = self
            .carts
            .handle(
                &CommandHandler::<Cart>::stream_id(cart),
                command,
                meta(user),
            )
            .await
            .unwrap();
        self.appended += handled.events.len();
    }

    async fn coupon(&mut self, coupon: Uuid, command: CouponCommand) {
        let handled = self
            .coupons
            .handle(
                &CommandHandler::<Coupon>::stream_id(coupon),
                command,
                meta(None),
            )
            .await
            .unwrap();
        self.appended += handled.events.len();
    }

    /// Applies every event appended so far; the checkpoint skips those already applied.
    async fn project(&self) {
        let events = all_events(&*self.store, self.appended).await;
        self.runner.apply_batch(&events).await.unwrap();
    }

    /// subtotal, discount, total, item count, coupon.
    async fn totals(&self, cart: Uuid) -> (i64, i64, i64, i32, Option<String>) {
        sqlx::query_as(
            "select subtotal, discount, total, item_count, coupon_code from carts.carts where cart_id = $1",
        )
        .bind(cart)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }
}

/// Lines land in minor units, a repeated product adds to its line, a coupon's preview is
/// taken off, and a batch delivered twice changes nothing the second time.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_cart_shows_lines_totals_and_its_coupon(pool: PgPool) {
    let mut shop = Shop::new(pool.clone());
    let user = Uuid::new_v4();
    let (mug, tee) = (Uuid::new_v4(), Uuid::new_v4());
    let coupon = Uuid::new_v4();
    shop.coupon(
        coupon,
        CouponCommand::Create {
            coupon_id: CouponId::new(coupon),
            terms: CouponTerms {
                code: "save10".into(),
                discount: CouponDiscount::Percent {
                    basis_points: 1_000,
                },
                valid_from: None,
                valid_until: None,
                max_uses: None,
                max_uses_per_customer: None,
                min_order: Some(Money::new(5_000, Currency::USD)),
                scope: Default::default(),
            },
        },
    )
    .await;
    let at = Utc::now();
    shop.cart(
        user,
        Some(user),
        CartCommand::AddItem {
            line: line(mug, "MUG-1", 2, 1250),
            at,
        },
    )
    .await;
    shop.cart(
        user,
        Some(user),
        CartCommand::AddItem {
            line: line(mug, "MUG-1", 1, 1250),
            at,
        },
    )
    .await;
    shop.cart(
        user,
        Some(user),
        CartCommand::ApplyCoupon {
            code: "save10".into(),
        },
    )
    .await;
    shop.project().await;
    // 3 x 12.50 = 37.50, under the coupon's 50.00 minimum: no discount yet.
    assert_eq!(
        shop.totals(user).await,
        (3750, 0, 3750, 3, Some("SAVE10".into()))
    );

    shop.cart(
        user,
        Some(user),
        CartCommand::AddItem {
            line: line(tee, "TEE-M", 1, 2000),
            at,
        },
    )
    .await;
    shop.project().await;
    // 57.50, 10% off = 5.75.
    assert_eq!(
        shop.totals(user).await,
        (5750, 575, 5175, 4, Some("SAVE10".into()))
    );
    let (owner, currency): (Option<Uuid>, Option<String>) =
        sqlx::query_as("select user_id, currency from carts.carts where cart_id = $1")
            .bind(user)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((owner, currency.as_deref()), (Some(user), Some("USD")));

    let events = all_events(&*shop.store, shop.appended).await;
    let again = Runner::new(shop.store.clone(), pool.clone(), Arc::new(CartsProjection));
    assert_eq!(
        again.apply_batch(&events).await.unwrap(),
        0,
        "already covered by the checkpoint"
    );
    assert_eq!(shop.totals(user).await.2, 5175);

    // A deactivated coupon no longer takes anything off the carts that carry it.
    shop.coupon(coupon, CouponCommand::Deactivate).await;
    shop.project().await;
    assert_eq!(
        shop.totals(user).await,
        (5750, 0, 5750, 4, Some("SAVE10".into()))
    );
}

/// Changing and removing lines, merging a guest's cart and checking out keep the rows and
/// totals in step with the aggregate.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn merge_update_remove_and_checkout(pool: PgPool) {
    let mut shop = Shop::new(pool.clone());
    let user = Uuid::new_v4();
    let guest = Uuid::new_v4();
    let (mug, tee) = (Uuid::new_v4(), Uuid::new_v4());
    let at = Utc::now();
    let mug_line = line(mug, "MUG-1", 1, 1000);
    shop.cart(
        user,
        Some(user),
        CartCommand::AddItem {
            line: mug_line.clone(),
            at,
        },
    )
    .await;
    let guest_lines = vec![line(mug, "MUG-1", 2, 1000), line(tee, "TEE-M", 1, 500)];
    for l in &guest_lines {
        shop.cart(
            guest,
            None,
            CartCommand::AddItem {
                line: l.clone(),
                at,
            },
        )
        .await;
    }
    shop.cart(
        user,
        Some(user),
        CartCommand::MergeGuestCart {
            guest_cart_id: CartId::new(guest),
            lines: guest_lines,
        },
    )
    .await;
    shop.project().await;
    assert_eq!(shop.totals(user).await, (3500, 0, 3500, 4, None));
    let guest_owner: Option<Uuid> =
        sqlx::query_scalar("select user_id from carts.carts where cart_id = $1")
            .bind(guest)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(guest_owner, None, "a guest's cart belongs to nobody");

    shop.cart(
        user,
        Some(user),
        CartCommand::UpdateItem {
            item_id: mug_line.item_id,
            quantity: Quantity::new(5).unwrap(),
        },
    )
    .await;
    shop.project().await;
    assert_eq!(shop.totals(user).await, (5500, 0, 5500, 6, None));
    let (quantity, subtotal): (i32, i64) = sqlx::query_as(
        "select quantity, subtotal from carts.cart_items where cart_id = $1 and item_id = $2",
    )
    .bind(user)
    .bind(mug_line.item_id.as_uuid())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((quantity, subtotal), (5, 5000));

    shop.cart(
        user,
        Some(user),
        CartCommand::RemoveItem {
            item_id: mug_line.item_id,
        },
    )
    .await;
    shop.project().await;
    assert_eq!(shop.totals(user).await, (500, 0, 500, 1, None));

    let order = Uuid::new_v4();
    shop.cart(
        user,
        Some(user),
        CartCommand::CheckOut {
            order_id: OrderId::new(order),
            at,
        },
    )
    .await;
    shop.project().await;
    assert_eq!(shop.totals(user).await, (0, 0, 0, 0, None));
    let (last, lines): (Option<Uuid>, i64) = sqlx::query_as(
        "select last_order_id, (select count(*) from carts.cart_items i where i.cart_id = c.cart_id)
           from carts.carts c where cart_id = $1",
    )
    .bind(user)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((last, lines), (Some(order), 0));
}

/// Saved lines leave the cart's rows and totals and come back, a share is found by its
/// hash until revoked, a copy joins by SKU, an expiry takes everything; a batch delivered
/// twice changes nothing, and a replay of the log equals the live tables.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn saved_lines_shares_copies_and_expiry(pool: PgPool) {
    let mut shop = Shop::new(pool.clone());
    let (ann, eve) = (Uuid::new_v4(), Uuid::new_v4());
    let (mug, tee) = (Uuid::new_v4(), Uuid::new_v4());
    let at = Utc::now();
    let mug_line = line(mug, "MUG-1", 2, 1000);
    for l in [mug_line.clone(), line(tee, "TEE-M", 1, 500)] {
        shop.cart(ann, Some(ann), CartCommand::AddItem { line: l, at })
            .await;
    }
    shop.cart(
        ann,
        Some(ann),
        CartCommand::SaveForLater {
            item_id: mug_line.item_id,
        },
    )
    .await;
    let hash = "0f".repeat(32);
    shop.cart(
        ann,
        Some(ann),
        CartCommand::Share {
            token_hash: hash.clone(),
            at,
        },
    )
    .await;
    shop.project().await;
    shop.project().await;
    assert_eq!(shop.totals(ann).await, (500, 0, 500, 1, None));
    let saved: Vec<(Uuid, i32)> =
        sqlx::query_as("select item_id, quantity from carts.cart_saved_items where cart_id = $1")
            .bind(ann)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(saved, [(mug_line.item_id.as_uuid(), 2)]);
    let shared: Option<Uuid> =
        sqlx::query_scalar("select cart_id from carts.cart_shares where token_hash = $1")
            .bind(&hash)
            .fetch_optional(&pool)
            .await
            .unwrap();
    assert_eq!(shared, Some(ann));

    // Eve copies the tee twice and a mug: one tee line of 2.
    shop.cart(
        eve,
        Some(eve),
        CartCommand::CopyLines {
            source_cart_id: CartId::new(ann),
            lines: vec![line(tee, "TEE-M", 1, 500), line(mug, "MUG-1", 1, 1000)],
        },
    )
    .await;
    shop.cart(
        eve,
        Some(eve),
        CartCommand::CopyLines {
            source_cart_id: CartId::new(ann),
            lines: vec![line(tee, "TEE-M", 1, 500)],
        },
    )
    .await;
    shop.cart(
        ann,
        Some(ann),
        CartCommand::MoveToCart {
            item_id: mug_line.item_id,
        },
    )
    .await;
    shop.cart(ann, Some(ann), CartCommand::RevokeShare).await;
    shop.project().await;
    assert_eq!(shop.totals(eve).await, (2000, 0, 2000, 3, None));
    assert_eq!(shop.totals(ann).await, (2500, 0, 2500, 3, None));
    let left: (i64, i64) = sqlx::query_as(
        "select (select count(*) from carts.cart_saved_items), (select count(*) from carts.cart_shares)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left, (0, 0));

    shop.cart(eve, Some(eve), CartCommand::Expire { at: Utc::now() })
        .await;
    shop.project().await;
    assert_eq!(shop.totals(eve).await, (0, 0, 0, 0, None));
    let check = projections::rebuild::verify(
        shop.store.clone(),
        &pool,
        Arc::new(CartsProjection),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert!(check.matches(), "{check:?}");
}

/// A coupon scoped to a category previews its share of that category's lines only (the
/// product's category from the catalog's events); redemptions and releases count its
/// uses; new terms, deactivation and reactivation reach the row and the carts carrying
/// it; a batch delivered twice changes nothing.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_scoped_coupon_previews_its_lines_and_counts_its_uses(pool: PgPool) {
    use domain::catalog::{CreateProduct, Product, ProductCommand};
    use domain::coupon::{CouponLine, CouponScope};
    use domain::id::{CategoryId, UserId};

    let mut shop = Shop::new(pool.clone());
    let products: CommandHandler<Product> = CommandHandler::new(shop.store.clone(), 10);
    let shoes = CategoryId::new(Uuid::new_v4());
    let (boot, book) = (Uuid::new_v4(), Uuid::new_v4());
    for (id, category, sku) in [
        (boot, shoes, "BOOT-1"),
        (book, CategoryId::new(Uuid::new_v4()), "BOOK-1"),
    ] {
        let create = CreateProduct {
            product_id: ProductId::new(id),
            sku: Sku::parse(sku).unwrap(),
            name: sku.into(),
            slug: domain::value::Slug::from_name(sku).unwrap(),
            description: None,
            category_id: category,
            price: Money::new(1_000, Currency::USD),
            attributes: Default::default(),
            seo: Default::default(),
            vendor_id: None,
            publish: true,
            at: Utc::now(),
        };
        let handled = products
            .handle(
                &CommandHandler::<Product>::stream_id(id),
                ProductCommand::Create(Box::new(create)),
                meta(None),
            )
            .await
            .unwrap();
        shop.appended += handled.events.len();
    }
    let coupon = Uuid::new_v4();
    let terms = CouponTerms {
        code: "SHOES".into(),
        discount: CouponDiscount::Percent {
            basis_points: 1_000,
        },
        valid_from: None,
        valid_until: None,
        max_uses: Some(5),
        max_uses_per_customer: None,
        min_order: None,
        scope: CouponScope {
            product_ids: vec![],
            category_ids: vec![shoes],
        },
    };
    shop.coupon(
        coupon,
        CouponCommand::Create {
            coupon_id: CouponId::new(coupon),
            terms: terms.clone(),
        },
    )
    .await;
    let user = Uuid::new_v4();
    for command in [
        CartCommand::AddItem {
            line: line(boot, "BOOT-1", 2, 3_000),
            at: Utc::now(),
        },
        CartCommand::AddItem {
            line: line(book, "BOOK-1", 1, 6_000),
            at: Utc::now(),
        },
        CartCommand::ApplyCoupon {
            code: "SHOES".into(),
        },
    ] {
        shop.cart(user, Some(user), command).await;
    }
    shop.project().await;
    assert_eq!(
        shop.totals(user).await,
        (12_000, 600, 11_400, 3, Some("SHOES".into())),
        "a tenth of the boots only"
    );

    let redeem = |order: u128| CouponCommand::Redeem {
        customer: UserId::new(Uuid::from_u128(order)),
        order_id: OrderId::new(Uuid::from_u128(order)),
        lines: vec![CouponLine {
            product_id: ProductId::new(boot),
            category_id: Some(shoes),
            subtotal: Money::new(3_000, Currency::USD),
        }],
        at: Utc::now(),
    };
    shop.coupon(coupon, redeem(1)).await;
    shop.coupon(coupon, redeem(2)).await;
    shop.coupon(
        coupon,
        CouponCommand::ReleaseRedemption {
            order_id: OrderId::new(Uuid::from_u128(1)),
        },
    )
    .await;
    shop.coupon(
        coupon,
        CouponCommand::Update {
            terms: CouponTerms {
                scope: CouponScope::default(),
                ..terms
            },
        },
    )
    .await;
    shop.coupon(coupon, CouponCommand::Deactivate).await;
    shop.project().await;
    let row: (i32, bool, Vec<Uuid>, Option<i32>) = sqlx::query_as(
        "select uses, active, category_ids, max_uses from carts.coupons where code = 'SHOES'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(row, (1, false, vec![], Some(5)));
    assert_eq!(
        shop.totals(user).await.1,
        0,
        "a deactivated coupon previews nothing"
    );
    shop.coupon(coupon, CouponCommand::Reactivate).await;
    shop.project().await;
    assert_eq!(
        shop.totals(user).await.1,
        1_200,
        "reactivated, without a scope: a tenth of every line"
    );
    // The whole log again: nothing changes.
    let events = all_events(&*shop.store, shop.appended).await;
    shop.runner.apply_batch(&events).await.unwrap();
    let redeemed: Vec<Uuid> =
        sqlx::query_scalar("select order_id from carts.coupon_redemptions where coupon_id = $1")
            .bind(coupon)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(redeemed, vec![Uuid::from_u128(2)]);
    assert_eq!(shop.totals(user).await.1, 1_200);
}
