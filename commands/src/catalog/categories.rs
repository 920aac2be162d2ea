//! Creating a category: its slug is claimed for it first (invariant 7), and given back if
//! the category is then refused. Changing one: a new name, a new slug (claimed, the old
//! one given back), a new place in the tree (never under itself).

use domain::aggregate::Aggregate;
use domain::catalog::{CatalogError, Category, CategoryCommand, CategoryState, MAX_CATEGORY_DEPTH};
use domain::id::CategoryId;
use domain::value::Slug;

use super::claims::{self, Claim, CATEGORY_SLUG};
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

/// The fields of a category to change; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct CategoryChange {
    pub name: Option<String>,
    /// A new slug, claimed for the category; the old one is given back.
    pub slug: Option<Slug>,
    /// `Some(None)` moves the category to the root.
    pub parent_id: Option<Option<CategoryId>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeCategoryError {
    #[error("no such category")]
    NotFound,
    #[error("no such parent category")]
    UnknownParent,
    #[error("{slug:?} is already used")]
    SlugTaken { slug: String },
    /// The category aggregate refuses it (a bad name, a cycle, a tree too deep).
    #[error(transparent)]
    Rejected(CatalogError),
    #[error(transparent)]
    Store(StoreError),
    /// A command was not decided: contention, an unreadable event, or shutdown.
    #[error("{0}")]
    Failed(String),
}

impl From<CommandError<CatalogError>> for ChangeCategoryError {
    fn from(e: CommandError<CatalogError>) -> Self {
        match e {
            CommandError::Rejected(e) => ChangeCategoryError::Rejected(e),
            CommandError::Store(e) => ChangeCategoryError::Store(e),
            other => ChangeCategoryError::Failed(other.to_string()),
        }
    }
}

fn category_stream(id: CategoryId) -> String {
    CommandHandler::<Category>::stream_id(id)
}

/// The new parent's path up the tree, read from the category streams: the parent first,
/// then its ancestors up to a root. The walk stops at the moved category itself (the
/// category then refuses the cycle), and past the deepest tree the rules allow (the
/// category then refuses the depth), so it reads a bounded number of streams.
async fn ancestors(
    h: &Handlers,
    moved: CategoryId,
    parent: CategoryId,
) -> Result<Vec<CategoryId>, ChangeCategoryError> {
    let mut path = Vec::new();
    let mut next = Some(parent);
    while let Some(c) = next {
        if path.len() > MAX_CATEGORY_DEPTH || path.contains(&c) {
            break;
        }
        let (s, _) = h.categories.load(&category_stream(c)).await?;
        if s.category_id.is_none() {
            if path.is_empty() {
                return Err(ChangeCategoryError::UnknownParent);
            }
            // An ancestor the log does not know: the walk ends as at a root.
            break;
        }
        path.push(c);
        if c == moved {
            break;
        }
        next = s.parent_id;
    }
    Ok(path)
}

/// Renames a category, gives it another slug, or moves it under another parent (or to
/// the root), refusing a move under itself or one of its descendants. Every command of
/// the change is decided before the first is appended, so a refused change writes nothing.
#[tracing::instrument(skip_all, fields(category_id = %id))]
pub async fn change_category(
    h: &Handlers,
    id: CategoryId,
    change: CategoryChange,
    meta: &CommandMeta,
) -> Result<CategoryDecided, ChangeCategoryError> {
    let stream = category_stream(id);
    let (state, _) = h.categories.load(&stream).await?;
    if state.category_id.is_none() {
        return Err(ChangeCategoryError::NotFound);
    }
    let mut commands: Vec<(&[u8], CategoryCommand)> = Vec::new();
    if let Some(name) = change.name {
        commands.push((b"rename", CategoryCommand::Rename { name }));
    }
    let old_slug = state.slug.clone();
    let new_slug = change.slug.filter(|s| old_slug.as_ref() != Some(s));
    if let Some(slug) = &new_slug {
        commands.push((b"slug", CategoryCommand::ChangeSlug { slug: slug.clone() }));
    }
    if let Some(parent_id) = change.parent_id {
        let ancestors = match parent_id {
            Some(p) => ancestors(h, id, p).await?,
            None => vec![],
        };
        commands.push((
            b"move",
            CategoryCommand::Move {
                parent_id,
                ancestors,
            },
        ));
    }
    let mut rehearsed = state.clone();
    for (_, c) in &commands {
        for e in Category::decide(&rehearsed, c).map_err(ChangeCategoryError::Rejected)? {
            rehearsed = Category::evolve(rehearsed, &e);
        }
    }
    let owner = id.as_uuid();
    let claimed: Vec<Claim> = match &new_slug {
        Some(slug) => vec![claims::claim(h, CATEGORY_SLUG, slug.as_str(), owner, meta)
            .await
            .map_err(|e| match e {
                UniqueError::Taken { key, .. } => ChangeCategoryError::SlugTaken { slug: key },
                UniqueError::Store(e) => ChangeCategoryError::Store(e),
                other => ChangeCategoryError::Failed(other.to_string()),
            })?],
        None => vec![],
    };
    let mut appended = claims::appended(&claimed);
    let mut position = None;
    for (i, (name, command)) in commands.into_iter().enumerate() {
        // The commands of one request: their own ids, the same correlation.
        let mut command_meta = meta.clone();
        if i > 0 {
            command_meta.command_id = uuid::Uuid::new_v5(&meta.command_id, name);
        }
        match h.categories.handle(&stream, command, command_meta).await {
            Ok(handled) => {
                appended += handled.events.len() as u64;
                position = handled.position.or(position);
            }
            Err(e) => {
                claims::release(h, &claimed, owner, meta).await;
                return Err(e.into());
            }
        }
    }
    // The old slug is free again once the new one is the category's.
    if let (Some(old), Some(_)) = (&old_slug, &new_slug) {
        let old = Claim {
            kind: CATEGORY_SLUG,
            key: old.as_str().to_owned(),
            appended: true,
        };
        claims::release(h, &[old], owner, meta).await;
    }
    let (state, _) = h.categories.load(&stream).await?;
    Ok(CategoryDecided {
        category_id: id,
        state,
        appended,
        position,
    })
}
