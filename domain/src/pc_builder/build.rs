//! A PC build: an owner's named choice of parts, one or several per slot, and the link
//! that shares it read-only.
//!
//! The build only records which products sit in which slot and how many. Whether a
//! product exists, is on sale and is a part of that slot are facts of the catalog, which
//! the use case checks before it asks (`commands::pc_builder`); whether the parts work
//! together is not a rule of the build at all: an incompatible build is a legitimate draft
//! (the shopper sees why in `compatibility`), so [`super::check`] answers it on every read
//! instead of refusing the change.
//!
//! A build belongs to a user, or to nobody: an anonymous build is made whole at once and
//! reached only through its share link, so nobody can change it afterwards. The link's
//! token never enters the log (invariant 11): the events hold its SHA-256, as the cart's
//! share link does.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::rules::Slot;
use crate::aggregate::{Aggregate, Upcast};
use crate::id::{PcBuildId, ProductId, UserId};

pub struct PcBuild;

/// The product attribute that says which slot a part goes in (`"cpu"`, `"gpu"`, ...).
pub const SLOT_ATTRIBUTE: &str = "pc_slot";

/// The longest build name, in characters.
pub const MAX_NAME: usize = 100;

/// The slot a product is a part of, by its [`SLOT_ATTRIBUTE`]; `None` for a product that
/// is not a PC part.
pub fn part_slot(attributes: &Map<String, Value>) -> Option<Slot> {
    attributes
        .get(SLOT_ATTRIBUTE)
        .and_then(Value::as_str)
        .and_then(|s| Slot::parse(&s.trim().to_ascii_lowercase()))
}

/// One product in a slot, `quantity` times (only memory and storage take more than one).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Component {
    pub slot: Slot,
    pub product_id: ProductId,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PcBuildCommand {
    /// A new build. `owner: None` is an anonymous build: it must be shared (the link is
    /// its only way in) and takes its components now, as nobody can change it later.
    Create {
        build_id: PcBuildId,
        owner: Option<UserId>,
        name: String,
        components: Vec<Component>,
        share_token_hash: Option<String>,
        at: DateTime<Utc>,
    },
    /// The whole choice of parts, replacing the previous one; by the build's owner.
    SetComponents {
        by: UserId,
        components: Vec<Component>,
        at: DateTime<Utc>,
    },
    /// A new share link, by the owner; the previous one stops working.
    Share {
        by: UserId,
        token_hash: String,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum PcBuildEvent {
    PcBuildCreated {
        build_id: PcBuildId,
        /// Absent for an anonymous build.
        owner: Option<UserId>,
        name: String,
        at: DateTime<Utc>,
    },
    /// The parts from now on, whole, sorted by slot and product.
    PcBuildComponentsSet {
        components: Vec<Component>,
        at: DateTime<Utc>,
    },
    /// The SHA-256 (lowercase hex) of the token the build is shared under from now on.
    PcBuildShared {
        token_hash: String,
        at: DateTime<Utc>,
    },
}

crate::domain_event!(PcBuildEvent {
    PcBuildCreated,
    PcBuildComponentsSet,
    PcBuildShared,
});
impl Upcast for PcBuildEvent {}

/// A build as its events made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRecord {
    pub build_id: PcBuildId,
    pub owner: Option<UserId>,
    pub name: String,
    pub components: Vec<Component>,
    /// The hash of the token the build is shared under, if it is.
    pub share: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PcBuildState {
    pub build: Option<BuildRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PcBuildError {
    #[error("the build already exists")]
    AlreadyCreated,
    #[error("no such build")]
    NotCreated,
    /// Not the owner's, or anonymous (which nobody may change). Told apart from a build
    /// that does not exist only on the write side: the gateway answers 404 for both, so a
    /// build's id says nothing to those it is not shared with.
    #[error("the build is not yours to change")]
    NotOwner,
    /// An input the rules refuse, by the field that carries it.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> PcBuildError {
    PcBuildError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// A build's name as kept: trimmed, one line, 1 to [`MAX_NAME`] characters.
pub fn checked_name(name: &str) -> Result<String, PcBuildError> {
    let name =
        crate::value::line("name", name, MAX_NAME).map_err(|e| invalid(e.field, e.message))?;
    if name.is_empty() {
        return Err(invalid(
            "name",
            format!("a build's name is 1 to {MAX_NAME} characters"),
        ));
    }
    Ok(name)
}

/// `components` as the build keeps them (sorted by slot and product), or the first one
/// the slots refuse, named by its index in the input: a quantity of zero, a product twice,
/// a second part in a slot that takes one, more units than memory or storage hold.
pub fn checked_components(components: &[Component]) -> Result<Vec<Component>, PcBuildError> {
    let mut units: BTreeMap<Slot, usize> = BTreeMap::new();
    let mut seen: BTreeMap<ProductId, usize> = BTreeMap::new();
    for (i, c) in components.iter().enumerate() {
        if c.quantity == 0 {
            return Err(invalid(format!("components[{i}].quantity"), "at least 1"));
        }
        if let Some(first) = seen.insert(c.product_id, i) {
            return Err(invalid(
                format!("components[{i}].product_id"),
                format!("the product is already components[{first}]; give it one line with its quantity"),
            ));
        }
        let used = units.entry(c.slot).or_default();
        let quantity = usize::try_from(c.quantity).unwrap_or(usize::MAX);
        *used = used.saturating_add(quantity);
        if *used > c.slot.capacity() {
            let message = if c.slot.capacity() == 1 {
                format!("a build has one {}", c.slot.as_str())
            } else {
                format!(
                    "a build holds at most {} {} parts",
                    c.slot.capacity(),
                    c.slot.as_str()
                )
            };
            return Err(invalid(format!("components[{i}]"), message));
        }
    }
    let mut kept = components.to_vec();
    kept.sort();
    Ok(kept)
}

fn owned(s: &PcBuildState, by: UserId) -> Result<&BuildRecord, PcBuildError> {
    let b = s.build.as_ref().ok_or(PcBuildError::NotCreated)?;
    if b.owner != Some(by) {
        return Err(PcBuildError::NotOwner);
    }
    Ok(b)
}

fn token_hash_ok(hash: &str) -> Result<(), PcBuildError> {
    if hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(invalid("share_token_hash", "a SHA-256 in lowercase hex"))
    }
}

impl Aggregate for PcBuild {
    const CATEGORY: &'static str = "pc_build";
    type State = PcBuildState;
    type Command = PcBuildCommand;
    type Event = PcBuildEvent;
    type Error = PcBuildError;

    fn decide(s: &PcBuildState, cmd: &PcBuildCommand) -> Result<Vec<PcBuildEvent>, PcBuildError> {
        use PcBuildCommand as C;
        use PcBuildEvent as E;
        match cmd {
            C::Create {
                build_id,
                owner,
                name,
                components,
                share_token_hash,
                at,
            } => {
                if s.build.is_some() {
                    return Err(PcBuildError::AlreadyCreated);
                }
                let name = checked_name(name)?;
                let components = checked_components(components)?;
                if owner.is_none() && share_token_hash.is_none() {
                    // Nobody could ever reach it again.
                    return Err(invalid(
                        "share_token_hash",
                        "an anonymous build is reached only by its share link",
                    ));
                }
                let mut events = vec![E::PcBuildCreated {
                    build_id: *build_id,
                    owner: *owner,
                    name,
                    at: *at,
                }];
                if !components.is_empty() {
                    events.push(E::PcBuildComponentsSet {
                        components,
                        at: *at,
                    });
                }
                if let Some(hash) = share_token_hash {
                    token_hash_ok(hash)?;
                    events.push(E::PcBuildShared {
                        token_hash: hash.clone(),
                        at: *at,
                    });
                }
                Ok(events)
            }
            C::SetComponents { by, components, at } => {
                let b = owned(s, *by)?;
                let components = checked_components(components)?;
                if components == b.components {
                    return Ok(vec![]);
                }
                Ok(vec![E::PcBuildComponentsSet {
                    components,
                    at: *at,
                }])
            }
            C::Share { by, token_hash, at } => {
                owned(s, *by)?;
                token_hash_ok(token_hash)?;
                Ok(vec![E::PcBuildShared {
                    token_hash: token_hash.clone(),
                    at: *at,
                }])
            }
        }
    }

    fn evolve(mut s: PcBuildState, event: &PcBuildEvent) -> PcBuildState {
        match event {
            PcBuildEvent::PcBuildCreated {
                build_id,
                owner,
                name,
                at,
            } => {
                s.build = Some(BuildRecord {
                    build_id: *build_id,
                    owner: *owner,
                    name: name.clone(),
                    components: Vec::new(),
                    share: None,
                    created_at: *at,
                    updated_at: *at,
                });
            }
            PcBuildEvent::PcBuildComponentsSet { components, at } => {
                if let Some(b) = &mut s.build {
                    b.components = components.clone();
                    b.updated_at = *at;
                }
            }
            PcBuildEvent::PcBuildShared { token_hash, at } => {
                if let Some(b) = &mut s.build {
                    b.share = Some(token_hash.clone());
                    b.updated_at = *at;
                }
            }
        }
        s
    }
}

/// The build's components as the rules see them: each product's attributes (`attributes`
/// answers them; a product it does not know, say one deleted since, has none, and the
/// rules then warn that they could not check it), repeated by quantity, so two M.2 drives
/// of one product take two M.2 slots.
pub fn assemble(
    components: &[Component],
    mut attributes: impl FnMut(ProductId) -> Option<Map<String, Value>>,
) -> super::check::Build {
    let mut build = super::check::Build::default();
    for c in components {
        let part = super::check::Part {
            product_id: c.product_id,
            attributes: attributes(c.product_id).unwrap_or_default(),
        };
        for _ in 0..c
            .quantity
            .min(u32::try_from(c.slot.capacity()).unwrap_or(u32::MAX))
        {
            build = build.with(c.slot, part.clone());
        }
    }
    build
}

/// [`super::check`] of the build's components under `rules`, each finding once (two
/// units of one product find the same thing twice).
pub fn compatibility(
    rules: &[super::rules::SlotRule],
    components: &[Component],
    attributes: impl FnMut(ProductId) -> Option<Map<String, Value>>,
) -> super::check::Compatibility {
    let mut found = super::check::check(rules, &assemble(components, attributes));
    let mut seen = Vec::with_capacity(found.issues.len());
    found.issues.retain(|i| {
        if seen.contains(i) {
            false
        } else {
            seen.push(i.clone());
            true
        }
    });
    found
}

/// Which attributes `rules` read of each slot's parts, by slot: what a part must carry to
/// be checked (docs/api.md lists them for the default rules; this is their source).
pub fn attributes_read(
    rules: &[super::rules::SlotRule],
) -> BTreeMap<Slot, std::collections::BTreeSet<String>> {
    use super::rules::RuleKind;
    let mut read: BTreeMap<Slot, std::collections::BTreeSet<String>> = BTreeMap::new();
    let mut note = |slot: Slot, attribute: &str| {
        read.entry(slot).or_default().insert(attribute.to_owned());
    };
    for rule in rules {
        match &rule.kind {
            RuleKind::Same { left, right }
            | RuleKind::OneOf { left, right }
            | RuleKind::AtMost { left, right } => {
                note(left.slot, &left.attribute);
                note(right.slot, &right.attribute);
            }
            RuleKind::Power { draw, supply, .. } => {
                for d in draw {
                    note(d.slot, &d.attribute);
                }
                note(supply.slot, &supply.attribute);
            }
            RuleKind::Count {
                slot,
                attribute,
                limit,
                ..
            } => {
                note(*slot, attribute);
                note(limit.slot, &limit.attribute);
            }
        }
    }
    read
}
