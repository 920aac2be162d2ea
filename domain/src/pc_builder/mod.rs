//! The PC builder's compatibility rules, as data: which attribute of which part must agree
//! with which attribute of another. Staff read the rule set at `GET /pc-builder/rules`;
//! a build is checked by folding it over the rules, so no handler holds a rule of its own.
//!
//! - [`rules`]: the rule kinds and the default rule set, with the attributes each part
//!   must carry (documented in docs/api.md).
//! - [`check`]: a build against the rules: `compatibility {ok, issues[]}`, each issue naming
//!   the two parts and the rule; and whether a candidate part fits a build so far.
//! - [`build`]: the `PcBuild` aggregate: an owner's (or an anonymous) named choice of
//!   parts per slot, and its share link.

pub mod build;
pub mod check;
pub mod rules;

pub use build::{
    assemble, attributes_read, compatibility, part_slot, BuildRecord, Component, PcBuild,
    PcBuildCommand, PcBuildError, PcBuildEvent, PcBuildState, SLOT_ATTRIBUTE,
};
pub use check::{check, fits, Build, Compatibility, Issue, Part, Severity};
pub use rules::{default_rules, Attr, RuleKind, Slot, SlotRule};
