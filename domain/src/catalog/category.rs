//! A category: a node of the catalog's tree.

use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Upcast};
use crate::id::CategoryId;
use crate::value::Slug;

use super::rules::{name_ok, CatalogError, MAX_CATEGORY_DEPTH};

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
    /// Files the category under `parent_id` (the root when `None`). `ancestors` is the
    /// new parent's path as the use case walked it from the category streams: the parent
    /// itself first, then its parent, up to a root. The move is refused when the category
    /// is on that path (a cycle) or the path is longer than the tree may be deep.
    Move {
        parent_id: Option<CategoryId>,
        ancestors: Vec<CategoryId>,
    },
    /// Gives the category another slug (claimed by the use case).
    ChangeSlug {
        slug: Slug,
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
    CategorySlugChanged {
        from: Slug,
        to: Slug,
    },
}

crate::domain_event!(CategoryEvent {
    CategoryCreated,
    CategoryRenamed,
    CategoryMoved,
    CategorySlugChanged
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
            CategoryCommand::Move {
                parent_id,
                ancestors,
            } => {
                let id = s.category_id.ok_or(CatalogError::NotCreated)?;
                if *parent_id == Some(id) {
                    return Err(CatalogError::OwnParent);
                }
                if let Some(parent) = parent_id {
                    if ancestors.contains(&id) {
                        return Err(CatalogError::Cycle(*parent));
                    }
                }
                if ancestors.len() >= MAX_CATEGORY_DEPTH {
                    return Err(CatalogError::TooDeep);
                }
                if *parent_id == s.parent_id {
                    return Ok(vec![]);
                }
                Ok(vec![CategoryEvent::CategoryMoved {
                    parent_id: *parent_id,
                }])
            }
            CategoryCommand::ChangeSlug { slug } => {
                s.category_id.ok_or(CatalogError::NotCreated)?;
                Ok(match &s.slug {
                    Some(old) if old == slug => vec![],
                    old => vec![CategoryEvent::CategorySlugChanged {
                        from: old.clone().unwrap_or_else(|| slug.clone()),
                        to: slug.clone(),
                    }],
                })
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
            CategoryEvent::CategorySlugChanged { to, .. } => s.slug = Some(to.clone()),
        }
        s
    }
}
