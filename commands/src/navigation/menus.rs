//! Reading and replacing a menu.

use domain::catalog::{Category, Product, ProductStatus};
use domain::navigation::{
    checked_items, links, Link, Menu, MenuItem, MenuName, MenuState, NavigationCommand,
    NavigationError,
};

use super::error::NavigationUseError;
use crate::handler::{CommandHandler, CommandMeta};
use crate::handlers::Handlers;
use crate::store::Position;

/// The menu as a command left it.
#[derive(Debug, Clone)]
pub struct MenuDecided {
    pub state: MenuState,
    /// Where the command's last event sits in `$all`; `None` when nothing was appended.
    pub position: Option<Position>,
}

/// The id of a menu's stream: `navigation-header`.
pub fn menu_stream(menu: MenuName) -> String {
    CommandHandler::<Menu>::stream_id(menu)
}

/// The menu's tree now (empty until staff set it).
pub async fn menu(handlers: &Handlers, menu: MenuName) -> Result<MenuState, NavigationUseError> {
    let (state, _) = handlers
        .navigation
        .load(&menu_stream(menu))
        .await
        .map_err(|e| NavigationUseError::Failed(e.to_string()))?;
    Ok(state)
}

fn dangling(field: String, message: &str) -> NavigationUseError {
    NavigationUseError::Invalid {
        field,
        message: message.to_owned(),
    }
}

/// Every category and product the tree links to exists (and a product is not archived),
/// read from the write side, so a menu never points at nothing the moment it is set.
async fn check_links(handlers: &Handlers, items: &[MenuItem]) -> Result<(), NavigationUseError> {
    for (path, link) in links(items) {
        match link {
            Link::Category { category_id } => {
                let (c, _) = handlers
                    .categories
                    .load(&CommandHandler::<Category>::stream_id(category_id))
                    .await
                    .map_err(|e| NavigationUseError::Failed(e.to_string()))?;
                if c.category_id.is_none() {
                    return Err(dangling(format!("{path}.category_id"), "no such category"));
                }
            }
            Link::Product { product_id } => {
                let (p, _) = handlers
                    .products
                    .load(&CommandHandler::<Product>::stream_id(product_id))
                    .await
                    .map_err(|e| NavigationUseError::Failed(e.to_string()))?;
                match p.created {
                    None => return Err(dangling(format!("{path}.product_id"), "no such product")),
                    Some(r) if r.status == ProductStatus::Archived => {
                        return Err(dangling(
                            format!("{path}.product_id"),
                            "the product is archived, off sale for good",
                        ))
                    }
                    Some(_) => {}
                }
            }
            Link::Page { .. } | Link::Url { .. } => {}
        }
    }
    Ok(())
}

/// Replaces the menu's whole tree: its shape is checked first (by the rules), then its
/// links against the catalog; nothing is appended unless both pass. The same tree again
/// appends nothing.
#[tracing::instrument(skip_all, fields(menu = %menu), err)]
pub async fn replace_menu(
    handlers: &Handlers,
    menu: MenuName,
    items: Vec<MenuItem>,
    meta: &CommandMeta,
) -> Result<MenuDecided, NavigationUseError> {
    // The shape first: a tree of 10,000 nodes is refused before any of them is looked up.
    let items = checked_items(&items).map_err(|e| match e {
        NavigationError::Invalid { field, message } => {
            NavigationUseError::Invalid { field, message }
        }
        other => NavigationUseError::Failed(other.to_string()),
    })?;
    check_links(handlers, &items).await?;
    let handled = handlers
        .navigation
        .handle(
            &menu_stream(menu),
            NavigationCommand::ReplaceMenu { menu, items },
            meta.clone(),
        )
        .await?;
    Ok(MenuDecided {
        state: self::menu(handlers, menu).await?,
        position: handled.position,
    })
}
