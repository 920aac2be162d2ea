//! Writing the demo shop through the catalog's use cases, step by step, each step skipped
//! when the aggregate shows it done, and a report of what was appended.

use std::collections::HashSet;

use chrono::Utc;
use commands::catalog::{
    self, ChangeProductError, CreateCategoryError, CreateProductError, NewCategory, NewProduct,
};
use commands::handler::{Actor, CommandError, CommandHandler, CommandMeta, Handled};
use commands::inventory::{self, StockDecided, StockError, StockReceipt};
use commands::store::Position;
use domain::catalog::{
    CatalogError, Category, Image, Product, ProductCommand, ProductStatus, Seller, Variant,
};
use domain::id::{CategoryId, ImageId, ProductId, VariantId};
use domain::inventory::{Inventory, InventoryError};
use domain::value::Sku;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::{json, Map};

use super::demo::{id, DemoCatalog, DemoCategory, DemoProduct};
use crate::state::AppState;

/// Products seeded at once; each is a short chain of appends, so a few in flight hide the
/// round trips without crowding the pool.
const IN_FLIGHT: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(
        "{0}: seed-demo fills an empty shop (or one it seeded before), and another item \
         holds this key"
    )]
    Taken(String),
    #[error("category: {0}")]
    Category(CreateCategoryError),
    #[error("the demo admin: {0}")]
    Admin(String),
    #[error("product: {0}")]
    Product(CreateProductError),
    #[error("product: {0}")]
    ProductChange(ChangeProductError),
    #[error("catalog: {0}")]
    Catalog(#[from] CommandError<CatalogError>),
    #[error("inventory: {0}")]
    Inventory(#[from] CommandError<InventoryError>),
    #[error("stock: {0}")]
    Stock(#[from] StockError),
    #[error("demo data: {0}")]
    Invalid(String),
}

impl From<CreateCategoryError> for SeedError {
    fn from(e: CreateCategoryError) -> Self {
        match e {
            e @ CreateCategoryError::SlugTaken { .. } => SeedError::Taken(e.to_string()),
            other => SeedError::Category(other),
        }
    }
}

impl From<CreateProductError> for SeedError {
    fn from(e: CreateProductError) -> Self {
        match e {
            e @ (CreateProductError::SkuTaken { .. } | CreateProductError::SlugTaken { .. }) => {
                SeedError::Taken(e.to_string())
            }
            other => SeedError::Product(other),
        }
    }
}

impl From<ChangeProductError> for SeedError {
    fn from(e: ChangeProductError) -> Self {
        match e {
            e @ ChangeProductError::SkuTaken { .. } => SeedError::Taken(e.to_string()),
            other => SeedError::ProductChange(other),
        }
    }
}

/// What a seeding run did.
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    pub categories: usize,
    pub products: usize,
    pub skus: usize,
    /// Zero when the demo catalog was there already.
    pub events_appended: u64,
    /// The `$all` position of the last event appended, to wait for the read models.
    pub position: Option<Position>,
}

impl SeedReport {
    /// The whole demo catalog was there already: this run changed nothing.
    pub fn found_existing(&self) -> bool {
        self.events_appended == 0
    }
}

/// Events appended and the furthest position reached, added up over the steps.
#[derive(Default)]
struct Tally {
    events: u64,
    position: Option<Position>,
}

impl Tally {
    fn record<E>(&mut self, handled: &Handled<E>) {
        self.events += handled.events.len() as u64;
        self.position = self.position.max(handled.position);
    }

    /// A use case's appends, its uniqueness claims included.
    fn add(&mut self, events: u64, position: Option<Position>) {
        self.events += events;
        self.position = self.position.max(position);
    }

    fn merge(&mut self, other: Tally) {
        self.add(other.events, other.position);
    }
}

/// One command of the seed: its id names the step, so a repeat is recognised as one.
fn meta(step: &str) -> CommandMeta {
    CommandMeta::new(
        id("command", step),
        id("correlation", "seed-demo"),
        Actor::system(),
        Utc::now(),
    )
}

fn parse<T>(value: Result<T, domain::value::InvalidValue>) -> Result<T, SeedError> {
    value.map_err(|e| SeedError::Invalid(e.to_string()))
}

/// Writes the demo catalog through the catalog's use cases, skipping whatever exists.
#[tracing::instrument(skip_all, err)]
pub async fn seed_demo(state: &AppState) -> Result<SeedReport, SeedError> {
    let catalog = DemoCatalog::new();
    let mut tally = Tally::default();
    // Parents first: a child's command names its parent.
    for category in &catalog.categories {
        tally.merge(seed_category(state, category).await?);
    }
    // The futures are made up front: a closure inside the stream would make the whole
    // future's `Send` depend on a higher-ranked lifetime the compiler cannot prove, and
    // `seed_demo` must be spawnable.
    let products: Vec<_> = catalog
        .products
        .iter()
        .map(|p| seed_product(state, p))
        .collect();
    let products: Vec<Tally> = stream::iter(products)
        .buffer_unordered(IN_FLIGHT)
        .try_collect()
        .await?;
    for t in products {
        tally.merge(t);
    }
    Ok(SeedReport {
        categories: catalog.categories.len(),
        products: catalog.products.len(),
        skus: catalog.skus(),
        events_appended: tally.events,
        position: tally.position,
    })
}

async fn seed_category(state: &AppState, c: &DemoCategory) -> Result<Tally, SeedError> {
    let mut tally = Tally::default();
    let stream = CommandHandler::<Category>::stream_id(c.id);
    if state
        .handlers
        .categories
        .load(&stream)
        .await?
        .0
        .category_id
        .is_some()
    {
        return Ok(tally);
    }
    let new = NewCategory {
        category_id: CategoryId::new(c.id),
        name: c.name.into(),
        slug: None,
        parent_id: c.parent_id.map(CategoryId::new),
    };
    let step = meta(&format!("category:{}", c.name));
    let created = catalog::create_category(&state.handlers, new, &step).await?;
    tally.add(created.appended, created.position);
    Ok(tally)
}

async fn seed_product(state: &AppState, p: &DemoProduct) -> Result<Tally, SeedError> {
    let mut tally = Tally::default();
    let h = &*state.handlers;
    let product_id = ProductId::new(p.id);
    let stream = CommandHandler::<Product>::stream_id(product_id);
    let sku = parse(Sku::parse(&p.sku))?;
    let (existing, _) = h.products.load(&stream).await?;
    let (has_image, variants, live) = match &existing.created {
        Some(r) => (
            r.images.iter().any(|i| i.url == p.image_url),
            r.variants.iter().map(|v| v.variant_id).collect(),
            r.status != ProductStatus::Archived,
        ),
        None => {
            let new = NewProduct {
                product_id,
                sku: sku.clone(),
                name: p.name.clone(),
                slug: None,
                description: Some(p.description.clone()),
                category_id: CategoryId::new(p.category_id),
                price: p.price,
                attributes: p.attributes.clone(),
                seller: Seller::Staff,
                seo: Default::default(),
                draft: false,
            };
            let step = meta(&format!("product:{}", p.name));
            let created = catalog::create_product(h, new, &step).await?;
            tally.add(created.appended, created.position);
            (false, HashSet::new(), true)
        }
    };
    // Someone archived a demo product: leave it so, its stock included.
    if !live {
        return Ok(tally);
    }
    if !has_image {
        // An image claims nothing: one command of the product's own.
        let image = Image {
            image_id: ImageId::new(id("image", &p.name)),
            url: p.image_url.clone(),
            alt: Some(p.name.clone()),
            position: 0,
        };
        let step = format!("image:{}", p.name);
        let handled = h
            .products
            .handle(&stream, ProductCommand::AddImage(image), meta(&step))
            .await?;
        tally.record(&handled);
    }
    for v in &p.variants {
        if variants.contains(&VariantId::new(v.id)) {
            continue;
        }
        let mut attributes = Map::new();
        attributes.insert("size".into(), json!(v.size));
        let variant = Variant {
            variant_id: VariantId::new(v.id),
            sku: parse(Sku::parse(&v.sku))?,
            name: v.name.clone(),
            price: p.price,
            attributes,
        };
        let step = meta(&format!("variant:{}", v.name));
        let added = catalog::add_variant(h, product_id, variant, Seller::Staff, &step).await?;
        tally.add(added.appended, added.position);
    }
    tally.merge(seed_stock(state, sku, p.stock, p.low_stock_threshold).await?);
    for v in &p.variants {
        tally.merge(seed_stock(state, parse(Sku::parse(&v.sku))?, v.stock, None).await?);
    }
    Ok(tally)
}

/// Receives `quantity` of a SKU that never received any, then sets its threshold.
async fn seed_stock(
    state: &AppState,
    sku: Sku,
    quantity: u32,
    threshold: Option<u32>,
) -> Result<Tally, SeedError> {
    let mut tally = Tally::default();
    let h = &*state.handlers;
    let (stock, _) = h
        .inventory
        .load(&CommandHandler::<Inventory>::stream_id(&sku))
        .await?;
    let mut add = |d: StockDecided| tally.add(d.appended, d.position);
    if stock.received == 0 {
        let receipt = StockReceipt {
            sku: sku.clone(),
            quantity,
            warehouse: None,
        };
        let step = meta(&format!("receive:{sku}"));
        add(inventory::receive_stock(h, receipt, &step).await?);
    }
    if let Some(threshold) = threshold.filter(|&t| stock.low_stock_threshold != Some(t)) {
        let step = meta(&format!("threshold:{sku}"));
        add(inventory::set_low_stock_threshold(h, sku, threshold, &step).await?);
    }
    Ok(tally)
}
