//! A catalog at scale for the HTTP benches: the demo catalog (`seed-demo`) and bulk
//! products through the command handler, in the demo's leaf categories, each with a brand,
//! a colour, a material and a model, waited for in the `catalog` read model and analysed
//! (as autovacuum would within a minute of a bulk load).

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use commands::handler::{Actor, CommandHandler, CommandMeta};
use domain::catalog::{CreateProduct, Product, ProductCommand};
use domain::id::{CategoryId, ProductId};
use domain::money::{Currency, Money};
use domain::value::{Sku, Slug};
use gateway::seed::{seed_demo, DemoCatalog};
use gateway::state::AppState;
use serde_json::{json, Map};
use uuid::Uuid;

/// Words of product names: each search term matches about a twelfth of the bulk products.
pub const TERMS: [&str; 12] = [
    "skillet",
    "jacket",
    "lamp",
    "headphones",
    "tent",
    "kettle",
    "tee",
    "shoe",
    "charger",
    "thermostat",
    "backpack",
    "grinder",
];
const STYLES: [&str; 6] = ["Classic", "Compact", "Deluxe", "Travel", "Pro", "Everyday"];
pub const BRANDS: [&str; 20] = [
    "Acme", "Borealis", "Cobalt", "Dune", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper",
    "Kestrel", "Lumen", "Meridian", "Nimbus", "Onyx", "Pioneer", "Quartz", "Ridge", "Summit",
    "Tundra",
];
pub const COLOURS: [&str; 12] = [
    "black", "white", "red", "blue", "green", "grey", "navy", "olive", "sand", "teal", "rust",
    "plum",
];
const MATERIALS: [&str; 8] = [
    "steel",
    "cotton",
    "wool",
    "nylon",
    "leather",
    "bamboo",
    "glass",
    "aluminium",
];

/// What [`seed`] made.
pub struct Seeded {
    /// Every product id, the demo's first.
    pub ids: Vec<Uuid>,
    /// The demo's leaf categories, where the bulk products are filed.
    pub leaves: Vec<Uuid>,
    pub seeding: Duration,
    pub catching_up: Duration,
}

/// The demo catalog plus `products` minus its own, with `models` distinct models.
pub async fn seed(state: &AppState, products: usize, models: usize) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    let seeded = seed_demo(state).await?;
    let catalog = DemoCatalog::new();
    let leaves: Vec<Uuid> = catalog
        .categories
        .iter()
        .filter(|c| c.parent_id.is_some())
        .map(|c| c.id)
        .collect();
    let mut ids: Vec<Uuid> = catalog.products.iter().map(|p| p.id).collect();
    let bulk = products.saturating_sub(ids.len());
    let mut last = seeded.position;
    let handlers = state.handlers.clone();
    for chunk in (0..bulk).collect::<Vec<_>>().chunks(64) {
        let made = futures::future::join_all(chunk.iter().map(|&i| {
            let handlers = handlers.clone();
            let category = leaves[i % leaves.len()];
            async move {
                let id = Uuid::new_v4();
                let mut attributes = Map::new();
                attributes.insert("brand".into(), json!(BRANDS[i % BRANDS.len()]));
                attributes.insert("colour".into(), json!(COLOURS[(i / 3) % COLOURS.len()]));
                attributes.insert(
                    "material".into(),
                    json!(MATERIALS[(i / 7) % MATERIALS.len()]),
                );
                attributes.insert("model".into(), json!(format!("M-{:05}", i % models)));
                let name = format!(
                    "{} {} {}",
                    STYLES[(i / 12) % STYLES.len()],
                    TERMS[i % TERMS.len()],
                    i
                );
                let handled = handlers
                    .products
                    .handle(
                        &CommandHandler::<Product>::stream_id(id),
                        ProductCommand::Create(Box::new(CreateProduct {
                            product_id: ProductId::new(id),
                            sku: Sku::parse(&format!("BULK-{i:06}"))?,
                            name,
                            slug: Slug::parse(&format!("bulk-{i}"))?,
                            description: Some("A bench product.".into()),
                            category_id: CategoryId::new(category),
                            price: Money::new(500 + (i as i64 * 37) % 60_000, Currency::USD),
                            attributes,
                            vendor_id: None,
                            publish: true,
                            seo: Default::default(),
                            at: Utc::now(),
                        })),
                        CommandMeta::new(id, id, Actor::system(), Utc::now()),
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("create a bench product: {e}"))?;
                anyhow::Ok((id, handled.position))
            }
        }))
        .await;
        for m in made {
            let (id, position) = m?;
            ids.push(id);
            last = last.max(position);
        }
    }
    let seeding = started.elapsed();
    let position = last.context("the seed appended nothing")?;
    let caught_started = Instant::now();
    wait_for(state, "catalog", position).await?;
    let catching_up = caught_started.elapsed();
    // What autovacuum does within a minute of a bulk load: without statistics the planner
    // takes a facet filter for one row and joins two filters in a nested loop (147 ms
    // against 2 ms for a filtered search, measured with EXPLAIN ANALYZE).
    for table in [
        "catalog.products",
        "catalog.product_search",
        "catalog.product_facets",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!("analyze {table}")))
            .execute(&state.pool)
            .await?;
    }
    Ok(Seeded {
        ids,
        leaves,
        seeding,
        catching_up,
    })
}

/// Waits (10 minutes at most) until `projection` has applied `position`.
pub async fn wait_for(
    state: &AppState,
    projection: &str,
    position: commands::store::Position,
) -> anyhow::Result<()> {
    let started = Instant::now();
    while projections::checkpoint::position(&state.pool, projection).await? < position {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "{projection} did not catch up within 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}
