//! The catalog: categories (a tree) and products with variants, attributes, images and an
//! SEO slug. Uniqueness of SKUs and slugs across the catalog is the command side's job
//! (`commands::unique`); these aggregates keep each product and category consistent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::aggregate::{Aggregate, Upcast};
use crate::id::{CategoryId, ImageId, ProductId, UserId, VariantId};
use crate::money::{Money, MoneyError};
use crate::value::{line, paragraphs, InvalidValue, Sku, Slug};

pub const MAX_NAME: usize = 200;
pub const MAX_DESCRIPTION: usize = 20_000;
pub const MAX_ATTRIBUTES: usize = 100;
pub const MAX_VARIANTS: usize = 100;
pub const MAX_IMAGES: usize = 50;
/// Longest attribute name, and longest attribute value as JSON text.
pub const MAX_ATTRIBUTE_NAME: usize = 100;
pub const MAX_ATTRIBUTE_VALUE: usize = 1_000;
/// Longest alternative text of an image.
pub const MAX_ALT: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("it already exists")]
    AlreadyCreated,
    #[error("no such item")]
    NotCreated,
    #[error("the product is archived")]
    Archived,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("a category cannot be its own parent")]
    OwnParent,
    #[error("variant {0} exists already")]
    DuplicateVariant(String),
    #[error("no image {0}")]
    UnknownImage(ImageId),
    #[error("the price must use the product's currency {0}")]
    CurrencyChange(String),
}

impl From<InvalidValue> for CatalogError {
    fn from(e: InvalidValue) -> Self {
        CatalogError::Invalid {
            field: e.field,
            reason: e.message,
        }
    }
}

/// A category, product or variant name: one line (`crate::value::line`), 1 to
/// [`MAX_NAME`] characters.
fn name_ok(field: &'static str, name: &str) -> Result<String, CatalogError> {
    let name = line(field, name, MAX_NAME)?;
    if name.is_empty() {
        return Err(CatalogError::Invalid {
            field,
            reason: format!("must be 1 to {MAX_NAME} characters"),
        });
    }
    Ok(name)
}

/// A description may span lines; it is kept as sent once the rule accepts it.
fn description_ok(description: Option<&String>) -> Result<(), CatalogError> {
    if let Some(d) = description {
        paragraphs("description", d, MAX_DESCRIPTION)?;
    }
    Ok(())
}

/// A price is 0 to [`MAX_PRICE`](crate::money::MAX_PRICE) minor units: with the cart's
/// and the order's limits on lines and quantities, no total built from prices can
/// overflow.
fn price_ok(price: &Money) -> Result<(), CatalogError> {
    Money::price(price.amount, price.currency)
        .map(|_| ())
        .map_err(|e| CatalogError::Invalid {
            field: "price.amount",
            reason: match e {
                MoneyError::Negative => "must not be negative".into(),
                other => other.to_string(),
            },
        })
}

/// At most [`MAX_ATTRIBUTES`]; each name one line of at most [`MAX_ATTRIBUTE_NAME`], each
/// value at most [`MAX_ATTRIBUTE_VALUE`] characters of JSON, its texts without control
/// characters but line breaks and tabs.
fn attributes_ok(a: &Map<String, Value>) -> Result<(), CatalogError> {
    fn texts_ok(v: &Value) -> Result<(), InvalidValue> {
        match v {
            Value::String(s) => paragraphs("attributes", s, MAX_ATTRIBUTE_VALUE).map(drop),
            Value::Array(items) => items.iter().try_for_each(texts_ok),
            Value::Object(o) => o.iter().try_for_each(|(k, v)| {
                line("attributes", k, MAX_ATTRIBUTE_NAME)?;
                texts_ok(v)
            }),
            _ => Ok(()),
        }
    }
    let invalid = |reason: String| CatalogError::Invalid {
        field: "attributes",
        reason,
    };
    if a.len() > MAX_ATTRIBUTES {
        return Err(invalid(format!("at most {MAX_ATTRIBUTES} attributes")));
    }
    for (name, value) in a {
        if line("attributes", name, MAX_ATTRIBUTE_NAME)?.is_empty() {
            return Err(invalid("an attribute needs a name".into()));
        }
        if value.to_string().chars().count() > MAX_ATTRIBUTE_VALUE {
            return Err(invalid(format!(
                "{name}: a value is at most {MAX_ATTRIBUTE_VALUE} characters of JSON"
            )));
        }
        texts_ok(value)?;
    }
    Ok(())
}

// ----------------------------------------------------------------------------- category

pub struct Category;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CategoryCommand {
    Create {
        category_id: CategoryId,
        name: String,
        slug: Slug,
        parent_id: Option<CategoryId>,
    },
    Rename {
        name: String,
    },
    Move {
        parent_id: Option<CategoryId>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum CategoryEvent {
    CategoryCreated {
        category_id: CategoryId,
        name: String,
        slug: Slug,
        parent_id: Option<CategoryId>,
    },
    CategoryRenamed {
        name: String,
    },
    CategoryMoved {
        parent_id: Option<CategoryId>,
    },
}

crate::domain_event!(CategoryEvent {
    CategoryCreated,
    CategoryRenamed,
    CategoryMoved
});
impl Upcast for CategoryEvent {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryState {
    pub category_id: Option<CategoryId>,
    pub name: String,
    pub slug: Option<Slug>,
    pub parent_id: Option<CategoryId>,
}

impl Aggregate for Category {
    const CATEGORY: &'static str = "category";
    type State = CategoryState;
    type Command = CategoryCommand;
    type Event = CategoryEvent;
    type Error = CatalogError;

    fn decide(
        s: &CategoryState,
        cmd: &CategoryCommand,
    ) -> Result<Vec<CategoryEvent>, CatalogError> {
        match cmd {
            CategoryCommand::Create {
                category_id,
                name,
                slug,
                parent_id,
            } => {
                if s.category_id.is_some() {
                    return Err(CatalogError::AlreadyCreated);
                }
                if *parent_id == Some(*category_id) {
                    return Err(CatalogError::OwnParent);
                }
                Ok(vec![CategoryEvent::CategoryCreated {
                    category_id: *category_id,
                    name: name_ok("name", name)?,
                    slug: slug.clone(),
                    parent_id: *parent_id,
                }])
            }
            CategoryCommand::Rename { name } => {
                s.category_id.ok_or(CatalogError::NotCreated)?;
                let name = name_ok("name", name)?;
                Ok(if name == s.name {
                    vec![]
                } else {
                    vec![CategoryEvent::CategoryRenamed { name }]
                })
            }
            CategoryCommand::Move { parent_id } => {
                let id = s.category_id.ok_or(CatalogError::NotCreated)?;
                if *parent_id == Some(id) {
                    return Err(CatalogError::OwnParent);
                }
                Ok(vec![CategoryEvent::CategoryMoved {
                    parent_id: *parent_id,
                }])
            }
        }
    }

    fn evolve(mut s: CategoryState, event: &CategoryEvent) -> CategoryState {
        match event {
            CategoryEvent::CategoryCreated {
                category_id,
                name,
                slug,
                parent_id,
            } => {
                s.category_id = Some(*category_id);
                s.name = name.clone();
                s.slug = Some(slug.clone());
                s.parent_id = *parent_id;
            }
            CategoryEvent::CategoryRenamed { name } => s.name = name.clone(),
            CategoryEvent::CategoryMoved { parent_id } => s.parent_id = *parent_id,
        }
        s
    }
}

// ------------------------------------------------------------------------------ product

pub struct Product;

/// Who puts a product up for sale: the marketplace's staff, or one vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seller {
    Staff,
    Vendor(UserId),
}

impl Seller {
    /// The vendor a new product is filed under; `None` for the marketplace's own stock.
    pub fn vendor(self) -> Option<UserId> {
        match self {
            Seller::Staff => None,
            Seller::Vendor(v) => Some(v),
        }
    }

    /// Staff put products on sale at once; a vendor's wait for review as drafts.
    pub fn publishes(self) -> bool {
        self == Seller::Staff
    }

    /// Staff may change any product; a vendor only their own.
    pub fn may_change(self, product: &ProductRecord) -> bool {
        match self {
            Seller::Staff => true,
            Seller::Vendor(v) => product.vendor_id == Some(v),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    Draft,
    Active,
    Archived,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Variant {
    pub variant_id: VariantId,
    pub sku: Sku,
    pub name: String,
    pub price: Money,
    pub attributes: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Image {
    pub image_id: ImageId,
    pub url: String,
    pub alt: Option<String>,
    pub position: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateProduct {
    pub product_id: ProductId,
    pub sku: Sku,
    pub name: String,
    pub slug: Slug,
    pub description: Option<String>,
    pub category_id: CategoryId,
    pub price: Money,
    pub attributes: Map<String, Value>,
    /// The vendor who sells it; `None` for the marketplace's own stock.
    pub vendor_id: Option<UserId>,
    /// Staff create products live; a vendor's start as drafts.
    pub publish: bool,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductCommand {
    Create(Box<CreateProduct>),
    Update {
        name: Option<String>,
        description: Option<String>,
        category_id: Option<CategoryId>,
        attributes: Option<Map<String, Value>>,
        at: DateTime<Utc>,
    },
    ChangePrice {
        price: Money,
        at: DateTime<Utc>,
    },
    Publish {
        at: DateTime<Utc>,
    },
    Archive {
        at: DateTime<Utc>,
    },
    AddVariant(Variant),
    AddImage(Image),
    RemoveImage {
        image_id: ImageId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ProductEvent {
    ProductCreated {
        product_id: ProductId,
        sku: Sku,
        name: String,
        slug: Slug,
        description: Option<String>,
        category_id: CategoryId,
        price: Money,
        attributes: Map<String, Value>,
        vendor_id: Option<UserId>,
        at: DateTime<Utc>,
    },
    ProductUpdated {
        name: Option<String>,
        description: Option<String>,
        category_id: Option<CategoryId>,
        attributes: Option<Map<String, Value>>,
        at: DateTime<Utc>,
    },
    ProductPriceChanged {
        from: Money,
        to: Money,
        at: DateTime<Utc>,
    },
    ProductPublished {
        at: DateTime<Utc>,
    },
    ProductArchived {
        at: DateTime<Utc>,
    },
    VariantAdded {
        variant: Variant,
    },
    ImageAdded {
        image: Image,
    },
    ImageRemoved {
        image_id: ImageId,
    },
}

crate::domain_event!(ProductEvent {
    ProductCreated,
    ProductUpdated,
    ProductPriceChanged,
    ProductPublished,
    ProductArchived,
    VariantAdded,
    ImageAdded,
    ImageRemoved,
});
impl Upcast for ProductEvent {}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductState {
    pub created: Option<ProductRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRecord {
    pub product_id: ProductId,
    pub sku: Sku,
    pub name: String,
    pub slug: Slug,
    pub description: Option<String>,
    pub category_id: CategoryId,
    pub price: Money,
    pub attributes: Map<String, Value>,
    pub vendor_id: Option<UserId>,
    pub status: ProductStatus,
    pub variants: Vec<Variant>,
    pub images: Vec<Image>,
}

impl Aggregate for Product {
    const CATEGORY: &'static str = "product";
    type State = ProductState;
    type Command = ProductCommand;
    type Event = ProductEvent;
    type Error = CatalogError;

    fn decide(s: &ProductState, cmd: &ProductCommand) -> Result<Vec<ProductEvent>, CatalogError> {
        use ProductCommand as C;
        use ProductEvent as E;
        if let C::Create(c) = cmd {
            if s.created.is_some() {
                return Err(CatalogError::AlreadyCreated);
            }
            price_ok(&c.price)?;
            attributes_ok(&c.attributes)?;
            description_ok(c.description.as_ref())?;
            let mut events = vec![E::ProductCreated {
                product_id: c.product_id,
                sku: c.sku.clone(),
                name: name_ok("name", &c.name)?,
                slug: c.slug.clone(),
                description: c.description.clone(),
                category_id: c.category_id,
                price: c.price,
                attributes: c.attributes.clone(),
                vendor_id: c.vendor_id,
                at: c.at,
            }];
            if c.publish {
                events.push(E::ProductPublished { at: c.at });
            }
            return Ok(events);
        }
        let p = s.created.as_ref().ok_or(CatalogError::NotCreated)?;
        let live = || {
            if p.status == ProductStatus::Archived {
                Err(CatalogError::Archived)
            } else {
                Ok(())
            }
        };
        Ok(match cmd {
            C::Create(_) => unreachable!("handled above"),
            C::Update {
                name,
                description,
                category_id,
                attributes,
                at,
            } => {
                live()?;
                let name = name.as_deref().map(|n| name_ok("name", n)).transpose()?;
                if let Some(a) = attributes {
                    attributes_ok(a)?;
                }
                description_ok(description.as_ref())?;
                if name.is_none()
                    && description.is_none()
                    && category_id.is_none()
                    && attributes.is_none()
                {
                    return Ok(vec![]);
                }
                vec![E::ProductUpdated {
                    name,
                    description: description.clone(),
                    category_id: *category_id,
                    attributes: attributes.clone(),
                    at: *at,
                }]
            }
            C::ChangePrice { price, at } => {
                live()?;
                price_ok(price)?;
                if price.currency != p.price.currency {
                    return Err(CatalogError::CurrencyChange(p.price.currency.to_string()));
                }
                if *price == p.price {
                    vec![]
                } else {
                    vec![E::ProductPriceChanged {
                        from: p.price,
                        to: *price,
                        at: *at,
                    }]
                }
            }
            C::Publish { at } => match p.status {
                ProductStatus::Active => vec![],
                ProductStatus::Archived => return Err(CatalogError::Archived),
                ProductStatus::Draft => vec![E::ProductPublished { at: *at }],
            },
            C::Archive { at } => match p.status {
                ProductStatus::Archived => vec![],
                _ => vec![E::ProductArchived { at: *at }],
            },
            C::AddVariant(v) => {
                live()?;
                price_ok(&v.price)?;
                attributes_ok(&v.attributes)?;
                if p.variants.len() >= MAX_VARIANTS {
                    return Err(CatalogError::Invalid {
                        field: "variants",
                        reason: format!("at most {MAX_VARIANTS}"),
                    });
                }
                if v.sku == p.sku
                    || p.variants
                        .iter()
                        .any(|x| x.sku == v.sku || x.variant_id == v.variant_id)
                {
                    return Err(CatalogError::DuplicateVariant(v.sku.to_string()));
                }
                let mut v = v.clone();
                v.name = name_ok("variant name", &v.name)?;
                vec![E::VariantAdded { variant: v }]
            }
            C::AddImage(image) => {
                live()?;
                if p.images.len() >= MAX_IMAGES {
                    return Err(CatalogError::Invalid {
                        field: "images",
                        reason: format!("at most {MAX_IMAGES}"),
                    });
                }
                let url_ok = (image.url.starts_with("https://")
                    || image.url.starts_with("http://"))
                    && image.url.len() <= 2048
                    && !image
                        .url
                        .chars()
                        .any(|c| c.is_control() || c.is_whitespace());
                if !url_ok {
                    return Err(CatalogError::Invalid {
                        field: "url",
                        reason: "must be an http(s) URL of at most 2048 characters".into(),
                    });
                }
                if let Some(alt) = &image.alt {
                    line("alt", alt, MAX_ALT)?;
                }
                if p.images.iter().any(|i| i.image_id == image.image_id) {
                    return Ok(vec![]);
                }
                vec![E::ImageAdded {
                    image: image.clone(),
                }]
            }
            C::RemoveImage { image_id } => {
                if !p.images.iter().any(|i| i.image_id == *image_id) {
                    return Err(CatalogError::UnknownImage(*image_id));
                }
                vec![E::ImageRemoved {
                    image_id: *image_id,
                }]
            }
        })
    }

    fn evolve(mut s: ProductState, event: &ProductEvent) -> ProductState {
        use ProductEvent as E;
        if let E::ProductCreated {
            product_id,
            sku,
            name,
            slug,
            description,
            category_id,
            price,
            attributes,
            vendor_id,
            ..
        } = event
        {
            s.created = Some(ProductRecord {
                product_id: *product_id,
                sku: sku.clone(),
                name: name.clone(),
                slug: slug.clone(),
                description: description.clone(),
                category_id: *category_id,
                price: *price,
                attributes: attributes.clone(),
                vendor_id: *vendor_id,
                status: ProductStatus::Draft,
                variants: vec![],
                images: vec![],
            });
            return s;
        }
        let Some(p) = s.created.as_mut() else {
            return s;
        };
        match event {
            E::ProductCreated { .. } => {}
            E::ProductUpdated {
                name,
                description,
                category_id,
                attributes,
                ..
            } => {
                if let Some(n) = name {
                    p.name = n.clone();
                }
                if let Some(d) = description {
                    p.description = Some(d.clone());
                }
                if let Some(c) = category_id {
                    p.category_id = *c;
                }
                if let Some(a) = attributes {
                    p.attributes = a.clone();
                }
            }
            E::ProductPriceChanged { to, .. } => p.price = *to,
            E::ProductPublished { .. } => p.status = ProductStatus::Active,
            E::ProductArchived { .. } => p.status = ProductStatus::Archived,
            E::VariantAdded { variant } => p.variants.push(variant.clone()),
            E::ImageAdded { image } => {
                p.images.push(image.clone());
                p.images.sort_by_key(|i| i.position);
            }
            E::ImageRemoved { image_id } => p.images.retain(|i| i.image_id != *image_id),
        }
        s
    }
}
