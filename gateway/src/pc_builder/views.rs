//! The PC builder's views and request bodies. Fields are declared in alphabetical order
//! (see `crate::views`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use commands::pc_builder::{BuildOutcome, PartFacts};
use domain::id::ProductId;
use domain::pc_builder::{Compatibility, Component, Issue, Severity, Slot};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::read_model::{BuildRow, ComponentRow, PartRow};
use crate::views::Money;

/// Whether the parts chosen so far work together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = PcCompatibility)]
pub struct CompatibilityView {
    /// Every finding, errors and warnings, in the rule set's order.
    pub issues: Vec<IssueView>,
    /// No error: the parts work together (warnings allowed).
    pub ok: bool,
}

/// One finding: the rule, the parts it names and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = PcCompatibilityIssue)]
pub struct IssueView {
    pub message: String,
    /// The two parts that clash (the first from the rule's left side), or the one part
    /// that lacks an attribute the rule reads.
    pub parts: Vec<Uuid>,
    /// The rule's id in `GET /pc-builder/rules`.
    pub rule: String,
    /// `error` (the parts do not work together) or `warning` (they work with a limit, or
    /// the rule could not be checked).
    pub severity: String,
}

impl From<&Issue> for IssueView {
    fn from(i: &Issue) -> Self {
        IssueView {
            message: i.message.clone(),
            parts: i.parts.iter().map(ProductId::as_uuid).collect(),
            rule: i.rule.clone(),
            severity: match i.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            }
            .into(),
        }
    }
}

impl From<&Compatibility> for CompatibilityView {
    fn from(c: &Compatibility) -> Self {
        CompatibilityView {
            issues: c.issues.iter().map(IssueView::from).collect(),
            ok: c.ok,
        }
    }
}

/// A part in a build.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = PcBuildComponent)]
pub struct ComponentView {
    /// The product's attributes, which the rules read.
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    pub name: String,
    /// Still on sale; a part taken off sale stays in the build and must be replaced
    /// before the build goes to the cart.
    pub on_sale: bool,
    /// The list price of one unit.
    pub price: Money,
    pub product_id: Uuid,
    pub quantity: u32,
    pub sku: String,
    /// `cpu`, `motherboard`, `memory`, `gpu`, `storage`, `psu`, `case` or `cooler`.
    pub slot: String,
}

/// A build: its parts per slot and whether they work together.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = PcBuild)]
pub struct BuildView {
    pub compatibility: CompatibilityView,
    /// In slot order (the order of `GET /pc-builder/rules`' `slots`), then product.
    pub components: Vec<ComponentView>,
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
    pub name: String,
    /// The user; `null` for an anonymous build.
    pub owner_id: Option<Uuid>,
    /// The share link's token, only in the answer that made it (creating an anonymous
    /// build, `POST /pc-builds/{id}/share`): it is not kept, and cannot be shown again.
    /// Anyone holding it reads the build at `GET /pc-builds/shared/{token}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_token: Option<String>,
    /// Whether the build has a share link.
    pub shared: bool,
    pub updated_at: DateTime<Utc>,
}

fn component(c: &Component, facts: Option<&PartFacts>) -> ComponentView {
    ComponentView {
        attributes: facts.map(|f| f.attributes.clone()).unwrap_or_default(),
        name: facts.map(|f| f.name.clone()).unwrap_or_default(),
        on_sale: facts.is_some_and(|f| f.on_sale),
        price: facts.map_or(Money::of(0, "USD"), |f| f.price.into()),
        product_id: c.product_id.as_uuid(),
        quantity: c.quantity,
        sku: facts.map(|f| f.sku.clone()).unwrap_or_default(),
        slot: c.slot.as_str().into(),
    }
}

impl From<&BuildOutcome> for BuildView {
    fn from(o: &BuildOutcome) -> Self {
        let b = &o.build;
        BuildView {
            compatibility: (&o.compatibility).into(),
            components: b
                .components
                .iter()
                .map(|c| component(c, o.parts.get(&c.product_id)))
                .collect(),
            created_at: b.created_at,
            id: b.build_id.as_uuid(),
            name: b.name.clone(),
            owner_id: b.owner.map(|o| o.as_uuid()),
            share_token: o.share_token.clone(),
            shared: b.share.is_some(),
            updated_at: b.updated_at,
        }
    }
}

/// A build's components as the rules see them, from its rows.
pub fn components_of(rows: &[&ComponentRow]) -> Vec<Component> {
    rows.iter()
        .filter_map(|r| {
            Some(Component {
                slot: Slot::parse(&r.slot)?,
                product_id: ProductId::new(r.product_id),
                quantity: u32::try_from(r.quantity).unwrap_or(0),
            })
        })
        .collect()
}

/// Each product's attributes among the rows.
pub fn attributes_of(rows: &[&ComponentRow]) -> BTreeMap<ProductId, Map<String, Value>> {
    rows.iter()
        .filter_map(|r| {
            Some((
                ProductId::new(r.product_id),
                r.attributes.as_ref()?.0.clone(),
            ))
        })
        .collect()
}

impl BuildView {
    /// A build from the read model: its row, its parts' rows, their compatibility.
    pub fn from_rows(b: BuildRow, rows: &[&ComponentRow]) -> Self {
        let parts = components_of(rows);
        let attributes = attributes_of(rows);
        let compatibility =
            domain::pc_builder::compatibility(&domain::pc_builder::default_rules(), &parts, |id| {
                attributes.get(&id).cloned()
            });
        let mut components: Vec<ComponentView> = rows
            .iter()
            .map(|r| ComponentView {
                attributes: r
                    .attributes
                    .as_ref()
                    .map(|a| a.0.clone())
                    .unwrap_or_default(),
                name: r.name.clone().unwrap_or_default(),
                on_sale: r.status.as_deref() == Some("active"),
                price: Money::of(
                    r.price_amount.unwrap_or(0),
                    r.currency.as_deref().unwrap_or("USD"),
                ),
                product_id: r.product_id,
                quantity: u32::try_from(r.quantity).unwrap_or(0),
                sku: r.sku.clone().unwrap_or_default(),
                slot: r.slot.clone(),
            })
            .collect();
        // The write side's order: slot order, then product.
        components.sort_by_key(|c| (Slot::parse(&c.slot), c.product_id));
        BuildView {
            compatibility: (&compatibility).into(),
            components,
            created_at: b.created_at,
            id: b.build_id,
            name: b.name,
            owner_id: b.owner_id,
            share_token: None,
            shared: b.shared,
            updated_at: b.updated_at,
        }
    }
}

/// A part on sale that fits the build so far.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = PcPart)]
pub struct PartView {
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    pub name: String,
    pub price: Money,
    pub product_id: Uuid,
    pub sku: String,
    pub slot: String,
}

impl From<PartRow> for PartView {
    fn from(p: PartRow) -> Self {
        PartView {
            attributes: p.attributes.0,
            name: p.name,
            price: Money::of(p.price_amount, &p.currency),
            product_id: p.product_id,
            sku: p.sku,
            slot: p.slot,
        }
    }
}

/// The attributes the rules read of one slot's parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = PcSlotAttributes)]
pub struct SlotView {
    /// The attribute names; numbers are integers, lists JSON arrays of strings.
    pub attributes: Vec<String>,
    /// How many parts the slot holds: 1, or 8 for memory and 12 for storage.
    pub capacity: usize,
    pub slot: String,
}

/// The rule set, as data.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = PcRuleSet)]
pub struct RulesView {
    /// Each rule: `id`, `description`, `kind` (`same`, `one_of`, `at_most`, `power`,
    /// `count`), the attributes it compares (`left`/`right`, or `draw`/`supply` with
    /// `headroom_percent`, or `slot`/`attribute`/`value`/`limit`) as `{slot, attribute}`,
    /// and `warning_only`.
    #[schema(value_type = Vec<Object>)]
    pub rules: Vec<Value>,
    /// The product attribute that files a product under a slot.
    pub slot_attribute: String,
    /// Every slot, in order, with the attributes the rules read of its parts.
    pub slots: Vec<SlotView>,
}

/// One part of a build, as a request names it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PcBuildComponentBody)]
pub struct ComponentBody {
    pub product_id: Uuid,
    /// Default 1; memory and storage take several (8 sticks, 12 drives over the slot).
    pub quantity: Option<u32>,
    /// `cpu`, `motherboard`, `memory`, `gpu`, `storage`, `psu`, `case` or `cooler`: the
    /// product's `pc_slot` attribute must name it.
    pub slot: String,
}

/// `POST /pc-builds`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PcBuildBody)]
pub struct CreateBody {
    /// 1 to 100 characters, one line.
    pub name: String,
    /// The parts to start with; an anonymous build takes all of its parts here.
    #[serde(default)]
    pub components: Vec<ComponentBody>,
}

/// `PUT /pc-builds/{id}/components`: the whole choice of parts, replacing the previous.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PcBuildComponentsBody)]
pub struct ComponentsBody {
    pub components: Vec<ComponentBody>,
}

/// The components of a body, or a 422 naming the first unknown slot.
pub fn components(body: &[ComponentBody]) -> Result<Vec<Component>, crate::error::ApiError> {
    body.iter()
        .enumerate()
        .map(|(i, c)| {
            let slot = Slot::parse(c.slot.trim()).ok_or_else(|| {
                crate::error::ApiError::invalid_field(
                    format!("components[{i}].slot"),
                    "one of cpu, motherboard, memory, gpu, storage, psu, case, cooler",
                )
            })?;
            Ok(Component {
                slot,
                product_id: ProductId::new(c.product_id),
                quantity: c.quantity.unwrap_or(1),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::keys_sorted;

    #[test]
    fn views_keep_their_keys_sorted() {
        let issue = IssueView {
            message: "m".into(),
            parts: vec![],
            rule: "cpu_socket".into(),
            severity: "error".into(),
        };
        let compatibility = CompatibilityView {
            issues: vec![issue.clone()],
            ok: false,
        };
        let component = ComponentView {
            attributes: Map::new(),
            name: "n".into(),
            on_sale: true,
            price: Money::of(1, "USD"),
            product_id: Uuid::nil(),
            quantity: 1,
            sku: "S".into(),
            slot: "cpu".into(),
        };
        let build = BuildView {
            compatibility: compatibility.clone(),
            components: vec![component.clone()],
            created_at: Utc::now(),
            id: Uuid::nil(),
            name: "b".into(),
            owner_id: None,
            share_token: Some("t".into()),
            shared: true,
            updated_at: Utc::now(),
        };
        let slot = SlotView {
            attributes: vec![],
            capacity: 1,
            slot: "cpu".into(),
        };
        let rules = RulesView {
            rules: vec![],
            slot_attribute: "pc_slot".into(),
            slots: vec![slot.clone()],
        };
        assert!(keys_sorted(&issue));
        assert!(keys_sorted(&compatibility));
        assert!(keys_sorted(&component));
        assert!(keys_sorted(&build));
        assert!(keys_sorted(&slot));
        assert!(keys_sorted(&rules));
    }
}
