//! An entity's History tab, built from its events (issue 25): for each change, when, who
//! (the account and role the event's metadata names), what (the event type), why (the
//! event's own note or reason, else the reason its command was sent with, which the
//! metadata keeps) and a diff of the entity as its answer shows it, before and
//! after. It answers "who published this product, who refunded this order and why", which
//! a table of current rows cannot.
//!
//! The entity's view is the API's own answer, built from the aggregate's state folded event
//! by event, so the diff shows exactly what a client would have seen change.

use commands::store::RecordedEvent;
use domain::aggregate::{Aggregate, DomainEvent};
use maud::{html, Markup};
use serde_json::Value;

use crate::error::ApiError;

/// The most events one History tab folds: an entity with more shows its first ones and
/// says so; the stream's page in the event log has them all.
pub const MAX_EVENTS: usize = 500;

/// One change of the entity.
pub struct Change {
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: Option<String>,
    pub role: String,
    pub event_type: String,
    pub why: Option<String>,
    /// Each top-level field that changed: its name, before, after.
    pub diff: Vec<(String, Value, Value)>,
}

/// The changes `events` made, `view` rendering the state as its answer does (`None`
/// before the entity exists). Fields that change on every event (`updated_at`,
/// `version`) are left out of the diff.
pub fn changes<A: Aggregate>(
    events: &[RecordedEvent],
    view: impl Fn(&A::State) -> Option<Value>,
) -> Result<Vec<Change>, ApiError>
where
    A::Event: DomainEvent,
{
    let mut state = A::State::default();
    let mut before = view(&state);
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let event = A::Event::from_data(&e.event_type, e.schema_version, e.data.clone())
            .map_err(|err| ApiError::internal(format!("{}: {err}", e.event_type)))?;
        state = A::evolve(state, &event);
        let after = view(&state);
        out.push(Change {
            at: e.recorded_at,
            actor: e.metadata.get("actor_id").and_then(text),
            role: e
                .metadata
                .get("actor_role")
                .and_then(text)
                .unwrap_or_else(|| "system".into()),
            event_type: e.event_type.clone(),
            why: ["reason", "note"]
                .iter()
                .find_map(|k| e.data.get(*k).and_then(text))
                .or_else(|| e.metadata.get("reason").and_then(text)),
            diff: diff(before.as_ref(), after.as_ref()),
        });
        before = after;
    }
    Ok(out)
}

fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The top-level fields of two objects that differ, in key order.
fn diff(before: Option<&Value>, after: Option<&Value>) -> Vec<(String, Value, Value)> {
    let empty = serde_json::Map::new();
    let fields = |v: Option<&Value>| v.and_then(Value::as_object).unwrap_or(&empty).clone();
    let (b, a) = (fields(before), fields(after));
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !matches!(k.as_str(), "updated_at" | "version"))
        .filter_map(|k| {
            let (was, is) = (
                b.get(k).cloned().unwrap_or(Value::Null),
                a.get(k).cloned().unwrap_or(Value::Null),
            );
            (was != is).then(|| (k.clone(), was, is))
        })
        .collect()
}

/// A value as a cell shows it: strings bare, the rest as compact JSON, long ones cut.
fn shown(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    };
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

/// The History tab: one row per change, newest last.
pub fn tab(changes: &[Change], cut: bool) -> Markup {
    html! {
        section #history aria-labelledby="history-title" {
            h2 #history-title { "History" }
            @if cut {
                p.note { "The first " (MAX_EVENTS) " changes; the stream's page has every event." }
            }
            table.history {
                caption { "Each change from the entity's events: when, who, what, why, and what changed" }
                thead { tr {
                    th scope="col" { "When (UTC)" } th scope="col" { "Who" }
                    th scope="col" { "What" } th scope="col" { "Why" } th scope="col" { "Changed" }
                } }
                tbody {
                    @for c in changes {
                        tr {
                            td { time datetime=(c.at.to_rfc3339()) { (c.at.format("%Y-%m-%d %H:%M:%S")) } }
                            td { (c.role) @if let Some(a) = &c.actor { br; small.actor { (a) } } }
                            td.type { (c.event_type) }
                            td { (c.why.as_deref().unwrap_or("—")) }
                            td {
                                @if c.diff.is_empty() { "—" } @else {
                                    ul.diff { @for (k, was, is) in &c.diff {
                                        li { code { (k) } ": " del { (shown(was)) } " → " ins { (shown(is)) } }
                                    } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_fields_that_changed_are_listed_and_noise_left_out() {
        let before = json!({ "status": "paid", "total": 5, "updated_at": "a", "items": [1] });
        let after = json!({ "status": "shipped", "total": 5, "updated_at": "b", "items": [1, 2], "tracking": "T" });
        let d = diff(Some(&before), Some(&after));
        let keys: Vec<&str> = d.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(keys, ["items", "status", "tracking"]);
        assert_eq!(d[1].1, json!("paid"));
        assert_eq!(d[2].1, Value::Null, "a field that appears was null before");
        assert_eq!(diff(None, Some(&json!({ "a": 1 })))[0].2, json!(1));
        assert_eq!(shown(&json!("x".repeat(200))).chars().count(), 161);
    }
}
