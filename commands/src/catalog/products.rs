//! A product's life on the write side: created with its SKU and slug claimed (both given
//! back if the product is refused), changed and archived by staff or by the vendor who
//! sells it, and given variants whose SKUs are claimed like the product's own. A change
//! of several fields is rehearsed on the loaded state before its first command is
//! appended; a new slug is claimed for the product and the old one stays its own, so the
//! old address keeps redirecting.

use domain::aggregate::Aggregate;
use domain::catalog::{
    CatalogError, Category, CreateProduct, Product, ProductCommand, ProductRecord, ProductState,
    Seller, Seo, Variant,
};
use domain::id::{CategoryId, ProductId};
use domain::inventory::{Inventory, InventoryError, InventoryState};
use domain::money::{Money, MoneyError};
use domain::value::{Sku, Slug};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::claims::{self, Claim, PRODUCT_SLUG, SKU};
use super::sellers::{selling_store, SellerRefusal};
use crate::handler::{CommandError, CommandHandler, CommandMeta, Handled};
use crate::handlers::Handlers;
use crate::store::{Position, StoreError};
use crate::unique::UniqueError;

/// A product to create; its id is the caller's (random for a request, derived for the demo
/// seed, so that seeding again finds it).
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub product_id: ProductId,
    pub sku: Sku,
    pub name: String,
    /// Derived from `name` when absent.
    pub slug: Option<Slug>,
    pub description: Option<String>,
    pub category_id: CategoryId,
    pub price: Money,
    pub attributes: Map<String, Value>,
    pub seller: Seller,
    /// The SEO title and description; blank or absent: not set.
    pub seo: Seo,
    /// Staff's product stays off sale, a draft, until it is published (a vendor's is a
    /// draft anyway): staff may dress it (images, stock) before anyone can buy it.
    pub draft: bool,
}

/// The fields of a product to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct ProductChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub category_id: Option<CategoryId>,
    /// In the product's currency.
    pub price: Option<Money>,
    /// Replaces the attributes.
    pub attributes: Option<Map<String, Value>>,
    /// A new canonical slug; the old one stays the product's and redirects.
    pub slug: Option<Slug>,
    /// A blank text clears it.
    pub meta_title: Option<String>,
    /// A blank text clears it.
    pub meta_description: Option<String>,
}

/// The product as the use case left it, with the stock of its SKU.
#[derive(Debug, Clone)]
pub struct ProductDecided {
    pub product: ProductRecord,
    /// The product stream's revision.
    pub version: Option<u64>,
    /// The stock of the product's own SKU, summed over warehouses.
    pub stock: InventoryState,
    /// Events appended, uniqueness claims included.
    pub appended: u64,
    /// Where the last command's events sit in `$all`; `None` when it appended nothing (or
    /// no command was needed).
    pub position: Option<Position>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateProductError {
    /// A field the rules refuse before anything is claimed.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("no such category")]
    UnknownCategory,
    #[error("{sku:?} is already used")]
    SkuTaken { sku: String },
    #[error("{slug:?} is already used")]
    SlugTaken { slug: String },
    /// The vendor's store is suspended or was rejected (issue 23).
    #[error(transparent)]
    Seller(SellerRefusal),
    /// The product aggregate refuses it (a bad name, description or attributes).
    #[error(transparent)]
    Rejected(CatalogError),
    #[error(transparent)]
    Store(StoreError),
    /// A command was not decided: contention, an unreadable event, or shutdown.
    #[error("{0}")]
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeProductError {
    #[error("no such product")]
    NotFound,
    /// The vendor-ownership rule: a vendor changes only their own products.
    #[error("a vendor may change only their own products")]
    NotOwner,
    #[error("{sku:?} is already used")]
    SkuTaken { sku: String },
    #[error("{slug:?} is already used")]
    SlugTaken { slug: String },
    /// A variant whose SKU still has stock on hand or reserved: removing it would give the
    /// SKU, and its units, to whoever claims it next.
    #[error("variant {sku} has stock; adjust it to 0 first")]
    VariantHasStock { sku: String },
    /// The vendor's store is suspended or was rejected (issue 23).
    #[error(transparent)]
    Seller(SellerRefusal),
    /// The product aggregate refuses it (archived, a price in another currency, a bad field).
    #[error(transparent)]
    Rejected(CatalogError),
    #[error(transparent)]
    Store(StoreError),
    /// A command was not decided: contention, an unreadable event, or shutdown.
    #[error("{0}")]
    Failed(String),
}

impl From<CommandError<CatalogError>> for CreateProductError {
    fn from(e: CommandError<CatalogError>) -> Self {
        match e {
            CommandError::Rejected(e) => CreateProductError::Rejected(e),
            CommandError::Store(e) => CreateProductError::Store(e),
            other => CreateProductError::Failed(other.to_string()),
        }
    }
}

/// Loading stock never meets a rule: only the store's and the handler's failures.
impl From<CommandError<InventoryError>> for CreateProductError {
    fn from(e: CommandError<InventoryError>) -> Self {
        match e {
            CommandError::Store(e) => CreateProductError::Store(e),
            other => CreateProductError::Failed(other.to_string()),
        }
    }
}

impl From<CommandError<CatalogError>> for ChangeProductError {
    fn from(e: CommandError<CatalogError>) -> Self {
        match e {
            CommandError::Rejected(e) => ChangeProductError::Rejected(e),
            CommandError::Store(e) => ChangeProductError::Store(e),
            other => ChangeProductError::Failed(other.to_string()),
        }
    }
}

impl From<CommandError<InventoryError>> for ChangeProductError {
    fn from(e: CommandError<InventoryError>) -> Self {
        match e {
            CommandError::Store(e) => ChangeProductError::Store(e),
            other => ChangeProductError::Failed(other.to_string()),
        }
    }
}

pub(super) fn product_stream(id: ProductId) -> String {
    CommandHandler::<Product>::stream_id(id)
}

/// The product and its SKU's stock as they stand now.
pub(super) async fn decided<E>(
    h: &Handlers,
    id: ProductId,
    appended: u64,
    position: Option<Position>,
    gone: E,
) -> Result<ProductDecided, E>
where
    E: From<CommandError<CatalogError>> + From<CommandError<InventoryError>>,
{
    let (p, version) = h.products.load(&product_stream(id)).await?;
    let product = p.created.ok_or(gone)?;
    let (stock, _) = h
        .inventory
        .load(&CommandHandler::<Inventory>::stream_id(&product.sku))
        .await?;
    Ok(ProductDecided {
        product,
        version,
        stock,
        appended,
        position,
    })
}

/// Creates a product in an existing category. Its SKU and slug are claimed first, so of
/// two products racing for one of them exactly one is created; a product refused after
/// its claims gives them back.
#[tracing::instrument(skip_all, fields(product_id = %new.product_id, sku = %new.sku))]
pub async fn create_product(
    h: &Handlers,
    new: NewProduct,
    meta: &CommandMeta,
) -> Result<ProductDecided, CreateProductError> {
    selling_store(h, new.seller)
        .await
        .map_err(CreateProductError::Seller)?;
    let slug = match new.slug {
        Some(slug) => slug,
        None => Slug::from_name(&new.name).map_err(|e| CreateProductError::Invalid {
            field: "slug",
            reason: e.message,
        })?,
    };
    // Before any claim: the aggregate would refuse it too, but only after the claims.
    if let Err(e) = Money::price(new.price.amount, new.price.currency) {
        return Err(CreateProductError::Invalid {
            field: "price.amount",
            reason: match e {
                MoneyError::Negative => "must not be negative".into(),
                other => other.to_string(),
            },
        });
    }
    let (category, _) = h
        .categories
        .load(&CommandHandler::<Category>::stream_id(new.category_id))
        .await?;
    if category.category_id.is_none() {
        return Err(CreateProductError::UnknownCategory);
    }
    let owner = new.product_id.as_uuid();
    let sku = claims::claim(h, SKU, new.sku.as_str(), owner, meta)
        .await
        .map_err(|e| match e {
            UniqueError::Taken { key, .. } => CreateProductError::SkuTaken { sku: key },
            other => claim_failed(other),
        })?;
    let slug_claim = match claims::claim(h, PRODUCT_SLUG, slug.as_str(), owner, meta).await {
        Ok(c) => c,
        Err(e) => {
            claims::release(h, &[sku], owner, meta).await;
            return Err(match e {
                UniqueError::Taken { key, .. } => CreateProductError::SlugTaken { slug: key },
                other => claim_failed(other),
            });
        }
    };
    let made = [sku, slug_claim];
    let command = ProductCommand::Create(Box::new(CreateProduct {
        product_id: new.product_id,
        sku: new.sku,
        name: new.name,
        slug,
        description: new.description,
        category_id: new.category_id,
        price: new.price,
        attributes: new.attributes,
        vendor_id: new.seller.vendor(),
        publish: new.seller.publishes() && !new.draft,
        seo: new.seo,
        at: meta.occurred_at,
    }));
    let handled = match h
        .products
        .handle(&product_stream(new.product_id), command, meta.clone())
        .await
    {
        Ok(handled) => handled,
        Err(e) => {
            claims::release(h, &made, owner, meta).await;
            return Err(e.into());
        }
    };
    let appended = claims::appended(&made) + handled.events.len() as u64;
    decided(
        h,
        new.product_id,
        appended,
        handled.position,
        CreateProductError::Failed("the created product is not in its stream".into()),
    )
    .await
}

fn claim_failed(e: UniqueError) -> CreateProductError {
    match e {
        UniqueError::Store(e) => CreateProductError::Store(e),
        other => CreateProductError::Failed(other.to_string()),
    }
}

/// The product `seller` may change: it exists, and a vendor sells it themselves.
pub(super) async fn owned(
    h: &Handlers,
    id: ProductId,
    seller: Seller,
) -> Result<ProductRecord, ChangeProductError> {
    owned_state(h, id, seller)
        .await?
        .created
        .ok_or(ChangeProductError::NotFound)
}

/// [`owned`], as the aggregate's state, for use cases that rehearse their commands.
async fn owned_state(
    h: &Handlers,
    id: ProductId,
    seller: Seller,
) -> Result<ProductState, ChangeProductError> {
    let (s, _) = h.products.load(&product_stream(id)).await?;
    let p = s.created.as_ref().ok_or(ChangeProductError::NotFound)?;
    if !seller.may_change(p) {
        return Err(ChangeProductError::NotOwner);
    }
    Ok(s)
}

/// Decides `commands` one after the other on `state` without appending anything: a
/// request made of several commands is refused whole, before its first is written, when
/// the rules refuse any of them.
fn rehearse(mut state: ProductState, commands: &[ProductCommand]) -> Result<(), CatalogError> {
    for c in commands {
        for e in Product::decide(&state, c)? {
            state = Product::evolve(state, &e);
        }
    }
    Ok(())
}

/// Changes a product's fields and price, as `seller` (staff, or the vendor who sells it).
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn update_product(
    h: &Handlers,
    id: ProductId,
    change: ProductChange,
    seller: Seller,
    meta: &CommandMeta,
) -> Result<ProductDecided, ChangeProductError> {
    let state = owned_state(h, id, seller).await?;
    let stream = product_stream(id);
    let at = meta.occurred_at;
    // Each command of the request, with the name its id is derived from: a second command
    // of one request has its own id and the same correlation.
    let mut commands: Vec<(&[u8], ProductCommand)> = Vec::new();
    if change.name.is_some()
        || change.description.is_some()
        || change.category_id.is_some()
        || change.attributes.is_some()
    {
        commands.push((
            b"update",
            ProductCommand::Update {
                name: change.name,
                description: change.description,
                category_id: change.category_id,
                attributes: change.attributes,
                at,
            },
        ));
    }
    if let Some(price) = change.price {
        commands.push((b"price", ProductCommand::ChangePrice { price, at }));
    }
    if change.meta_title.is_some() || change.meta_description.is_some() {
        commands.push((
            b"seo",
            ProductCommand::ChangeSeo {
                meta_title: change.meta_title,
                meta_description: change.meta_description,
                at,
            },
        ));
    }
    let new_slug = change
        .slug
        .filter(|s| state.created.as_ref().is_some_and(|p| p.slug != *s));
    if let Some(slug) = &new_slug {
        commands.push((
            b"slug",
            ProductCommand::ChangeSlug {
                slug: slug.clone(),
                at,
            },
        ));
    }
    let all: Vec<ProductCommand> = commands.iter().map(|(_, c)| c.clone()).collect();
    rehearse(state, &all).map_err(ChangeProductError::Rejected)?;
    // The new slug is the product's before it is used; a slug it had before is its own
    // still, and claimed again without a write.
    let owner = id.as_uuid();
    let claims: Vec<Claim> = match &new_slug {
        Some(slug) => vec![claims::claim(h, PRODUCT_SLUG, slug.as_str(), owner, meta)
            .await
            .map_err(|e| match e {
                UniqueError::Taken { key, .. } => ChangeProductError::SlugTaken { slug: key },
                UniqueError::Store(e) => ChangeProductError::Store(e),
                other => ChangeProductError::Failed(other.to_string()),
            })?],
        None => vec![],
    };
    let mut appended = claims::appended(&claims);
    let mut last: Option<Handled<_>> = None;
    for (name, command) in commands {
        let mut command_meta = meta.clone();
        if name != b"update" {
            command_meta.command_id = Uuid::new_v5(&meta.command_id, name);
        }
        match h.products.handle(&stream, command, command_meta).await {
            Ok(handled) => {
                appended += handled.events.len() as u64;
                last = Some(handled);
            }
            Err(e) => {
                claims::release(h, &claims, owner, meta).await;
                return Err(e.into());
            }
        }
    }
    // The answer's position is the last command's, as the route always answered it.
    let position = last.and_then(|l| l.position);
    decided(h, id, appended, position, ChangeProductError::NotFound).await
}

/// Takes a product off sale for good, as `seller`; archiving it again changes nothing.
/// Where its events sit in `$all` (`None` when it was archived already).
#[tracing::instrument(skip_all, fields(product_id = %id))]
pub async fn archive_product(
    h: &Handlers,
    id: ProductId,
    seller: Seller,
    meta: &CommandMeta,
) -> Result<Option<Position>, ChangeProductError> {
    owned(h, id, seller).await?;
    let command = ProductCommand::Archive {
        at: meta.occurred_at,
    };
    let handled = h
        .products
        .handle(&product_stream(id), command, meta.clone())
        .await?;
    Ok(handled.position)
}

/// Adds a variant to a product, with the variant's SKU claimed for the product (and given
/// back if the variant is refused).
#[tracing::instrument(skip_all, fields(product_id = %id, sku = %variant.sku))]
pub async fn add_variant(
    h: &Handlers,
    id: ProductId,
    variant: Variant,
    seller: Seller,
    meta: &CommandMeta,
) -> Result<ProductDecided, ChangeProductError> {
    owned(h, id, seller).await?;
    let owner = id.as_uuid();
    let claim: Claim = claims::claim(h, SKU, variant.sku.as_str(), owner, meta)
        .await
        .map_err(|e| match e {
            UniqueError::Taken { key, .. } => ChangeProductError::SkuTaken { sku: key },
            UniqueError::Store(e) => ChangeProductError::Store(e),
            other => ChangeProductError::Failed(other.to_string()),
        })?;
    let handled = match h
        .products
        .handle(
            &product_stream(id),
            ProductCommand::AddVariant(variant),
            meta.clone(),
        )
        .await
    {
        Ok(handled) => handled,
        Err(e) => {
            claims::release(h, std::slice::from_ref(&claim), owner, meta).await;
            return Err(e.into());
        }
    };
    let appended = claims::appended(&[claim]) + handled.events.len() as u64;
    decided(
        h,
        id,
        appended,
        handled.position,
        ChangeProductError::NotFound,
    )
    .await
}
