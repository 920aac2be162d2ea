//! A product with its variants, attributes, images and SEO slug.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::aggregate::{Aggregate, Upcast};
use crate::id::{CategoryId, ImageId, ProductId, UserId, VariantId};
use crate::money::Money;
use crate::value::{line, Sku, Slug};

use super::rules::{
    attributes_ok, description_ok, name_ok, price_ok, CatalogError, MAX_ALT, MAX_IMAGES,
    MAX_VARIANTS,
};

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
