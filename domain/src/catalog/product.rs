//! A product with its variants, attributes, images and SEO slug.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::aggregate::{Aggregate, Upcast};
use crate::id::{CategoryId, ImageId, ProductId, UserId, VariantId};
use crate::money::Money;
use crate::value::{line, Sku, Slug};

use super::rules::{
    attributes_ok, description_ok, meta_ok, name_ok, price_ok, url_ok, CatalogError, MAX_ALT,
    MAX_IMAGES, MAX_IMAGE_POSITION, MAX_META_DESCRIPTION, MAX_META_TITLE, MAX_VARIANTS,
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

    /// What publishing asks for, by who asks: staff put a product on sale (approving a
    /// vendor's submission); a vendor submits their draft for staff's review.
    pub fn publish(self, at: DateTime<Utc>) -> ProductCommand {
        match self {
            Seller::Staff => ProductCommand::Publish { at },
            Seller::Vendor(_) => ProductCommand::SubmitForReview { at },
        }
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
    /// Off sale: being written, taken off sale, or (later) sent back by review.
    Draft,
    /// A vendor's draft submitted for staff's review; off sale until staff publish it.
    PendingReview,
    /// On sale.
    Active,
    /// Off sale for good.
    Archived,
}

impl ProductStatus {
    /// The name the read model and the API use.
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Draft => "draft",
            ProductStatus::PendingReview => "pending_review",
            ProductStatus::Active => "active",
            ProductStatus::Archived => "archived",
        }
    }
}

/// What search engines are told about a product besides its slug; `None` when not set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seo {
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
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
    pub seo: Seo,
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
    /// Staff's publish: a draft, or a vendor's submission, goes on sale.
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
    /// A vendor's publish: their draft waits for staff's review.
    SubmitForReview {
        at: DateTime<Utc>,
    },
    /// Takes a product off sale (or out of review) back to a draft.
    Unpublish {
        at: DateTime<Utc>,
    },
    /// Staff send a vendor's submission back to a draft, saying why.
    RejectSubmission {
        reason: String,
        at: DateTime<Utc>,
    },
    /// Changes a variant's name, price (the product's currency) or attributes; `None`
    /// leaves one as it is.
    UpdateVariant {
        variant_id: VariantId,
        name: Option<String>,
        price: Option<Money>,
        attributes: Option<Map<String, Value>>,
        at: DateTime<Utc>,
    },
    RemoveVariant {
        variant_id: VariantId,
        at: DateTime<Utc>,
    },
    /// A new canonical slug (claimed by the use case); the old one keeps redirecting.
    ChangeSlug {
        slug: Slug,
        at: DateTime<Utc>,
    },
    /// Sets the SEO title and description: `None` leaves one as it is, a blank text
    /// clears it.
    ChangeSeo {
        meta_title: Option<String>,
        meta_description: Option<String>,
        at: DateTime<Utc>,
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
    ProductSubmittedForReview {
        at: DateTime<Utc>,
    },
    ProductUnpublished {
        at: DateTime<Utc>,
    },
    /// Only the fields that changed are set.
    VariantUpdated {
        variant_id: VariantId,
        name: Option<String>,
        price: Option<Money>,
        attributes: Option<Map<String, Value>>,
        at: DateTime<Utc>,
    },
    /// Names the SKU, which the use case gives back and the read models detach.
    VariantRemoved {
        variant_id: VariantId,
        sku: Sku,
        at: DateTime<Utc>,
    },
    /// `from` stays the product's: it redirects to `to`.
    ProductSlugChanged {
        from: Slug,
        to: Slug,
        at: DateTime<Utc>,
    },
    /// The SEO title and description after the change (`None`: not set).
    ProductSeoChanged {
        meta_title: Option<String>,
        meta_description: Option<String>,
        at: DateTime<Utc>,
    },
    /// Staff sent a vendor's submission back: a draft again, with the reason.
    ProductSubmissionRejected {
        reason: String,
        at: DateTime<Utc>,
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
    ProductSubmittedForReview,
    ProductUnpublished,
    VariantUpdated,
    VariantRemoved,
    ProductSlugChanged,
    ProductSeoChanged,
    ProductSubmissionRejected,
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
    pub seo: Seo,
    /// Slugs the product had before: still its own (claimed), they redirect to `slug`.
    pub old_slugs: Vec<Slug>,
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
            let seo = Seo {
                meta_title: meta_ok("meta_title", c.seo.meta_title.as_deref(), MAX_META_TITLE)?,
                meta_description: meta_ok(
                    "meta_description",
                    c.seo.meta_description.as_deref(),
                    MAX_META_DESCRIPTION,
                )?,
            };
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
            // After the publish: the read model writes a created-and-published product
            // in one statement when the two are neighbours.
            if seo != Seo::default() {
                events.push(E::ProductSeoChanged {
                    meta_title: seo.meta_title,
                    meta_description: seo.meta_description,
                    at: c.at,
                });
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
                ProductStatus::Draft | ProductStatus::PendingReview => {
                    vec![E::ProductPublished { at: *at }]
                }
            },
            C::SubmitForReview { at } => match p.status {
                // Nothing to review: it waits already, or is on sale.
                ProductStatus::PendingReview | ProductStatus::Active => vec![],
                ProductStatus::Archived => return Err(CatalogError::Archived),
                ProductStatus::Draft => vec![E::ProductSubmittedForReview { at: *at }],
            },
            C::Unpublish { at } => match p.status {
                ProductStatus::Draft => vec![],
                ProductStatus::Archived => return Err(CatalogError::Archived),
                ProductStatus::Active | ProductStatus::PendingReview => {
                    vec![E::ProductUnpublished { at: *at }]
                }
            },
            C::RejectSubmission { reason, at } => {
                if p.status != ProductStatus::PendingReview {
                    return Err(CatalogError::NotPendingReview);
                }
                let reason = crate::value::paragraphs("reason", reason, crate::value::MAX_REASON)?;
                if reason.is_empty() {
                    return Err(CatalogError::Invalid {
                        field: "reason",
                        reason: "is required".into(),
                    });
                }
                vec![E::ProductSubmissionRejected { reason, at: *at }]
            }
            C::Archive { at } => match p.status {
                ProductStatus::Archived => vec![],
                _ => vec![E::ProductArchived { at: *at }],
            },
            C::AddVariant(v) => {
                live()?;
                price_ok(&v.price)?;
                same_currency(p, &v.price)?;
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
                v.name = name_ok("name", &v.name)?;
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
                url_ok(&image.url)?;
                if image.position > MAX_IMAGE_POSITION {
                    return Err(CatalogError::Invalid {
                        field: "position",
                        reason: format!("must be 0 to {MAX_IMAGE_POSITION}"),
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
            C::UpdateVariant {
                variant_id,
                name,
                price,
                attributes,
                at,
            } => {
                live()?;
                let v = p
                    .variants
                    .iter()
                    .find(|v| v.variant_id == *variant_id)
                    .ok_or(CatalogError::UnknownVariant(*variant_id))?;
                let name = name
                    .as_deref()
                    .map(|n| name_ok("name", n))
                    .transpose()?
                    .filter(|n| *n != v.name);
                if let Some(price) = price {
                    price_ok(price)?;
                    same_currency(p, price)?;
                }
                if let Some(a) = attributes {
                    attributes_ok(a)?;
                }
                let price = price.filter(|x| *x != v.price);
                let attributes = attributes.clone().filter(|a| *a != v.attributes);
                if name.is_none() && price.is_none() && attributes.is_none() {
                    return Ok(vec![]);
                }
                vec![E::VariantUpdated {
                    variant_id: *variant_id,
                    name,
                    price,
                    attributes,
                    at: *at,
                }]
            }
            C::RemoveVariant { variant_id, at } => {
                let v = p
                    .variants
                    .iter()
                    .find(|v| v.variant_id == *variant_id)
                    .ok_or(CatalogError::UnknownVariant(*variant_id))?;
                vec![E::VariantRemoved {
                    variant_id: *variant_id,
                    sku: v.sku.clone(),
                    at: *at,
                }]
            }
            C::ChangeSlug { slug, at } => {
                live()?;
                if *slug == p.slug {
                    vec![]
                } else {
                    vec![E::ProductSlugChanged {
                        from: p.slug.clone(),
                        to: slug.clone(),
                        at: *at,
                    }]
                }
            }
            C::ChangeSeo {
                meta_title,
                meta_description,
                at,
            } => {
                live()?;
                let seo = Seo {
                    meta_title: match meta_title {
                        Some(t) => meta_ok("meta_title", Some(t), MAX_META_TITLE)?,
                        None => p.seo.meta_title.clone(),
                    },
                    meta_description: match meta_description {
                        Some(d) => meta_ok("meta_description", Some(d), MAX_META_DESCRIPTION)?,
                        None => p.seo.meta_description.clone(),
                    },
                };
                if seo == p.seo {
                    vec![]
                } else {
                    vec![E::ProductSeoChanged {
                        meta_title: seo.meta_title,
                        meta_description: seo.meta_description,
                        at: *at,
                    }]
                }
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
                seo: Seo::default(),
                old_slugs: vec![],
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
            E::ProductSubmittedForReview { .. } => p.status = ProductStatus::PendingReview,
            E::ProductUnpublished { .. } | E::ProductSubmissionRejected { .. } => {
                p.status = ProductStatus::Draft
            }
            E::VariantUpdated {
                variant_id,
                name,
                price,
                attributes,
                ..
            } => {
                if let Some(v) = p.variants.iter_mut().find(|v| v.variant_id == *variant_id) {
                    if let Some(n) = name {
                        v.name = n.clone();
                    }
                    if let Some(x) = price {
                        v.price = *x;
                    }
                    if let Some(a) = attributes {
                        v.attributes = a.clone();
                    }
                }
            }
            E::VariantRemoved { variant_id, .. } => {
                p.variants.retain(|v| v.variant_id != *variant_id)
            }
            E::ProductSlugChanged { from, to, .. } => {
                p.old_slugs.retain(|s| s != to);
                if !p.old_slugs.contains(from) {
                    p.old_slugs.push(from.clone());
                }
                p.slug = to.clone();
            }
            E::ProductSeoChanged {
                meta_title,
                meta_description,
                ..
            } => {
                p.seo = Seo {
                    meta_title: meta_title.clone(),
                    meta_description: meta_description.clone(),
                }
            }
        }
        s
    }
}

/// A variant is priced in its product's currency: carts and orders add them up.
fn same_currency(p: &ProductRecord, price: &Money) -> Result<(), CatalogError> {
    if price.currency == p.price.currency {
        Ok(())
    } else {
        Err(CatalogError::Invalid {
            field: "price.currency",
            reason: format!("must be the product's currency {}", p.price.currency),
        })
    }
}
