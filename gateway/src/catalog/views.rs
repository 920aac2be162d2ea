//! The catalog's views: what a product, a category and a SKU's stock look like in an answer.
//!
//! Each is built `From` the write side's state (a command's answer: what it just decided)
//! and from the catalog read model's rows (a query's answer, built beside its row type).
//! A command's answer is the part the write side knows; the read model adds what it keeps
//! besides (times, images, counts over the tree), in the `#[serde(flatten)]` part that a
//! command's answer leaves out.

use crate::pricing::views::ProductPricing;
use crate::reviews::views::RatingSummary;
use chrono::{DateTime, Utc};
use commands::catalog::{CategoryDecided, ImageDecided, ProductDecided, VariantDecided};
use commands::inventory::StockDecided;
use domain::catalog::ProductStatus;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::views::Money;

/// A product. A command answers the fields the write side holds; `GET /products/{id}` and
/// the listings add images, variants, the vendor and times once the catalog has caught up.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub category_id: Uuid,
    pub price: Money,
    /// `draft` (off sale), `pending_review` (a vendor's, awaiting staff), `active` (on
    /// sale) or `archived`.
    pub status: String,
    #[schema(value_type = Object)]
    pub attributes: Value,
    /// The SEO title; null when not set.
    pub meta_title: Option<String>,
    /// The SEO description; null when not set.
    pub meta_description: Option<String>,
    pub stock: ProductStock,
    /// The product stream's revision.
    pub version: u64,
    /// Queries only; a command's answer leaves these fields out.
    #[serde(flatten)]
    #[schema(value_type = ProductListing)]
    pub listing: Option<ProductListing>,
    /// Search only: how well it matches `q` (higher first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<f32>,
    /// Queries only: one unit's price after the price rules live now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<ProductPricing>,
    /// Queries only: the product's published reviews (average, count, histogram), from
    /// the `reviews` read model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<RatingSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductStock {
    /// On hand minus reserved, summed over the product's SKUs (never below 0).
    pub available: i64,
    /// Staff only, on queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_hand: Option<i64>,
    /// Staff only, on queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved: Option<i64>,
    /// Staff only, on queries: a SKU of the product is below its low-stock threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_stock: Option<bool>,
}

/// What the catalog read model shows of a product beyond the write side's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductListing {
    #[schema(required = false)]
    pub vendor_id: Option<Uuid>,
    /// By position.
    #[schema(value_type = Vec<ImageView>)]
    #[schema(required = false)]
    pub images: Value,
    /// In the order added.
    #[schema(value_type = Vec<VariantView>)]
    #[schema(required = false)]
    pub variants: Value,
    #[schema(required = false)]
    pub created_at: DateTime<Utc>,
    #[schema(required = false)]
    pub updated_at: DateTime<Utc>,
}

impl ProductView {
    /// The view without the counts only staff see.
    pub fn public(mut self) -> Self {
        self.stock.on_hand = None;
        self.stock.reserved = None;
        self.stock.low_stock = None;
        self
    }
}

fn status_name(s: ProductStatus) -> &'static str {
    s.as_str()
}

impl From<&ProductDecided> for ProductView {
    fn from(d: &ProductDecided) -> Self {
        let p = &d.product;
        ProductView {
            id: p.product_id.as_uuid(),
            sku: p.sku.as_str().to_owned(),
            name: p.name.clone(),
            slug: p.slug.as_str().to_owned(),
            description: p.description.clone(),
            category_id: p.category_id.as_uuid(),
            price: p.price.into(),
            status: status_name(p.status).to_owned(),
            attributes: Value::Object(p.attributes.clone()),
            meta_title: p.seo.meta_title.clone(),
            meta_description: p.seo.meta_description.clone(),
            stock: ProductStock {
                available: d.stock.available().max(0),
                on_hand: None,
                reserved: None,
                low_stock: None,
            },
            // A created product's stream has events: the revision is always there.
            version: d.version.unwrap_or_default(),
            listing: None,
            rank: None,
            pricing: None,
            rating: None,
        }
    }
}

/// A category. A command answers the fields the write side holds; the tree adds its depth,
/// its product counts and its children.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub parent_id: Option<Uuid>,
    /// Queries only; a command's answer leaves these fields out.
    #[serde(flatten)]
    #[schema(value_type = CategoryTree)]
    pub tree: Option<CategoryTree>,
}

/// A category's place in the tree, as the catalog read model counts it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryTree {
    #[schema(required = false)]
    pub depth: i32,
    /// Active products in it and below.
    #[schema(required = false)]
    pub product_count: i32,
    /// Active products filed directly under it.
    #[schema(required = false)]
    pub direct_product_count: i32,
    #[schema(required = false, no_recursion)]
    pub children: Vec<CategoryView>,
}

impl From<&CategoryDecided> for CategoryView {
    fn from(d: &CategoryDecided) -> Self {
        CategoryView {
            id: d.category_id.as_uuid(),
            name: d.state.name.clone(),
            slug: d
                .state
                .slug
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            parent_id: d.state.parent_id.map(|p| p.as_uuid()),
            tree: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryRef {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
}

/// One category with its ancestors (root first) and its children.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryDetail {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub parent_id: Option<Uuid>,
    pub depth: i32,
    pub product_count: i32,
    pub direct_product_count: i32,
    pub ancestors: Vec<CategoryRef>,
    pub children: Vec<CategoryView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One SKU's stock, summed over warehouses. A command answers the counts it decided; a
/// query adds what the read model keeps of the SKU.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockView {
    pub sku: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    /// Queries only; a command's answer leaves these fields out.
    #[serde(flatten)]
    #[schema(value_type = StockLevels)]
    pub levels: Option<StockLevels>,
}

/// What the catalog read model keeps of a SKU beyond its counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockLevels {
    #[schema(required = false)]
    pub sold: i64,
    #[schema(required = false)]
    pub low_stock_threshold: Option<i32>,
    #[schema(required = false)]
    pub low_stock: bool,
    #[schema(required = false)]
    pub product_id: Option<Uuid>,
    #[schema(required = false)]
    pub variant_id: Option<Uuid>,
    #[schema(required = false)]
    pub updated_at: Option<DateTime<Utc>>,
    /// The SKU's stock per warehouse, by code (the `inventory` read model).
    #[schema(required = false)]
    pub warehouses: Vec<crate::views::WarehouseStock>,
}

impl From<&StockDecided> for StockView {
    fn from(d: &StockDecided) -> Self {
        StockView {
            sku: d.sku.as_str().to_owned(),
            on_hand: d.state.on_hand_total(),
            reserved: d.state.reserved(),
            available: d.state.available(),
            levels: None,
        }
    }
}

/// One of a product's images.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImageView {
    pub id: Uuid,
    /// http or https.
    pub url: String,
    pub alt: Option<String>,
    /// Display order, ascending.
    pub position: u32,
}

impl From<&ImageDecided> for ImageView {
    fn from(d: &ImageDecided) -> Self {
        ImageView {
            id: d.image.image_id.as_uuid(),
            url: d.image.url.clone(),
            alt: d.image.alt.clone(),
            position: d.image.position,
        }
    }
}

/// One of a product's variants: its own SKU, price, attributes and stock.
#[derive(Debug, Serialize, ToSchema)]
pub struct VariantView {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    /// In the product's currency.
    pub price: Money,
    #[schema(value_type = Object)]
    pub attributes: Value,
    pub stock: VariantStock,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VariantStock {
    /// On hand minus reserved for the variant's SKU, summed over warehouses (never below 0).
    pub available: i64,
}

impl From<&VariantDecided> for VariantView {
    fn from(d: &VariantDecided) -> Self {
        let v = &d.variant;
        VariantView {
            id: v.variant_id.as_uuid(),
            sku: v.sku.as_str().to_owned(),
            name: v.name.clone(),
            price: v.price.into(),
            attributes: Value::Object(v.attributes.clone()),
            stock: VariantStock {
                available: d.stock.available().max(0),
            },
        }
    }
}
