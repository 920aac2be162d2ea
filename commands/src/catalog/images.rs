//! A product's images, added and removed by staff or the vendor who sells it. An image is
//! a link (http or https) until a file service exists; it claims nothing.

use domain::catalog::{Image, ProductCommand, Seller};
use domain::id::{ImageId, ProductId};

use super::products::{owned, product_stream, ChangeProductError};
use crate::handler::CommandMeta;
use crate::handlers::Handlers;
use crate::store::Position;

/// An image to add; its id is the caller's.
#[derive(Debug, Clone)]
pub struct NewImage {
    pub image_id: ImageId,
    pub url: String,
    pub alt: Option<String>,
    /// Where it sorts among the product's images; after the last one when absent.
    pub position: Option<u32>,
}

/// The image as the product keeps it.
#[derive(Debug, Clone)]
pub struct ImageDecided {
    pub image: Image,
    /// Where its event sits in `$all`.
    pub position: Option<Position>,
}

/// Adds an image to a product, as `seller`.
#[tracing::instrument(skip_all, fields(product_id = %id, image_id = %new.image_id))]
pub async fn add_image(
    h: &Handlers,
    id: ProductId,
    new: NewImage,
    seller: Seller,
    meta: &CommandMeta,
) -> Result<ImageDecided, ChangeProductError> {
    let product = owned(h, id, seller).await?;
    let last = product.images.iter().map(|i| i.position).max();
    let image = Image {
        image_id: new.image_id,
        url: new.url,
        alt: new.alt,
        position: new
            .position
            .unwrap_or_else(|| last.map_or(0, |p| p.saturating_add(1))),
    };
    let handled = h
        .products
        .handle(
            &product_stream(id),
            ProductCommand::AddImage(image.clone()),
            meta.clone(),
        )
        .await?;
    Ok(ImageDecided {
        image,
        position: handled.position,
    })
}

/// Removes one of a product's images, as `seller`; where its event sits in `$all`.
#[tracing::instrument(skip_all, fields(product_id = %id, %image_id))]
pub async fn remove_image(
    h: &Handlers,
    id: ProductId,
    image_id: ImageId,
    seller: Seller,
    meta: &CommandMeta,
) -> Result<Option<Position>, ChangeProductError> {
    owned(h, id, seller).await?;
    let handled = h
        .products
        .handle(
            &product_stream(id),
            ProductCommand::RemoveImage { image_id },
            meta.clone(),
        )
        .await?;
    Ok(handled.position)
}
