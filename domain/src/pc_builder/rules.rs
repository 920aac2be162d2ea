//! The kinds of compatibility rule, and the store's default rule set.
//!
//! Every part is a catalog product in a slot, and carries its facts as product attributes.
//! The default rules read these (numbers are integers; lists are JSON arrays of strings):
//!
//! | slot          | attributes                                                            |
//! |---------------|-----------------------------------------------------------------------|
//! | `cpu`         | `socket`, `tdp_w`                                                     |
//! | `motherboard` | `socket`, `memory_type`, `max_memory_speed_mhz`, `form_factor`, `m2_slots`, `sata_ports` |
//! | `memory`      | `memory_type`, `speed_mhz`                                            |
//! | `gpu`         | `length_mm`, `power_w`                                                |
//! | `storage`     | `interface` (`m2` or `sata`)                                          |
//! | `psu`         | `wattage_w`                                                           |
//! | `case`        | `form_factors` (list), `max_gpu_length_mm`, `max_cooler_height_mm`    |
//! | `cooler`      | `sockets` (list), `height_mm`                                         |

use serde::{Deserialize, Serialize};

/// A place in a build. Memory and storage take several parts; the others one.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    Cpu,
    Motherboard,
    Memory,
    Gpu,
    Storage,
    Psu,
    Case,
    Cooler,
}

impl Slot {
    pub const ALL: [Slot; 8] = [
        Slot::Cpu,
        Slot::Motherboard,
        Slot::Memory,
        Slot::Gpu,
        Slot::Storage,
        Slot::Psu,
        Slot::Case,
        Slot::Cooler,
    ];

    /// How many parts the slot holds at most.
    pub fn capacity(self) -> usize {
        match self {
            Slot::Memory => 8,
            Slot::Storage => 12,
            _ => 1,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Slot::Cpu => "cpu",
            Slot::Motherboard => "motherboard",
            Slot::Memory => "memory",
            Slot::Gpu => "gpu",
            Slot::Storage => "storage",
            Slot::Psu => "psu",
            Slot::Case => "case",
            Slot::Cooler => "cooler",
        }
    }

    pub fn parse(s: &str) -> Option<Slot> {
        Slot::ALL.into_iter().find(|slot| slot.as_str() == s)
    }
}

/// An attribute of the part in a slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Attr {
    pub slot: Slot,
    pub attribute: String,
}

fn attr(slot: Slot, attribute: &str) -> Attr {
    Attr {
        slot,
        attribute: attribute.into(),
    }
}

/// What a rule asks of two parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleKind {
    /// The two values are the same text (case-insensitive): a CPU's socket and the board's.
    Same { left: Attr, right: Attr },
    /// The left value is one of the right list: the board's form factor among the case's.
    OneOf { left: Attr, right: Attr },
    /// The left number is at most the right one: a GPU's length and the case's clearance.
    AtMost { left: Attr, right: Attr },
    /// The parts' draw together, plus `headroom_percent`, is at most the supply:
    /// `sum(draw) × (100 + headroom) / 100 ≤ supply`.
    Power {
        draw: Vec<Attr>,
        supply: Attr,
        headroom_percent: u32,
    },
    /// The parts of `slot` whose `attribute` is `value` are at most `limit` in number:
    /// M.2 drives and the board's M.2 slots.
    Count {
        slot: Slot,
        attribute: String,
        value: String,
        limit: Attr,
    },
}

/// A rule with an id (named in issues) and the sentence staff read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SlotRule {
    pub id: String,
    pub description: String,
    #[serde(flatten)]
    pub kind: RuleKind,
    /// A warning does not make a build incompatible (memory faster than the board runs
    /// it works, slower).
    #[serde(default)]
    pub warning_only: bool,
}

fn rule(id: &str, description: &str, kind: RuleKind) -> SlotRule {
    SlotRule {
        id: id.into(),
        description: description.into(),
        kind,
        warning_only: false,
    }
}

/// The store's rule set.
pub fn default_rules() -> Vec<SlotRule> {
    use Slot::*;
    vec![
        rule(
            "cpu_socket",
            "The CPU's socket is the motherboard's socket.",
            RuleKind::Same {
                left: attr(Cpu, "socket"),
                right: attr(Motherboard, "socket"),
            },
        ),
        rule(
            "memory_type",
            "The memory is the type the motherboard takes (DDR4, DDR5).",
            RuleKind::Same {
                left: attr(Memory, "memory_type"),
                right: attr(Motherboard, "memory_type"),
            },
        ),
        SlotRule {
            warning_only: true,
            ..rule(
                "memory_speed",
                "The memory's speed is at most the motherboard's; faster memory runs at the board's speed.",
                RuleKind::AtMost {
                    left: attr(Memory, "speed_mhz"),
                    right: attr(Motherboard, "max_memory_speed_mhz"),
                },
            )
        },
        rule(
            "form_factor",
            "The case takes the motherboard's form factor.",
            RuleKind::OneOf {
                left: attr(Motherboard, "form_factor"),
                right: attr(Case, "form_factors"),
            },
        ),
        rule(
            "gpu_length",
            "The GPU is no longer than the case's GPU clearance.",
            RuleKind::AtMost {
                left: attr(Gpu, "length_mm"),
                right: attr(Case, "max_gpu_length_mm"),
            },
        ),
        rule(
            "cooler_socket",
            "The cooler fits the CPU's socket.",
            RuleKind::OneOf {
                left: attr(Cpu, "socket"),
                right: attr(Cooler, "sockets"),
            },
        ),
        rule(
            "cooler_height",
            "The cooler is no taller than the case's cooler clearance.",
            RuleKind::AtMost {
                left: attr(Cooler, "height_mm"),
                right: attr(Case, "max_cooler_height_mm"),
            },
        ),
        rule(
            "psu_wattage",
            "The PSU gives the CPU's and GPU's draw with 30% headroom.",
            RuleKind::Power {
                draw: vec![attr(Cpu, "tdp_w"), attr(Gpu, "power_w")],
                supply: attr(Psu, "wattage_w"),
                headroom_percent: 30,
            },
        ),
        rule(
            "m2_slots",
            "No more M.2 drives than the motherboard has M.2 slots.",
            RuleKind::Count {
                slot: Storage,
                attribute: "interface".into(),
                value: "m2".into(),
                limit: attr(Motherboard, "m2_slots"),
            },
        ),
        rule(
            "sata_ports",
            "No more SATA drives than the motherboard has SATA ports.",
            RuleKind::Count {
                slot: Storage,
                attribute: "interface".into(),
                value: "sata".into(),
                limit: attr(Motherboard, "sata_ports"),
            },
        ),
    ]
}
