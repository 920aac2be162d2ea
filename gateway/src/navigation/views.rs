//! A menu as the API answers and takes it.

use domain::navigation::{Link, MenuItem, MenuName, MenuState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Where an item leads, by `type`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LinkView {
    /// A category of the catalog.
    Category { category_id: Uuid },
    /// A product of the catalog (not archived when the menu was set).
    Product { product_id: Uuid },
    /// A content page, by its slug (lower-case letters, digits and `-`).
    Page { slug: String },
    /// An `http` or `https` URL, or a path on the storefront starting with one `/`.
    Url { url: String },
}

/// One entry of a menu.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MenuItemView {
    /// One line, 1 to 100 characters.
    pub label: String,
    pub link: LinkView,
    /// Its submenu; absent or empty: none. A menu nests at most 3 levels.
    #[serde(default)]
    #[schema(no_recursion)]
    pub children: Vec<MenuItemView>,
}

impl From<&MenuItem> for MenuItemView {
    fn from(i: &MenuItem) -> Self {
        MenuItemView {
            label: i.label.clone(),
            link: match &i.link {
                Link::Category { category_id } => LinkView::Category {
                    category_id: *category_id,
                },
                Link::Product { product_id } => LinkView::Product {
                    product_id: *product_id,
                },
                Link::Page { slug } => LinkView::Page { slug: slug.clone() },
                Link::Url { url } => LinkView::Url { url: url.clone() },
            },
            children: i.children.iter().map(MenuItemView::from).collect(),
        }
    }
}

impl From<MenuItemView> for MenuItem {
    fn from(i: MenuItemView) -> Self {
        MenuItem {
            label: i.label,
            link: match i.link {
                LinkView::Category { category_id } => Link::Category { category_id },
                LinkView::Product { product_id } => Link::Product { product_id },
                LinkView::Page { slug } => Link::Page { slug },
                LinkView::Url { url } => Link::Url { url },
            },
            children: i.children.into_iter().map(MenuItem::from).collect(),
        }
    }
}

/// A menu: its name and its tree.
#[derive(Debug, Serialize, ToSchema)]
pub struct MenuView {
    /// The top-level items, in order; empty until staff set the menu.
    pub items: Vec<MenuItemView>,
    /// `header`, `footer` or `mobile`.
    pub menu: String,
    /// How many times staff replaced it (0: never set).
    pub revision: u64,
}

impl MenuView {
    pub fn of(menu: MenuName, state: &MenuState) -> Self {
        MenuView {
            items: state.items.iter().map(MenuItemView::from).collect(),
            menu: menu.as_str().to_owned(),
            revision: state.revisions,
        }
    }
}

/// A menu's new tree: it replaces the one the menu has.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MenuBody {
    /// At most 100 items at every depth together, nested at most 3 levels.
    pub items: Vec<MenuItemView>,
}
