//! Every declaration in the code: read once per process from the events' own schemas.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::declaration::{personal_fields, PersonalField};
use crate::aggregate::Aggregate;

/// Every event type of an externally tagged event enum with the schema of its data.
pub fn event_schemas<E: schemars::JsonSchema>() -> Vec<(String, Value)> {
    let root = serde_json::to_value(schemars::schema_for!(E)).expect("a schema serializes");
    let mut out = Vec::new();
    for variant in root["oneOf"].as_array().into_iter().flatten() {
        if let Some((name, body)) = variant["properties"]
            .as_object()
            .and_then(|p| p.iter().next())
        {
            out.push((name.clone(), body.clone()));
        }
    }
    out
}

/// The declarations of every event of the engine: by stream category, then event type.
pub type Declarations = HashMap<&'static str, HashMap<String, Vec<PersonalField>>>;

fn of<A: Aggregate>(into: &mut Declarations)
where
    A::Event: schemars::JsonSchema,
{
    for (event_type, schema) in event_schemas::<A::Event>() {
        let fields = personal_fields(&event_type, &schema)
            .unwrap_or_else(|e| panic!("a declaration in the code is malformed: {e}"));
        if !fields.is_empty() {
            into.entry(A::CATEGORY)
                .or_default()
                .insert(event_type, fields);
        }
    }
}

/// Every declaration in the code, computed once per process.
pub fn declarations() -> &'static Declarations {
    static ALL: OnceLock<Declarations> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = Declarations::new();
        of::<crate::user::User>(&mut all);
        of::<crate::order::Order>(&mut all);
        of::<crate::catalog::Category>(&mut all);
        of::<crate::catalog::Product>(&mut all);
        of::<crate::inventory::Inventory>(&mut all);
        of::<crate::payment::Payment>(&mut all);
        of::<crate::cart::Cart>(&mut all);
        of::<crate::coupon::Coupon>(&mut all);
        of::<crate::notification::Notification>(&mut all);
        of::<crate::session::Session>(&mut all);
        of::<crate::vendors::Vendor>(&mut all);
        all
    })
}

/// The personal fields of `event_type` in streams of `category`; empty for an event with
/// none.
pub fn declared(category: &str, event_type: &str) -> &'static [PersonalField] {
    declarations()
        .get(category)
        .and_then(|types| types.get(event_type))
        .map_or(&[], Vec::as_slice)
}
