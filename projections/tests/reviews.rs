//! The `reviews` read model against a real store (issue 23): a product's rating is folded
//! again from its published reviews batch by batch, so hiding a review takes it out,
//! hiding it twice changes nothing, restoring counts it once, an edit moves the average and
//! a withdrawal drops it; and a rebuild equals the live build.

mod common;

use std::sync::Arc;

use commands::handler::CommandHandler;
use commands::handlers::Handlers;
use commands::store::postgres::PgEventStore;
use commands::store::EventStore;
use domain::id::{OrderId, ProductId, ReviewId, UserId, VendorId};
use domain::reviews::{NewReview, Review, ReviewCommand, ReviewText};
use projections::reviews::ReviewsProjection;
use projections::Runner;
use sqlx::PgPool;
use uuid::Uuid;

struct Shop {
    store: Arc<dyn EventStore>,
    handlers: Arc<Handlers>,
    runner: Runner,
    pool: PgPool,
}

impl Shop {
    fn new(pool: PgPool) -> Shop {
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let master = commands::privacy::MasterKey::from_bytes([7; 32]);
        let keys = Arc::new(commands::privacy::DataKeys::new(pool.clone(), master, None));
        let runner = Runner::new(store.clone(), pool.clone(), Arc::new(ReviewsProjection))
            .with_keys(keys.clone());
        let handlers = Handlers::new(&store, keys, 100);
        Shop {
            store: handlers.store.clone(),
            handlers,
            runner,
            pool,
        }
    }

    async fn project(&self) {
        let n: i64 = sqlx::query_scalar("select count(*) from store.events")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        let events = common::all_events(&*self.store, n as usize).await;
        self.runner.apply_batch(&events).await.unwrap();
    }

    async fn run(&self, review: Uuid, command: ReviewCommand) {
        self.handlers
            .reviews
            .handle(
                &CommandHandler::<Review>::stream_id(review),
                command,
                common::meta(),
            )
            .await
            .unwrap();
    }

    async fn write(&self, product: Uuid, author: Uuid, rating: u8) -> Uuid {
        let id = Uuid::new_v4();
        let command = ReviewCommand::Write(Box::new(NewReview {
            review_id: ReviewId::new(id),
            product_id: ProductId::new(product),
            vendor_id: Some(VendorId::new(Uuid::from_u128(42))),
            author_id: UserId::new(author),
            text: text(rating),
            order_id: OrderId::new(Uuid::new_v4()),
            proof: vec![Uuid::new_v4(), Uuid::new_v4()],
            at: chrono::Utc::now(),
        }));
        self.run(id, command).await;
        id
    }

    /// `(count, average, [stars 1..5])` of `product`; `None` without published reviews.
    async fn rating(&self, product: Uuid) -> Option<(i32, f64, Vec<i32>)> {
        self.project().await;
        let row: Option<(i32, f64, i32, i32, i32, i32, i32)> = sqlx::query_as(
            "select review_count, average::float8, stars_1, stars_2, stars_3, stars_4, stars_5
               from reviews.product_ratings where product_id = $1",
        )
        .bind(product)
        .fetch_optional(&self.pool)
        .await
        .unwrap();
        row.map(|(c, a, s1, s2, s3, s4, s5)| (c, a, vec![s1, s2, s3, s4, s5]))
    }

    async fn dump(&self) -> Vec<String> {
        let mut all = Vec::new();
        for table in ["reviews", "product_ratings"] {
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "select row(t.*)::text from reviews.{table} t order by 1"
            )))
            .fetch_all(&self.pool)
            .await
            .unwrap();
            all.extend(rows.into_iter().map(|r| format!("{table}: {r}")));
        }
        all
    }
}

fn text(rating: u8) -> ReviewText {
    ReviewText {
        rating,
        title: "A lamp".into(),
        body: "It lights.".into(),
        images: vec![],
    }
}

fn moderate(visible: bool) -> ReviewCommand {
    ReviewCommand::Moderate {
        visible,
        reason: "moderation".into(),
        at: chrono::Utc::now(),
    }
}

#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn ratings_are_folded_from_published_reviews_and_a_rebuild_equals_the_live_build(
    pool: PgPool,
) {
    let shop = Shop::new(pool);
    let lamp = Uuid::new_v4();
    let (ann, dana, bob) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let five = shop.write(lamp, ann, 5).await;
    let two = shop.write(lamp, dana, 2).await;
    assert_eq!(shop.rating(lamp).await, Some((2, 3.5, vec![0, 1, 0, 0, 1])));

    // Hidden: out of the rating; hidden again: no change; restored: counted once.
    shop.run(two, moderate(false)).await;
    assert_eq!(shop.rating(lamp).await, Some((1, 5.0, vec![0, 0, 0, 0, 1])));
    shop.run(two, moderate(false)).await;
    assert_eq!(shop.rating(lamp).await, Some((1, 5.0, vec![0, 0, 0, 0, 1])));
    shop.run(two, moderate(true)).await;
    assert_eq!(shop.rating(lamp).await, Some((2, 3.5, vec![0, 1, 0, 0, 1])));

    // An edit moves the average; a helpful vote does not.
    shop.run(
        two,
        ReviewCommand::Edit {
            by: UserId::new(dana),
            text: text(4),
            at: chrono::Utc::now(),
        },
    )
    .await;
    shop.run(
        two,
        ReviewCommand::MarkHelpful {
            by: UserId::new(bob),
            at: chrono::Utc::now(),
        },
    )
    .await;
    assert_eq!(shop.rating(lamp).await, Some((2, 4.5, vec![0, 0, 0, 1, 1])));

    // Withdrawn: gone from the reviews and the rating; hiding the last leaves none.
    shop.run(
        five,
        ReviewCommand::Withdraw {
            by: UserId::new(ann),
            at: chrono::Utc::now(),
        },
    )
    .await;
    assert_eq!(shop.rating(lamp).await, Some((1, 4.0, vec![0, 0, 0, 1, 0])));
    let vendor: Option<(i32, f64)> = sqlx::query_as(
        "select review_count, average::float8 from reviews.vendor_ratings where vendor_id = $1",
    )
    .bind(Uuid::from_u128(42))
    .fetch_optional(&shop.pool)
    .await
    .unwrap();
    assert_eq!(vendor, Some((1, 4.0)));
    shop.run(two, moderate(false)).await;
    assert_eq!(shop.rating(lamp).await, None);
    shop.run(two, moderate(true)).await;
    shop.project().await;

    let live = shop.dump().await;
    assert_eq!(live.len(), 2, "{live:#?}");
    projections::rebuild::rebuild(
        shop.store.clone(),
        &shop.pool,
        Arc::new(ReviewsProjection),
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(shop.dump().await, live, "rebuilt vs live");
}
