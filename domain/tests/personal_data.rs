//! Invariant 11's declarations (ADR 0005): every field that looks like personal data is
//! declared personal, every declaration names a subject the event holds, and every
//! declared field still decodes once it reads as erased.

mod support;

use chrono::Utc;
use domain::aggregate::{Aggregate, DomainEvent};
use domain::cart::Cart;
use domain::catalog::{Category, Product};
use domain::coupon::Coupon;
use domain::id::{AddressId, CredentialId, UserId};
use domain::inventory::Inventory;
use domain::notification::Notification;
use domain::order::{Order, OrderEvent};
use domain::payment::Payment;
use domain::privacy::{declarations, declared, event_schemas, Subject, KEYWORD};
use domain::session::Session;
use domain::user::{Role, User, UserEvent};
use domain::value::Email;
use serde_json::Value;
use support::*;
use uuid::Uuid;

/// Every event type of the engine with its category and the schema of its data.
fn every_schema() -> Vec<(&'static str, String, Value)> {
    fn of<A: Aggregate>() -> Vec<(&'static str, String, Value)>
    where
        A::Event: schemars::JsonSchema,
    {
        event_schemas::<A::Event>()
            .into_iter()
            .map(|(t, s)| (A::CATEGORY, t, s))
            .collect()
    }
    [
        of::<User>(),
        of::<Order>(),
        of::<Category>(),
        of::<Product>(),
        of::<Inventory>(),
        of::<Payment>(),
        of::<Cart>(),
        of::<Coupon>(),
        of::<Notification>(),
        of::<Session>(),
        of::<domain::vendors::Vendor>(),
        of::<domain::reviews::Review>(),
        of::<domain::ledger::VendorLedger>(),
    ]
    .concat()
}

/// A field whose name or type says it identifies a person. Ids (`address_id`) do not:
/// they open nothing once the data they point to is erased.
fn looks_personal(name: &str, schema: &Value) -> bool {
    const NAMES: &[&str] = &[
        "email",
        "phone",
        "first_name",
        "last_name",
        "full_name",
        "address",
        "ip",
        "user_agent",
        "label",
        "notes",
    ];
    if name.ends_with("_id") {
        return false;
    }
    let by_name = NAMES.iter().any(|n| {
        name == *n || name.ends_with(&format!("_{n}")) || name.starts_with(&format!("{n}_"))
    });
    let text = schema.to_string();
    let by_type = ["#/$defs/Email\"", "#/$defs/Address\"", "#/$defs/Phone\""]
        .iter()
        .any(|r| text.contains(r));
    by_name || by_type
}

#[test]
fn every_field_that_looks_personal_is_declared() {
    let mut undeclared = Vec::new();
    for (category, event_type, schema) in every_schema() {
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            if looks_personal(name, property) && property.get(KEYWORD).is_none() {
                undeclared.push(format!("{category}/{event_type}.{name}"));
            }
        }
    }
    assert!(
        undeclared.is_empty(),
        "personal data not declared (add #[schemars(extend(\"x-personal\" = ...))], see \
         domain::privacy): {undeclared:#?}"
    );
    // The check itself catches what it is for.
    assert!(looks_personal("billing_address", &Value::Null));
    assert!(looks_personal(
        "contact",
        &serde_json::json!({"$ref": "#/$defs/Email"})
    ));
    assert!(!looks_personal("address_id", &Value::Null));
    assert!(
        !looks_personal("name", &Value::Null),
        "a product's name is not a person's"
    );
}

#[test]
fn every_declaration_names_a_subject_the_event_holds() {
    let all = declarations();
    assert!(all
        .get("user")
        .is_some_and(|t| t.contains_key("UserRegistered")));
    assert!(all
        .get("order")
        .is_some_and(|t| t.contains_key("OrderPlaced")));
    for (category, event_type, schema) in every_schema() {
        for field in declared(category, &event_type) {
            if let Subject::Field(pointer) = &field.subject {
                let name = pointer.trim_start_matches('/');
                assert!(
                    schema["required"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|n| n == name)),
                    "{category}/{event_type}.{}: its subject {pointer} is not a required field",
                    field.name
                );
            }
        }
    }
}

/// Whether an event's data decodes as its type.
type Decodes = Box<dyn Fn(Value) -> bool>;

/// One event of each declared type, to erase: category, decoder, data, type.
fn samples() -> Vec<(&'static str, Decodes, Value, &'static str)> {
    fn decodes<E: DomainEvent>(event_type: &'static str) -> Decodes {
        // Whatever the type's current version: 0 is never one, and says which is.
        let version = match E::from_data(event_type, 0, Value::Null) {
            Err(domain::EventDecodeError::UnknownVersion { current, .. }) => current,
            _ => unreachable!("version 0 is unknown to every type"),
        };
        Box::new(move |data| E::from_data(event_type, version, data).is_ok())
    }
    let user = UserId::new(Uuid::from_u128(1));
    let registered = UserEvent::UserRegistered {
        user_id: user,
        email: Email::parse("ann@example.com").unwrap(),
        credential: CredentialId::new(Uuid::from_u128(2)),
        first_name: Some("Ann".into()),
        last_name: Some("Lee".into()),
        role: Role::Customer,
        at: Utc::now(),
    };
    let profile = UserEvent::ProfileUpdated {
        first_name: Some("Ann".into()),
        last_name: None,
        at: Utc::now(),
    };
    let added = UserEvent::AddressAdded {
        address_id: AddressId::new(Uuid::from_u128(3)),
        label: Some("home".into()),
        address: address(),
    };
    let updated = UserEvent::AddressUpdated {
        address_id: AddressId::new(Uuid::from_u128(3)),
        label: None,
        address: address(),
    };
    let applied = domain::vendors::VendorEvent::VendorApplied {
        vendor_id: domain::id::VendorId::from(user),
        owner_id: user,
        store_name: "Ann's".into(),
        slug: domain::value::Slug::parse("anns").unwrap(),
        description: None,
        logo_url: None,
        contact_email: Email::parse("shop@ann.example").unwrap(),
        contact_phone: Some("+1 555 0100".into()),
        payout: Some(domain::vendors::Payout {
            account_holder: "Ann Lee".into(),
            account: "DE89370400440532013000".into(),
        }),
        at: Utc::now(),
    };
    let placed = Order::decide(&Default::default(), &place(vec![line(1, 2, 500)], 0, 0, 0))
        .unwrap()[0]
        .to_data();
    vec![
        (
            "user",
            decodes::<UserEvent>("UserRegistered"),
            registered.to_data(),
            "UserRegistered",
        ),
        (
            "user",
            decodes::<UserEvent>("ProfileUpdated"),
            profile.to_data(),
            "ProfileUpdated",
        ),
        (
            "user",
            decodes::<UserEvent>("AddressAdded"),
            added.to_data(),
            "AddressAdded",
        ),
        (
            "user",
            decodes::<UserEvent>("AddressUpdated"),
            updated.to_data(),
            "AddressUpdated",
        ),
        (
            "order",
            decodes::<OrderEvent>("OrderPlaced"),
            placed,
            "OrderPlaced",
        ),
        (
            "vendor",
            decodes::<domain::vendors::VendorEvent>("VendorApplied"),
            applied.to_data(),
            "VendorApplied",
        ),
    ]
}

#[test]
fn every_declared_field_decodes_once_erased() {
    let samples = samples();
    for (category, types) in declarations() {
        for event_type in types.keys() {
            assert!(
                samples
                    .iter()
                    .any(|(c, _, _, t)| c == category && t == event_type),
                "{category}/{event_type} declares personal fields: add a sample here"
            );
        }
    }
    for (category, decodes, data, event_type) in samples {
        assert!(decodes(data.clone()), "{event_type} decodes as it is");
        let fields = declared(category, event_type);
        assert!(!fields.is_empty(), "{event_type}");
        let mut erased = data.clone();
        for field in fields {
            assert!(
                data.get(&field.name).is_some(),
                "{event_type}.{} is declared but the event has no such field",
                field.name
            );
            erased[&field.name] = field.erased.clone();
        }
        assert!(
            decodes(erased.clone()),
            "{event_type} decodes erased: {erased}"
        );
        for field in fields.iter().filter(|f| !data[&f.name].is_null()) {
            assert_ne!(
                data[&field.name], erased[&field.name],
                "{event_type}.{}",
                field.name
            );
        }
    }
}

#[test]
fn events_without_personal_data_declare_none() {
    for (category, event_type) in [
        ("cart", "CartItemAdded"),
        ("payment", "PaymentCaptured"),
        ("session", "SignedIn"),
        ("product", "ProductCreated"),
    ] {
        assert!(declared(category, event_type).is_empty(), "{event_type}");
    }
}
