//! Navigation: the storefront's menus (header, footer, mobile), each a tree of labelled
//! links to a category, a product, a page (by slug) or a URL.
//!
//! A menu is one aggregate in its own stream (`navigation-<menu>`); staff replace its whole
//! tree at once. `decide` checks the tree's shape (labels, URLs, slugs, depth, size) and
//! names the offending node by its path (`items[0].children[2].link.url`); that a linked
//! category or product exists is checked by the use case, which can read the catalog.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, Upcast};
use crate::value::{line, Slug};

/// How deep a tree goes: top-level items are depth 1.
pub const MAX_DEPTH: usize = 3;
/// The most items (at every depth together) in one menu.
pub const MAX_ITEMS: usize = 100;
/// The longest label.
pub const MAX_LABEL: usize = 100;
/// The longest URL.
pub const MAX_URL: usize = 2048;

/// The menus a storefront has.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MenuName {
    Header,
    Footer,
    Mobile,
}

impl MenuName {
    pub const ALL: [MenuName; 3] = [MenuName::Header, MenuName::Footer, MenuName::Mobile];

    pub fn as_str(&self) -> &'static str {
        match self {
            MenuName::Header => "header",
            MenuName::Footer => "footer",
            MenuName::Mobile => "mobile",
        }
    }
}

impl fmt::Display for MenuName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MenuName {
    type Err = NavigationError;
    fn from_str(s: &str) -> Result<Self, NavigationError> {
        MenuName::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| NavigationError::UnknownMenu(s.to_owned()))
    }
}

/// Where an item leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Link {
    Category {
        category_id: Uuid,
    },
    Product {
        product_id: Uuid,
    },
    /// A content page, by its slug.
    Page {
        slug: String,
    },
    /// An `http`/`https` URL, or a path on the storefront (`/sale`).
    Url {
        url: String,
    },
}

/// One entry of a menu, with its children (a submenu).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MenuItem {
    pub label: String,
    pub link: Link,
    #[serde(default)]
    pub children: Vec<MenuItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NavigationError {
    #[error("no menu is named {0:?}: there are header, footer and mobile")]
    UnknownMenu(String),
    /// A node the rules refuse, named by its path in the body.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: String, message: impl Into<String>) -> NavigationError {
    NavigationError::Invalid {
        field,
        message: message.into(),
    }
}

/// Whether `url` is an absolute `http`/`https` URL with a host, or a path on the
/// storefront (`/...`, not `//host`, which browsers read as another site).
pub fn allowed_url(url: &str) -> bool {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    if let Some(path) = url.strip_prefix('/') {
        return !path.starts_with('/') && !path.starts_with('\\');
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !host.contains('\\') && !host.starts_with('@')
    })
}

fn checked_link(path: &str, link: &Link) -> Result<Link, NavigationError> {
    Ok(match link {
        Link::Page { slug } => {
            let slug = Slug::parse(slug.trim())
                .map_err(|e| invalid(format!("{path}.link.slug"), e.message))?;
            Link::Page {
                slug: slug.as_str().to_owned(),
            }
        }
        Link::Url { url } => {
            let url = url.trim();
            if url.is_empty() || url.len() > MAX_URL {
                return Err(invalid(
                    format!("{path}.link.url"),
                    format!("must be 1 to {MAX_URL} characters"),
                ));
            }
            if !allowed_url(url) {
                return Err(invalid(
                    format!("{path}.link.url"),
                    "must be an http or https URL, or a path starting with a single /",
                ));
            }
            Link::Url {
                url: url.to_owned(),
            }
        }
        other => other.clone(),
    })
}

fn checked_level(
    items: &[MenuItem],
    prefix: &str,
    depth: usize,
    count: &mut usize,
) -> Result<Vec<MenuItem>, NavigationError> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("{prefix}[{i}]");
        if depth > MAX_DEPTH {
            return Err(invalid(
                path,
                format!("too deep: a menu nests at most {MAX_DEPTH} levels"),
            ));
        }
        *count += 1;
        if *count > MAX_ITEMS {
            return Err(invalid(
                path,
                format!("too many items: a menu holds at most {MAX_ITEMS}"),
            ));
        }
        let label = line("label", &item.label, MAX_LABEL)
            .map_err(|e| invalid(format!("{path}.label"), e.message))?;
        if label.is_empty() {
            return Err(invalid(
                format!("{path}.label"),
                format!("must be 1 to {MAX_LABEL} characters"),
            ));
        }
        let link = checked_link(&path, &item.link)?;
        let children = checked_level(
            &item.children,
            &format!("{path}.children"),
            depth + 1,
            count,
        )?;
        out.push(MenuItem {
            label,
            link,
            children,
        });
    }
    Ok(out)
}

/// The tree checked and normalised (labels and URLs trimmed), or the first offending node.
pub fn checked_items(items: &[MenuItem]) -> Result<Vec<MenuItem>, NavigationError> {
    checked_level(items, "items", 1, &mut 0)
}

/// Every link of the tree with its node's path, depth first: what a use case checks
/// against the catalog.
pub fn links(items: &[MenuItem]) -> Vec<(String, &Link)> {
    fn walk<'a>(items: &'a [MenuItem], prefix: &str, out: &mut Vec<(String, &'a Link)>) {
        for (i, item) in items.iter().enumerate() {
            let path = format!("{prefix}[{i}]");
            out.push((format!("{path}.link"), &item.link));
            walk(&item.children, &format!("{path}.children"), out);
        }
    }
    let mut out = Vec::new();
    walk(items, "items", &mut out);
    out
}

pub struct Menu;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NavigationCommand {
    /// Replaces the menu's whole tree (an empty list empties the menu).
    ReplaceMenu {
        menu: MenuName,
        items: Vec<MenuItem>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum NavigationEvent {
    MenuReplaced {
        menu: MenuName,
        items: Vec<MenuItem>,
    },
}

crate::domain_event!(NavigationEvent { MenuReplaced });
impl Upcast for NavigationEvent {}

/// A menu's tree now (empty until staff set one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MenuState {
    pub items: Vec<MenuItem>,
    /// How many times it was replaced: 0 for a menu never set.
    pub revisions: u64,
}

impl Aggregate for Menu {
    const CATEGORY: &'static str = "navigation";
    type State = MenuState;
    type Command = NavigationCommand;
    type Event = NavigationEvent;
    type Error = NavigationError;

    fn decide(
        s: &MenuState,
        cmd: &NavigationCommand,
    ) -> Result<Vec<NavigationEvent>, NavigationError> {
        match cmd {
            NavigationCommand::ReplaceMenu { menu, items } => {
                let items = checked_items(items)?;
                if items == s.items && s.revisions > 0 {
                    return Ok(vec![]);
                }
                Ok(vec![NavigationEvent::MenuReplaced { menu: *menu, items }])
            }
        }
    }

    fn evolve(mut s: MenuState, event: &NavigationEvent) -> MenuState {
        match event {
            NavigationEvent::MenuReplaced { items, .. } => {
                s.items = items.clone();
                s.revisions += 1;
            }
        }
        s
    }
}
