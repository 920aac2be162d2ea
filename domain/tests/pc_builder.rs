//! The PC builder's rules (issue 24): a compatible machine, and each way one is not.

use domain::id::ProductId;
use domain::pc_builder::{check, default_rules, fits, Build, Part, Severity, Slot};
use serde_json::{json, Value};
use uuid::Uuid;

fn part(n: u128, attributes: Value) -> Part {
    Part {
        product_id: ProductId::new(Uuid::from_u128(n)),
        attributes: attributes.as_object().unwrap().clone(),
    }
}

fn cpu() -> Part {
    part(1, json!({"socket": "AM5", "tdp_w": 120}))
}
fn board() -> Part {
    part(
        2,
        json!({"socket": "am5", "memory_type": "DDR5", "max_memory_speed_mhz": 6000,
               "form_factor": "ATX", "m2_slots": 2, "sata_ports": 4}),
    )
}
fn memory() -> Part {
    part(3, json!({"memory_type": "DDR5", "speed_mhz": 5600}))
}
fn gpu(length: i64, power: i64) -> Part {
    part(4, json!({"length_mm": length, "power_w": power}))
}
fn psu(watts: i64) -> Part {
    part(5, json!({"wattage_w": watts}))
}
fn case() -> Part {
    part(
        6,
        json!({"form_factors": ["ATX", "mATX"], "max_gpu_length_mm": 330, "max_cooler_height_mm": 165}),
    )
}
fn cooler() -> Part {
    part(7, json!({"sockets": ["AM4", "AM5"], "height_mm": 158}))
}
fn drive(n: u128, interface: &str) -> Part {
    part(n, json!({ "interface": interface }))
}

fn machine() -> Build {
    [
        (Slot::Cpu, cpu()),
        (Slot::Motherboard, board()),
        (Slot::Memory, memory()),
        (Slot::Gpu, gpu(300, 220)),
        (Slot::Psu, psu(750)),
        (Slot::Case, case()),
        (Slot::Cooler, cooler()),
        (Slot::Storage, drive(10, "m2")),
    ]
    .into_iter()
    .fold(Build::default(), |b, (slot, p)| b.with(slot, p))
}

fn errors(build: &Build) -> Vec<(String, Vec<u128>)> {
    check(&default_rules(), build)
        .issues
        .into_iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| {
            (
                i.rule,
                i.parts.iter().map(|p| p.as_uuid().as_u128()).collect(),
            )
        })
        .collect()
}

#[test]
fn a_matched_machine_is_compatible_whatever_the_case_of_its_text() {
    let c = check(&default_rules(), &machine());
    assert!(c.ok, "{:?}", c.issues);
    assert!(c.issues.is_empty());
}

#[test]
fn an_incompatible_socket_names_the_cpu_the_board_and_the_cooler() {
    let b = machine().with(
        Slot::Cpu,
        part(1, json!({"socket": "LGA1700", "tdp_w": 125})),
    );
    assert_eq!(
        errors(&b),
        [
            ("cpu_socket".to_string(), vec![1, 2]),
            ("cooler_socket".to_string(), vec![1, 7])
        ]
    );
    assert!(!check(&default_rules(), &b).ok);
}

#[test]
fn a_psu_too_small_for_the_draw_with_headroom_is_refused_at_the_boundary() {
    // 120 + 220 = 340 W, with 30% headroom 442 W.
    assert!(errors(&machine().with(Slot::Psu, psu(442))).is_empty());
    assert_eq!(
        errors(&machine().with(Slot::Psu, psu(441))),
        [("psu_wattage".to_string(), vec![5, 4])]
    );
}

#[test]
fn a_gpu_too_long_for_the_case_is_refused_and_one_that_just_fits_is_not() {
    assert!(errors(&machine().with(Slot::Gpu, gpu(330, 220))).is_empty());
    assert_eq!(
        errors(&machine().with(Slot::Gpu, gpu(331, 220))),
        [("gpu_length".to_string(), vec![4, 6])]
    );
}

#[test]
fn more_m2_drives_than_slots_names_the_first_that_does_not_fit() {
    let b = machine()
        .with(Slot::Storage, drive(11, "m2"))
        .with(Slot::Storage, drive(12, "sata"));
    assert!(errors(&b).is_empty());
    let b = b.with(Slot::Storage, drive(13, "M2"));
    assert_eq!(errors(&b), [("m2_slots".to_string(), vec![2, 13])]);
}

#[test]
fn faster_memory_is_a_warning_and_a_missing_attribute_says_it_was_not_checked() {
    let fast = part(3, json!({"memory_type": "DDR5", "speed_mhz": 7200}));
    let c = check(&default_rules(), &machine().with(Slot::Memory, fast));
    assert!(c.ok);
    assert_eq!(c.issues.len(), 1);
    assert_eq!(c.issues[0].rule, "memory_speed");
    assert_eq!(c.issues[0].severity, Severity::Warning);

    let bare = part(6, json!({"form_factors": ["ATX"]}));
    let c = check(&default_rules(), &machine().with(Slot::Case, bare));
    assert!(c.ok);
    let rules: Vec<_> = c.issues.iter().map(|i| i.rule.as_str()).collect();
    assert_eq!(rules, ["gpu_length", "cooler_height"]);
    assert!(c.issues[0].message.starts_with("not checked"));
}

#[test]
fn a_build_is_checked_as_far_as_it_goes_and_candidates_are_filtered_by_it() {
    let so_far = Build::default()
        .with(Slot::Cpu, cpu())
        .with(Slot::Motherboard, board());
    assert!(check(&default_rules(), &so_far).ok);
    let rules = default_rules();
    assert!(fits(&rules, &so_far, Slot::Memory, &memory()));
    let ddr4 = part(30, json!({"memory_type": "DDR4", "speed_mhz": 3200}));
    assert!(!fits(&rules, &so_far, Slot::Memory, &ddr4));
    // A board replacing the chosen one is judged against the CPU, not the old board.
    let other_board = part(
        20,
        json!({"socket": "AM5", "memory_type": "DDR5", "max_memory_speed_mhz": 6400,
               "form_factor": "mATX", "m2_slots": 1, "sata_ports": 2}),
    );
    assert!(fits(&rules, &so_far, Slot::Motherboard, &other_board));
}

#[test]
fn the_rule_set_reads_as_data() {
    let rules = serde_json::to_value(default_rules()).unwrap();
    let first = &rules[0];
    assert_eq!(first["id"], "cpu_socket");
    assert_eq!(first["kind"], "same");
    assert_eq!(first["left"], json!({"slot": "cpu", "attribute": "socket"}));
    assert!(rules
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["kind"] == "power" && r["headroom_percent"] == 30));
}
