//! A build against the rules.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::rules::{Attr, RuleKind, Slot, SlotRule};
use crate::id::ProductId;

/// A part in a build: the product and its attributes as the catalog has them.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub product_id: ProductId,
    pub attributes: Map<String, Value>,
}

/// The parts chosen so far, by slot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Build {
    pub parts: BTreeMap<Slot, Vec<Part>>,
}

impl Build {
    fn in_slot(&self, slot: Slot) -> &[Part] {
        self.parts.get(&slot).map_or(&[], Vec::as_slice)
    }

    /// The build with `part` in `slot`: replacing the part there, or beside the others
    /// in a slot that holds several.
    pub fn with(&self, slot: Slot, part: Part) -> Build {
        let mut next = self.clone();
        let parts = next.parts.entry(slot).or_default();
        if slot.capacity() == 1 {
            parts.clear();
        }
        parts.push(part);
        next
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The parts do not work together.
    Error,
    /// They work, with a limit; or a part lacks the attribute the rule reads, so the rule
    /// could not be checked.
    Warning,
}

/// One finding: the rule, the parts it names (two, or one when an attribute is missing)
/// and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Issue {
    pub rule: String,
    pub severity: Severity,
    pub parts: Vec<ProductId>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Compatibility {
    /// No error: the parts chosen so far work together.
    pub ok: bool,
    pub issues: Vec<Issue>,
}

fn text(part: &Part, name: &str) -> Option<String> {
    match part.attributes.get(name)? {
        Value::String(s) => Some(s.trim().to_ascii_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(part: &Part, name: &str) -> Option<i64> {
    match part.attributes.get(name)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn list(part: &Part, name: &str) -> Option<Vec<String>> {
    match part.attributes.get(name)? {
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(|s| s.trim().to_ascii_lowercase()))
            .collect(),
        _ => None,
    }
}

struct Findings<'r> {
    rule: &'r SlotRule,
    issues: Vec<Issue>,
}

impl Findings<'_> {
    fn missing(&mut self, part: &Part, attr: &Attr) {
        let already = self.issues.iter().any(|i| {
            i.severity == Severity::Warning
                && i.parts == [part.product_id]
                && i.rule == self.rule.id
        });
        if !already {
            self.issues.push(Issue {
                rule: self.rule.id.clone(),
                severity: Severity::Warning,
                parts: vec![part.product_id],
                message: format!(
                    "not checked: the {} has no usable `{}` attribute",
                    attr.slot.as_str(),
                    attr.attribute
                ),
            });
        }
    }

    fn conflict(&mut self, a: &Part, b: &Part, detail: String) {
        self.issues.push(Issue {
            rule: self.rule.id.clone(),
            severity: if self.rule.warning_only {
                Severity::Warning
            } else {
                Severity::Error
            },
            parts: vec![a.product_id, b.product_id],
            message: format!("{} {detail}", self.rule.description),
        });
    }
}

fn pairs<'b>(build: &'b Build, l: &Attr, r: &Attr) -> Vec<(&'b Part, &'b Part)> {
    let rights = build.in_slot(r.slot);
    build
        .in_slot(l.slot)
        .iter()
        .flat_map(|a| rights.iter().map(move |b| (a, b)))
        .collect()
}

fn apply(rule: &SlotRule, build: &Build) -> Vec<Issue> {
    let mut f = Findings {
        rule,
        issues: Vec::new(),
    };
    match &rule.kind {
        RuleKind::Same { left, right } => {
            for (a, b) in pairs(build, left, right) {
                match (text(a, &left.attribute), text(b, &right.attribute)) {
                    (Some(x), Some(y)) if x != y => f.conflict(a, b, format!("({x} ≠ {y})")),
                    (Some(_), Some(_)) => {}
                    (x, _) => {
                        if x.is_none() {
                            f.missing(a, left);
                        } else {
                            f.missing(b, right);
                        }
                    }
                }
            }
        }
        RuleKind::OneOf { left, right } => {
            for (a, b) in pairs(build, left, right) {
                match (text(a, &left.attribute), list(b, &right.attribute)) {
                    (Some(x), Some(ys)) if !ys.contains(&x) => {
                        f.conflict(a, b, format!("({x} is not one of {})", ys.join(", ")))
                    }
                    (Some(_), Some(_)) => {}
                    (None, _) => f.missing(a, left),
                    (_, None) => f.missing(b, right),
                }
            }
        }
        RuleKind::AtMost { left, right } => {
            for (a, b) in pairs(build, left, right) {
                match (number(a, &left.attribute), number(b, &right.attribute)) {
                    (Some(x), Some(y)) if x > y => f.conflict(a, b, format!("({x} > {y})")),
                    (Some(_), Some(_)) => {}
                    (None, _) => f.missing(a, left),
                    (_, None) => f.missing(b, right),
                }
            }
        }
        RuleKind::Power {
            draw,
            supply,
            headroom_percent,
        } => {
            let mut total: i64 = 0;
            let mut biggest: Option<(&Part, i64)> = None;
            for d in draw {
                for p in build.in_slot(d.slot) {
                    match number(p, &d.attribute) {
                        Some(w) => {
                            total = total.saturating_add(w.max(0));
                            if biggest.is_none_or(|(_, b)| w > b) {
                                biggest = Some((p, w));
                            }
                        }
                        None => f.missing(p, d),
                    }
                }
            }
            let needed = i128::from(total) * i128::from(100 + headroom_percent) / 100;
            for psu in build.in_slot(supply.slot) {
                match (number(psu, &supply.attribute), biggest) {
                    (Some(watts), Some((part, _))) if i128::from(watts) < needed => f.conflict(
                        psu,
                        part,
                        format!("({watts} W < {needed} W needed for {total} W of draw)"),
                    ),
                    (None, _) => f.missing(psu, supply),
                    _ => {}
                }
            }
        }
        RuleKind::Count {
            slot,
            attribute,
            value,
            limit,
        } => {
            let value = value.to_ascii_lowercase();
            let counted: Vec<&Part> = build
                .in_slot(*slot)
                .iter()
                .filter(|p| text(p, attribute).as_deref() == Some(value.as_str()))
                .collect();
            for board in build.in_slot(limit.slot) {
                match number(board, &limit.attribute) {
                    Some(n) => {
                        let n = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
                        if let Some(extra) = counted.get(n) {
                            f.conflict(board, extra, format!("({} > {n})", counted.len()));
                        }
                    }
                    None if !counted.is_empty() => f.missing(board, limit),
                    None => {}
                }
            }
        }
    }
    f.issues
}

/// The build against `rules`, in the rules' order. Rules whose parts are not chosen yet
/// are silent: a build is checked as far as it goes.
pub fn check(rules: &[SlotRule], build: &Build) -> Compatibility {
    let issues: Vec<Issue> = rules.iter().flat_map(|r| apply(r, build)).collect();
    Compatibility {
        ok: issues.iter().all(|i| i.severity == Severity::Warning),
        issues,
    }
}

/// Whether `candidate` in `slot` works with the build so far: no error names it.
pub fn fits(rules: &[SlotRule], build: &Build, slot: Slot, candidate: &Part) -> bool {
    let next = build.with(slot, candidate.clone());
    rules
        .iter()
        .flat_map(|r| apply(r, &next))
        .all(|i| i.severity == Severity::Warning || !i.parts.contains(&candidate.product_id))
}
