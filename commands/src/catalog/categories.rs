//! Creating a category: its slug is claimed for it first (invariant 7), and given back if
//! the category is then refused.

use domain::catalog::{CatalogError, Category, CategoryCommand, CategoryState};
use domain::id::CategoryId;
use domain::value::Slug;

use super::claims::{self, CATEGORY_SLUG};
use crate::handler::{CommandError, CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::{Position, StoreError};
use crate::unique::UniqueError;

/// A category to create; its id is the caller's (random for a request, derived for the
/// demo seed, so that seeding again finds it).
#[derive(Debug, Clone)]
pub struct NewCategory {
    pub category_id: CategoryId,
    pub name: String,
    /// Derived from `name` when absent.
    pub slug: Option<Slug>,
    pub parent_id: Option<CategoryId>,
}

/// The category as the command left it.
#[derive(Debug, Clone)]
pub struct CategoryDecided {
    pub category_id: CategoryId,
    pub state: CategoryState,
    /// Events appended, the slug's claim included.
    pub appended: u64,
    /// Where the category's events sit in `$all`; `None` when nothing was appended.
    pub position: Option<Position>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateCategoryError {
    /// A field the rules refuse before anything is claimed (a slug that cannot be derived).
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("no such parent category")]
    UnknownParent,
    #[error("{slug:?} is already used")]
    SlugTaken { slug: String },
    /// The category aggregate refuses it (a bad name, its own parent).
    #[error(transparent)]
    Rejected(CatalogError),
    #[error(transparent)]
    Store(StoreError),
    /// The command was not decided: contention, an unreadable event, or shutdown.
    #[error("{0}")]
    Failed(String),
}

impl From<CommandError<CatalogError>> for CreateCategoryError {
    fn from(e: CommandError<CatalogError>) -> Self {
        match e {
            CommandError::Rejected(e) => CreateCategoryError::Rejected(e),
            CommandError::Store(e) => CreateCategoryError::Store(e),
            other => CreateCategoryError::Failed(other.to_string()),
        }
    }
}

impl From<UniqueError> for CreateCategoryError {
    fn from(e: UniqueError) -> Self {
        match e {
            UniqueError::Taken { key, .. } => CreateCategoryError::SlugTaken { slug: key },
            UniqueError::Store(e) => CreateCategoryError::Store(e),
            other => CreateCategoryError::Failed(other.to_string()),
        }
    }
}

/// Creates a category under an existing parent (or as a root), with its slug claimed.
#[tracing::instrument(skip_all, fields(category_id = %new.category_id))]
pub async fn create_category(
    h: &Handlers,
    new: NewCategory,
    meta: &CommandMeta,
) -> Result<CategoryDecided, CreateCategoryError> {
    let slug = match new.slug {
        Some(slug) => slug,
        None => Slug::from_name(&new.name).map_err(|e| CreateCategoryError::Invalid {
            field: "slug",
            reason: e.message,
        })?,
    };
    if let Some(parent) = new.parent_id {
        let (p, _) = h
            .categories
            .load(&CommandHandler::<Category>::stream_id(parent))
            .await?;
        if p.category_id.is_none() {
            return Err(CreateCategoryError::UnknownParent);
        }
    }
    let owner = new.category_id.as_uuid();
    let claim = claims::claim(h, CATEGORY_SLUG, slug.as_str(), owner, meta).await?;
    let command = CategoryCommand::Create {
        category_id: new.category_id,
        name: new.name,
        slug,
        parent_id: new.parent_id,
    };
    let stream = CommandHandler::<Category>::stream_id(new.category_id);
    let handled = match h.categories.handle(&stream, command, meta.clone()).await {
        Ok(handled) => handled,
        Err(e) => {
            claims::release(h, &[claim], owner, meta).await;
            return Err(e.into());
        }
    };
    let (state, _) = h.categories.load(&stream).await?;
    Ok(CategoryDecided {
        category_id: new.category_id,
        state,
        appended: claims::appended(&[claim]) + handled.events.len() as u64,
        position: handled.position,
    })
}
