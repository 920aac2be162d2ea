//! How the catalog's use cases answer when they refuse or fail: one `From` per use-case
//! error, each naming the problem `code` clients branch on (`sku_taken`, `slug_taken`,
//! `catalog_rule`, `invalid_stock_change`, `insufficient_stock`, `inventory_rule`,
//! `category_cycle`, `category_too_deep`).

use commands::catalog::{
    ChangeCategoryError, ChangeProductError, CreateCategoryError, CreateProductError, SellerRefusal,
};
use commands::inventory::StockError;
use domain::catalog::CatalogError;
use domain::inventory::InventoryError;

use crate::error::ApiError;

/// A refusal of the category or product aggregate.
fn catalog_rule(e: CatalogError) -> ApiError {
    match e {
        CatalogError::Invalid { field, reason } => ApiError::invalid_field(field, reason),
        CatalogError::NotCreated => ApiError::NotFound("no such item".into()),
        e @ (CatalogError::UnknownVariant(_) | CatalogError::UnknownImage(_)) => {
            ApiError::NotFound(e.to_string())
        }
        e @ CatalogError::DuplicateVariant(_) => ApiError::conflict("sku_taken", e.to_string()),
        e @ (CatalogError::Cycle(_) | CatalogError::OwnParent) => {
            parent_refused("category_cycle", e)
        }
        e @ CatalogError::TooDeep => parent_refused("category_too_deep", e),
        e @ CatalogError::NotPendingReview => {
            ApiError::conflict("not_pending_review", e.to_string())
        }
        e => ApiError::conflict("catalog_rule", e.to_string()),
    }
}

/// A vendor that may not act now (issue 23).
pub(super) fn seller_refused(e: SellerRefusal) -> ApiError {
    match e {
        e @ SellerRefusal::NotSelling(_) => ApiError::Refused {
            code: "vendor_not_selling",
            detail: e.to_string(),
        },
        e @ SellerRefusal::NotOwner => ApiError::Forbidden(e.to_string()),
        SellerRefusal::Failed(cause) => ApiError::internal(cause),
    }
}

/// A new parent the tree cannot take: 422 naming `parent_id`.
fn parent_refused(code: &'static str, e: CatalogError) -> ApiError {
    let error = crate::error::FieldError::new("parent_id", e.to_string());
    ApiError::UnprocessableEntity {
        code,
        detail: e.to_string(),
        errors: vec![error],
    }
}

impl From<CreateCategoryError> for ApiError {
    fn from(e: CreateCategoryError) -> Self {
        match e {
            CreateCategoryError::Invalid { field, reason } => {
                ApiError::invalid_field(field, reason)
            }
            CreateCategoryError::UnknownParent => {
                ApiError::invalid_field("parent_id", "no such category")
            }
            e @ CreateCategoryError::SlugTaken { .. } => {
                ApiError::conflict("slug_taken", e.to_string())
            }
            CreateCategoryError::Rejected(e) => catalog_rule(e),
            CreateCategoryError::Store(e) => e.into(),
            CreateCategoryError::Failed(e) => ApiError::internal(e),
        }
    }
}

impl From<CreateProductError> for ApiError {
    fn from(e: CreateProductError) -> Self {
        match e {
            CreateProductError::Invalid { field, reason } => ApiError::invalid_field(field, reason),
            CreateProductError::UnknownCategory => {
                ApiError::invalid_field("category_id", "no such category")
            }
            e @ CreateProductError::SkuTaken { .. } => {
                ApiError::conflict("sku_taken", e.to_string())
            }
            e @ CreateProductError::SlugTaken { .. } => {
                ApiError::conflict("slug_taken", e.to_string())
            }
            CreateProductError::Seller(e) => seller_refused(e),
            CreateProductError::Rejected(e) => catalog_rule(e),
            CreateProductError::Store(e) => e.into(),
            CreateProductError::Failed(e) => ApiError::internal(e),
        }
    }
}

impl From<ChangeProductError> for ApiError {
    fn from(e: ChangeProductError) -> Self {
        match e {
            ChangeProductError::NotFound => ApiError::NotFound("no such product".into()),
            e @ ChangeProductError::NotOwner => ApiError::Forbidden(e.to_string()),
            e @ ChangeProductError::SkuTaken { .. } => {
                ApiError::conflict("sku_taken", e.to_string())
            }
            e @ ChangeProductError::SlugTaken { .. } => {
                ApiError::conflict("slug_taken", e.to_string())
            }
            e @ ChangeProductError::VariantHasStock { .. } => {
                ApiError::conflict("variant_has_stock", e.to_string())
            }
            ChangeProductError::Seller(e) => seller_refused(e),
            ChangeProductError::Rejected(e) => catalog_rule(e),
            ChangeProductError::Store(e) => e.into(),
            ChangeProductError::Failed(e) => ApiError::internal(e),
        }
    }
}

impl From<ChangeCategoryError> for ApiError {
    fn from(e: ChangeCategoryError) -> Self {
        match e {
            ChangeCategoryError::NotFound => ApiError::NotFound("no such category".into()),
            ChangeCategoryError::UnknownParent => {
                ApiError::invalid_field("parent_id", "no such category")
            }
            e @ ChangeCategoryError::SlugTaken { .. } => {
                ApiError::conflict("slug_taken", e.to_string())
            }
            ChangeCategoryError::Rejected(e) => catalog_rule(e),
            ChangeCategoryError::Store(e) => e.into(),
            ChangeCategoryError::Failed(e) => ApiError::internal(e),
        }
    }
}

impl From<StockError> for ApiError {
    fn from(e: StockError) -> Self {
        match e {
            StockError::Rejected(
                e @ (InventoryError::ZeroQuantity
                | InventoryError::MissingReason
                | InventoryError::InvalidWarehouse),
            ) => ApiError::UnprocessableEntity {
                code: "invalid_stock_change",
                detail: e.to_string(),
                errors: vec![],
            },
            StockError::Rejected(InventoryError::InvalidText { field, reason }) => {
                let error = crate::error::FieldError::new(field, reason);
                ApiError::UnprocessableEntity {
                    code: "invalid_stock_change",
                    detail: format!("{}: {}", error.field, error.message),
                    errors: vec![error],
                }
            }
            StockError::Rejected(e @ InventoryError::WouldGoNegative { .. }) => {
                ApiError::conflict("insufficient_stock", e.to_string())
            }
            StockError::Rejected(e @ InventoryError::ThresholdOutOfRange { .. }) => {
                ApiError::invalid_field("threshold", e.to_string())
            }
            StockError::Rejected(e) => ApiError::conflict("inventory_rule", e.to_string()),
            e @ (StockError::UnknownWarehouse(_) | StockError::InactiveWarehouse(_)) => {
                let error = crate::error::FieldError::new("warehouse", e.to_string());
                ApiError::UnprocessableEntity {
                    code: "invalid_stock_change",
                    detail: e.to_string(),
                    errors: vec![error],
                }
            }
            StockError::UnknownSku(sku) => {
                ApiError::NotFound(format!("no product, variant or stock has SKU {sku}"))
            }
            StockError::Store(e) => e.into(),
            StockError::Failed(e) => ApiError::internal(e),
        }
    }
}
