//! The PC builder (issue 24) against the real binary: `seed-demo` stocks the PC parts; a
//! shopper builds a machine that works, sees which parts of a slot fit it, swaps in a CPU
//! and GPU the power supply cannot feed (and is told which rule and parts), swaps back,
//! shares the build with a link anyone can read, and puts the whole build in the cart.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use e2e::{binary, eventually, send, Server};
use serde_json::{json, Value};

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_shopper_builds_a_pc_from_the_demo_parts_and_buys_it() {
    let s = Server::start().await;

    // The demo catalog, PC parts included, seeded by the binary's own role.
    let seeded = Command::new(binary())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .args(["seed-demo", "--database-url", &s.database_url])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("seed-demo runs");
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );

    // Every part by name, once the read model has them all.
    let mut part: BTreeMap<String, String> = BTreeMap::new();
    for (slot, count) in [
        ("cpu", 4),
        ("motherboard", 4),
        ("memory", 3),
        ("gpu", 3),
        ("storage", 4),
        ("psu", 3),
        ("case", 3),
        ("cooler", 2),
    ] {
        let page = eventually(&format!("the {slot} parts are listed"), || async {
            let page = send(s.get(&format!(
                "/api/v1/pc-builder/compatible?slot={slot}&limit=100"
            )))
            .await;
            (page.body["total"] == count).then_some(page.body)
        })
        .await;
        for p in page["items"].as_array().unwrap() {
            assert_eq!(p["slot"], slot);
            part.insert(
                p["name"].as_str().unwrap().to_owned(),
                p["product_id"].as_str().unwrap().to_owned(),
            );
        }
    }
    let c = |slot: &str, name: &str| json!({ "slot": slot, "product_id": part[name] });

    // A machine that works.
    let (_, ann) = s.customer("ann.pc@example.com").await;
    let mut memory = c("memory", "Memora DDR5-6000 16 GB Module");
    memory["quantity"] = json!(2);
    let working = json!([
        c("cpu", "Corelis X7 AM5 Processor"),
        c("motherboard", "Basewave B650 ATX Motherboard"),
        memory,
        c("gpu", "Pixelforge 4070 Graphics Card"),
        c("storage", "Datacore NVMe SSD 1 TB"),
        c("psu", "Voltwave 750 W Power Supply"),
        c("case", "Shellworks Mid Tower Case"),
        c("cooler", "Frostline Tower Air Cooler"),
    ]);
    let created = send(
        s.post("/api/v1/pc-builds")
            .bearer_auth(&ann)
            .json(&json!({ "name": "Gaming rig", "components": working })),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(
        created.body["compatibility"],
        json!({ "ok": true, "issues": [] }),
        "{}",
        created.text
    );
    let id = created.body["id"].as_str().unwrap().to_owned();

    // The parts of a slot that fit it: the AM5 CPUs, the one case that takes an ATX board.
    let cpus = send(
        s.get(&format!(
            "/api/v1/pc-builder/compatible?slot=cpu&build={id}"
        ))
        .bearer_auth(&ann)
        .header("x-consistency-token", created.consistency()),
    )
    .await;
    assert_eq!(cpus.status, 200, "{}", cpus.text);
    assert_eq!(
        names(&cpus.body),
        ["Corelis X7 AM5 Processor", "Corelis X9 AM5 Processor"]
    );
    let cases = send(
        s.get(&format!(
            "/api/v1/pc-builder/compatible?slot=case&build={id}"
        ))
        .bearer_auth(&ann),
    )
    .await;
    assert_eq!(names(&cases.body), ["Shellworks Mid Tower Case"]);

    // The X9 and the 4090 draw 620 W; with 30% headroom the 750 W supply is too small.
    let mut hungry = working.clone();
    hungry[0] = c("cpu", "Corelis X9 AM5 Processor");
    hungry[3] = c("gpu", "Pixelforge 4090 Graphics Card");
    let changed = send(
        s.put(&format!("/api/v1/pc-builds/{id}/components"))
            .bearer_auth(&ann)
            .json(&json!({ "components": hungry })),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.body["compatibility"]["ok"], false);
    let issue = &changed.body["compatibility"]["issues"][0];
    assert_eq!(issue["rule"], "psu_wattage", "{}", changed.text);
    assert_eq!(
        issue["parts"],
        json!([
            part["Voltwave 750 W Power Supply"],
            part["Pixelforge 4090 Graphics Card"]
        ])
    );
    let back = send(
        s.put(&format!("/api/v1/pc-builds/{id}/components"))
            .bearer_auth(&ann)
            .json(&json!({ "components": working })),
    )
    .await;
    assert_eq!(back.body["compatibility"]["ok"], true, "{}", back.text);

    // Shared by a link: anyone reads it, as its owner does.
    let shared = send(
        s.post(&format!("/api/v1/pc-builds/{id}/share"))
            .bearer_auth(&ann),
    )
    .await;
    assert_eq!(shared.status, 200, "{}", shared.text);
    let token = shared.body["share_token"].as_str().unwrap();
    let read = send(
        s.get(&format!("/api/v1/pc-builds/shared/{token}"))
            .header("x-consistency-token", shared.consistency()),
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.body["components"], back.body["components"]);
    assert_eq!(read.body["compatibility"]["ok"], true);

    // The whole build in the cart: eight lines, nine units.
    let carted = send(
        s.post(&format!("/api/v1/pc-builds/{id}/cart"))
            .bearer_auth(&ann),
    )
    .await;
    assert_eq!(carted.status, 200, "{}", carted.text);
    let cart = send(
        s.get("/api/v1/cart")
            .bearer_auth(&ann)
            .header("x-consistency-token", carted.consistency()),
    )
    .await;
    assert_eq!(cart.status, 200, "{}", cart.text);
    let mut lines: Vec<(String, i64)> = cart.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["product_id"].as_str().unwrap().to_owned(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    lines.sort();
    let mut expected: Vec<(String, i64)> = working
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["product_id"].as_str().unwrap().to_owned(),
                c["quantity"].as_i64().unwrap_or(1),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(lines, expected, "{}", cart.text);
    assert_eq!(cart.body["item_count"], 9);
    // The demo's prices: $299 + $199 + 2 × $59 + $599 + $79 + $109 + $99 + $49, less a
    // cent each.
    assert_eq!(
        cart.body["subtotal"]["amount"],
        (299 + 199 + 2 * 59 + 599 + 79 + 109 + 99 + 49) * 100 - 9
    );
}
