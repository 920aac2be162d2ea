//! What changed between two states, field by field: every leaf that was added, removed or
//! changed, named by its path (`placed.lines[0].quantity`). Objects are compared key by key
//! and arrays item by item, so a change deep inside shows as that one field.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldChange {
    /// Where it is: keys joined by `.`, array items as `[i]`; empty for the whole state.
    pub path: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// `null` when added.
    #[schema(value_type = Object)]
    pub before: Option<Value>,
    /// `null` when removed.
    #[schema(value_type = Object)]
    pub after: Option<Value>,
}

/// The fields that differ from `before` to `after`, in path order. A field that goes from or
/// to `null` counts as added or removed: an unset `Option` is no value.
pub fn diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", before, after, &mut out);
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(path: &str, before: &Value, after: &Value, out: &mut Vec<FieldChange>) {
    match (before, after) {
        (a, b) if a == b => {}
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let null = Value::Null;
                walk(
                    &join(path, k),
                    a.get(k).unwrap_or(&null),
                    b.get(k).unwrap_or(&null),
                    out,
                );
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let null = Value::Null;
                walk(
                    &format!("{path}[{i}]"),
                    a.get(i).unwrap_or(&null),
                    b.get(i).unwrap_or(&null),
                    out,
                );
            }
        }
        (Value::Null, b) => out.push(FieldChange {
            path: path.to_owned(),
            change: "added",
            before: None,
            after: Some(b.clone()),
        }),
        (a, Value::Null) => out.push(FieldChange {
            path: path.to_owned(),
            change: "removed",
            before: Some(a.clone()),
            after: None,
        }),
        (a, b) => out.push(FieldChange {
            path: path.to_owned(),
            change: "changed",
            before: Some(a.clone()),
            after: Some(b.clone()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaves_added_removed_and_changed_are_named_by_path() {
        let before = json!({ "placed": { "status": "paid", "lines": [{ "q": 1 }], "note": "x" }, "history": [] });
        let after = json!({ "placed": { "status": "shipped", "lines": [{ "q": 1 }, { "q": 2 }], "note": null, "tracking": "T1" }, "history": [] });
        let d = diff(&before, &after);
        let shown: Vec<(&str, &str)> = d.iter().map(|c| (c.path.as_str(), c.change)).collect();
        assert_eq!(
            shown,
            [
                ("placed.lines[1]", "added"),
                ("placed.note", "removed"),
                ("placed.status", "changed"),
                ("placed.tracking", "added"),
            ]
        );
        assert_eq!(d[2].before, Some(json!("paid")));
        assert_eq!(d[0].after, Some(json!({ "q": 2 })));
        assert!(diff(&after, &after).is_empty());
        assert_eq!(diff(&json!(null), &json!({ "a": 1 }))[0].change, "added");
    }
}
