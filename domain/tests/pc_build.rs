//! The `PcBuild` aggregate (issue 24), given / when / then: who may change a build, what
//! its slots hold, and its share link.

use chrono::{DateTime, TimeZone, Utc};
use domain::id::{PcBuildId, ProductId, UserId};
use domain::pc_builder::{
    compatibility, default_rules, part_slot, Component, PcBuild, PcBuildCommand, PcBuildError,
    PcBuildEvent, PcBuildState, Slot,
};
use domain::Aggregate;
use serde_json::json;
use uuid::Uuid;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 8, 10, 0, 0).unwrap()
}

fn owner() -> UserId {
    UserId::new(Uuid::from_u128(42))
}

fn product(n: u128) -> ProductId {
    ProductId::new(Uuid::from_u128(n))
}

fn c(slot: Slot, n: u128, quantity: u32) -> Component {
    Component {
        slot,
        product_id: product(n),
        quantity,
    }
}

const HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn given(events: &[PcBuildEvent]) -> PcBuildState {
    events.iter().fold(PcBuildState::default(), PcBuild::evolve)
}

fn created() -> Vec<PcBuildEvent> {
    vec![PcBuildEvent::PcBuildCreated {
        build_id: PcBuildId::new(Uuid::from_u128(7)),
        owner: Some(owner()),
        name: "Gaming rig".into(),
        at: at(),
    }]
}

fn create(
    owner: Option<UserId>,
    components: Vec<Component>,
    share: Option<&str>,
) -> PcBuildCommand {
    PcBuildCommand::Create {
        build_id: PcBuildId::new(Uuid::from_u128(7)),
        owner,
        name: "  Gaming rig ".into(),
        components,
        share_token_hash: share.map(str::to_owned),
        at: at(),
    }
}

fn set(by: UserId, components: Vec<Component>) -> PcBuildCommand {
    PcBuildCommand::SetComponents {
        by,
        components,
        at: at(),
    }
}

fn field_of(e: PcBuildError) -> String {
    match e {
        PcBuildError::Invalid { field, .. } => field,
        other => panic!("expected a refused field, got {other:?}"),
    }
}

#[test]
fn a_users_build_starts_empty_and_named() {
    let events = PcBuild::decide(&given(&[]), &create(Some(owner()), vec![], None)).unwrap();
    assert_eq!(events, created());
}

#[test]
fn an_anonymous_build_takes_its_parts_and_its_link_at_once() {
    let parts = vec![c(Slot::Gpu, 2, 1), c(Slot::Cpu, 1, 1)];
    let events = PcBuild::decide(&given(&[]), &create(None, parts, Some(HASH))).unwrap();
    assert_eq!(events.len(), 3);
    // Sorted by slot, then product: the same choice is one shape in the log.
    assert_eq!(
        events[1],
        PcBuildEvent::PcBuildComponentsSet {
            components: vec![c(Slot::Cpu, 1, 1), c(Slot::Gpu, 2, 1)],
            at: at(),
        }
    );
    let state = given(&events);
    assert_eq!(state.build.unwrap().share.as_deref(), Some(HASH));
}

#[test]
fn an_anonymous_build_without_a_link_is_refused_as_unreachable() {
    let e = PcBuild::decide(&given(&[]), &create(None, vec![], None)).unwrap_err();
    assert_eq!(field_of(e), "share_token_hash");
}

#[test]
fn nobody_changes_an_anonymous_build() {
    let events = PcBuild::decide(&given(&[]), &create(None, vec![], Some(HASH))).unwrap();
    let e = PcBuild::decide(&given(&events), &set(owner(), vec![c(Slot::Cpu, 1, 1)])).unwrap_err();
    assert_eq!(e, PcBuildError::NotOwner);
}

#[test]
fn only_the_owner_sets_components_or_shares() {
    let stranger = UserId::new(Uuid::from_u128(43));
    let s = given(&created());
    assert_eq!(
        PcBuild::decide(&s, &set(stranger, vec![])).unwrap_err(),
        PcBuildError::NotOwner
    );
    let share = PcBuildCommand::Share {
        by: stranger,
        token_hash: HASH.into(),
        at: at(),
    };
    assert_eq!(
        PcBuild::decide(&s, &share).unwrap_err(),
        PcBuildError::NotOwner
    );
    assert_eq!(
        PcBuild::decide(&given(&[]), &set(owner(), vec![])).unwrap_err(),
        PcBuildError::NotCreated
    );
}

#[test]
fn setting_the_same_parts_again_records_nothing() {
    let mut events = created();
    events
        .extend(PcBuild::decide(&given(&events), &set(owner(), vec![c(Slot::Cpu, 1, 1)])).unwrap());
    assert_eq!(events.len(), 2);
    let again = PcBuild::decide(&given(&events), &set(owner(), vec![c(Slot::Cpu, 1, 1)])).unwrap();
    assert!(again.is_empty());
}

#[test]
fn a_single_slot_holds_one_part_and_memory_holds_eight() {
    let s = given(&created());
    // Two CPUs.
    let e = PcBuild::decide(
        &s,
        &set(owner(), vec![c(Slot::Cpu, 1, 1), c(Slot::Cpu, 2, 1)]),
    )
    .unwrap_err();
    assert_eq!(field_of(e), "components[1]");
    // A CPU twice over.
    let e = PcBuild::decide(&s, &set(owner(), vec![c(Slot::Cpu, 1, 2)])).unwrap_err();
    assert_eq!(field_of(e), "components[0]");
    // Eight sticks of memory, over two lines, fit; a ninth does not.
    assert!(PcBuild::decide(
        &s,
        &set(owner(), vec![c(Slot::Memory, 3, 4), c(Slot::Memory, 4, 4)])
    )
    .is_ok());
    let e = PcBuild::decide(
        &s,
        &set(owner(), vec![c(Slot::Memory, 3, 4), c(Slot::Memory, 4, 5)]),
    )
    .unwrap_err();
    assert_eq!(field_of(e), "components[1]");
}

#[test]
fn a_zero_quantity_or_a_product_listed_twice_is_refused_by_its_index() {
    let s = given(&created());
    let e = PcBuild::decide(&s, &set(owner(), vec![c(Slot::Storage, 5, 0)])).unwrap_err();
    assert_eq!(field_of(e), "components[0].quantity");
    let e = PcBuild::decide(
        &s,
        &set(
            owner(),
            vec![c(Slot::Storage, 5, 1), c(Slot::Storage, 5, 1)],
        ),
    )
    .unwrap_err();
    assert_eq!(field_of(e), "components[1].product_id");
}

#[test]
fn a_name_is_one_line_of_one_to_a_hundred_characters() {
    let mut cmd = create(Some(owner()), vec![], None);
    if let PcBuildCommand::Create { name, .. } = &mut cmd {
        *name = "   ".into();
    }
    assert_eq!(
        field_of(PcBuild::decide(&given(&[]), &cmd).unwrap_err()),
        "name"
    );
    if let PcBuildCommand::Create { name, .. } = &mut cmd {
        *name = "x".repeat(101);
    }
    assert_eq!(
        field_of(PcBuild::decide(&given(&[]), &cmd).unwrap_err()),
        "name"
    );
}

#[test]
fn a_new_share_replaces_the_link_and_a_bad_hash_is_refused() {
    let s = given(&created());
    let other = "f".repeat(64);
    let events = PcBuild::decide(
        &s,
        &PcBuildCommand::Share {
            by: owner(),
            token_hash: other.clone(),
            at: at(),
        },
    )
    .unwrap();
    let mut log = created();
    log.extend(events);
    assert_eq!(given(&log).build.unwrap().share, Some(other));
    let e = PcBuild::decide(
        &s,
        &PcBuildCommand::Share {
            by: owner(),
            token_hash: "not a hash".into(),
            at: at(),
        },
    )
    .unwrap_err();
    assert_eq!(field_of(e), "share_token_hash");
}

#[test]
fn creating_twice_is_refused() {
    let e = PcBuild::decide(&given(&created()), &create(Some(owner()), vec![], None)).unwrap_err();
    assert_eq!(e, PcBuildError::AlreadyCreated);
}

#[test]
fn a_products_slot_is_its_pc_slot_attribute() {
    let attrs = |v: serde_json::Value| v.as_object().unwrap().clone();
    assert_eq!(
        part_slot(&attrs(json!({"pc_slot": "GPU "}))),
        Some(Slot::Gpu)
    );
    assert_eq!(part_slot(&attrs(json!({"pc_slot": "toaster"}))), None);
    assert_eq!(part_slot(&attrs(json!({"color": "red"}))), None);
}

#[test]
fn the_compatibility_counts_each_unit_and_names_each_finding_once() {
    let board = json!({"socket": "AM5", "memory_type": "DDR5", "form_factor": "ATX",
                       "max_memory_speed_mhz": 6000, "m2_slots": 1, "sata_ports": 2});
    let ddr4 = json!({"memory_type": "DDR4", "speed_mhz": 3200});
    let nvme = json!({"interface": "m2"});
    let attributes = |p: ProductId| {
        let v = match p.as_uuid().as_u128() {
            2 => &board,
            3 => &ddr4,
            5 => &nvme,
            _ => return None,
        };
        v.as_object().cloned()
    };
    let parts = [
        c(Slot::Motherboard, 2, 1),
        c(Slot::Memory, 3, 2),
        c(Slot::Storage, 5, 2),
    ];
    let found = compatibility(&default_rules(), &parts, attributes);
    assert!(!found.ok);
    let rules: Vec<&str> = found.issues.iter().map(|i| i.rule.as_str()).collect();
    // Two DDR4 sticks on a DDR5 board: one finding, not two; two M.2 drives of one
    // product on a board with one M.2 slot: over the limit.
    assert_eq!(
        rules.iter().filter(|r| **r == "memory_type").count(),
        1,
        "{rules:?}"
    );
    assert!(rules.contains(&"m2_slots"), "{rules:?}");
    let memory = found
        .issues
        .iter()
        .find(|i| i.rule == "memory_type")
        .unwrap();
    assert_eq!(memory.parts, vec![product(3), product(2)]);
}
