//! The PC builder over real HTTP (issue 24 items 5 and 6): builds and their
//! compatibility (an incompatible socket, a PSU too small, a GPU too long for the case,
//! each issue naming its two parts and its rule), parts refused by slot, by catalog and by
//! capacity (422), another user's build (404), the share link (read-only, replaced by a
//! new one), the rule set, the compatible parts of a slot, and the build into the cart,
//! whole or not at all.

mod common;

use common::{access_token, call, json_call, with_shop, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::Client;
use serde_json::{json, Value};

fn field(problem: &Value) -> &str {
    problem["errors"][0]["field"].as_str().unwrap_or("")
}

async fn anonymous(c: &Client, method: &str, url: String, body: Option<Value>) -> (u16, Value) {
    let mut r = c.request(method.parse().unwrap(), url);
    if let Some(body) = body {
        r = r.json(&body);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn customer(c: &Client, base: &str, email: &str) -> String {
    let r = c
        .post(format!("{base}/auth/register"))
        .json(&json!({ "email": email, "password": "customer password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    access_token(c, base, email, "customer password").await
}

/// The parts of the test shop, by a short name.
struct Parts(std::collections::BTreeMap<&'static str, String>);

impl Parts {
    fn id(&self, name: &str) -> &str {
        &self.0[name]
    }

    fn c(&self, slot: &str, name: &str) -> Value {
        json!({ "slot": slot, "product_id": self.id(name) })
    }
}

async fn parts(c: &Client, base: &str, admin: &str) -> Parts {
    let (status, category) = json_call(
        c,
        "POST",
        format!("{base}/categories"),
        admin,
        Some(json!({ "name": "PC Parts" })),
    )
    .await;
    assert_eq!(status, 201, "{category}");
    let specs: Vec<(&str, i64, Value)> = vec![
        (
            "cpu_am5",
            29_900,
            json!({"pc_slot": "cpu", "socket": "AM5", "tdp_w": 105}),
        ),
        (
            "cpu_lga",
            22_900,
            json!({"pc_slot": "cpu", "socket": "LGA1700", "tdp_w": 125}),
        ),
        (
            "board",
            19_900,
            json!({"pc_slot": "motherboard", "socket": "AM5", "memory_type": "DDR5",
            "max_memory_speed_mhz": 6000, "form_factor": "mATX", "m2_slots": 2, "sata_ports": 4}),
        ),
        (
            "ddr5",
            5_900,
            json!({"pc_slot": "memory", "memory_type": "DDR5", "speed_mhz": 6000}),
        ),
        (
            "gpu_ok",
            59_900,
            json!({"pc_slot": "gpu", "length_mm": 305, "power_w": 200}),
        ),
        (
            "gpu_long",
            159_900,
            json!({"pc_slot": "gpu", "length_mm": 357, "power_w": 450}),
        ),
        (
            "psu_small",
            5_900,
            json!({"pc_slot": "psu", "wattage_w": 450}),
        ),
        (
            "psu_big",
            17_900,
            json!({"pc_slot": "psu", "wattage_w": 1000}),
        ),
        // Priced so that 9,999 of them sit just below a cart's bound on its total.
        (
            "psu_gold",
            100_000_000,
            json!({"pc_slot": "psu", "wattage_w": 2000}),
        ),
        (
            "case_micro",
            7_900,
            json!({"pc_slot": "case", "form_factors": ["mATX", "ITX"],
            "max_gpu_length_mm": 320, "max_cooler_height_mm": 160}),
        ),
        (
            "nvme",
            7_900,
            json!({"pc_slot": "storage", "interface": "m2"}),
        ),
        ("toaster", 2_900, json!({"color": "red"})),
    ];
    let mut ids = std::collections::BTreeMap::new();
    for (name, price, attributes) in specs {
        let (status, p) = json_call(
            c,
            "POST",
            format!("{base}/products"),
            admin,
            Some(json!({ "sku": format!("PC-{name}"), "name": name, "category_id": category["id"],
                         "price": { "amount": price, "currency": "USD" }, "attributes": attributes })),
        )
        .await;
        assert_eq!(status, 201, "{p}");
        ids.insert(name, p["id"].as_str().unwrap().to_owned());
    }
    Parts(ids)
}

/// The rules of a build's issues, and the parts each names.
fn issues(build: &Value) -> Vec<(String, Vec<String>)> {
    build["compatibility"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["rule"].as_str().unwrap().to_owned(),
                i["parts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn builds_check_their_parts_and_are_private_until_shared() {
    with_shop(&[], |base, _| async move { builds(&base).await }).await;
}

async fn builds(base: &str) {
    let c = Client::new();
    let admin = access_token(&c, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let p = parts(&c, base, &admin).await;
    let ann = customer(&c, base, "ann@example.com").await;
    let bob = customer(&c, base, "bob@example.com").await;
    let builds = format!("{base}/pc-builds");

    // A compatible start.
    let (status, rig) = json_call(
        &c,
        "POST",
        builds.clone(),
        &ann,
        Some(json!({ "name": " Rig ", "components": [p.c("cpu", "cpu_am5"), p.c("motherboard", "board")] })),
    )
    .await;
    assert_eq!(status, 201, "{rig}");
    assert_eq!(rig["name"], "Rig");
    assert_eq!(rig["compatibility"], json!({ "ok": true, "issues": [] }));
    assert!(
        rig.get("share_token").is_none(),
        "a user's build is not shared at once"
    );
    let id = rig["id"].as_str().unwrap().to_owned();
    let components = format!("{builds}/{id}/components");

    // An incompatible socket: kept, with the issue naming both parts and the rule.
    let (status, b) = json_call(
        &c,
        "PUT",
        components.clone(),
        &ann,
        Some(json!({ "components": [p.c("cpu", "cpu_lga"), p.c("motherboard", "board")] })),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["compatibility"]["ok"], false);
    assert_eq!(
        issues(&b),
        vec![(
            "cpu_socket".to_owned(),
            vec![p.id("cpu_lga").to_owned(), p.id("board").to_owned()]
        )]
    );
    assert_eq!(b["compatibility"]["issues"][0]["severity"], "error");

    // A PSU too small for the CPU and GPU with headroom, and a GPU too long for the case.
    let (status, b) = json_call(
        &c,
        "PUT",
        components.clone(),
        &ann,
        Some(json!({ "components": [
            p.c("cpu", "cpu_am5"), p.c("motherboard", "board"), p.c("gpu", "gpu_long"),
            p.c("psu", "psu_small"), p.c("case", "case_micro"),
        ] })),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    let found = issues(&b);
    assert!(
        found.contains(&(
            "gpu_length".to_owned(),
            vec![p.id("gpu_long").to_owned(), p.id("case_micro").to_owned()]
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&(
            "psu_wattage".to_owned(),
            vec![p.id("psu_small").to_owned(), p.id("gpu_long").to_owned()]
        )),
        "{found:?}"
    );
    assert_eq!(found.len(), 2, "{found:?}");

    // Refused, naming the component: a part in the wrong slot, a product that is not a
    // part, an unknown product, an unknown slot, two CPUs, a part off sale.
    let refused = [
        (json!([p.c("gpu", "cpu_am5")]), "components[0].slot"),
        (
            json!([p.c("gpu", "gpu_ok"), p.c("cpu", "toaster")]),
            "components[1].product_id",
        ),
        (
            json!([{ "slot": "cpu", "product_id": uuid::Uuid::new_v4() }]),
            "components[0].product_id",
        ),
        (json!([p.c("toaster", "cpu_am5")]), "components[0].slot"),
        (
            json!([p.c("cpu", "cpu_am5"), p.c("cpu", "cpu_lga")]),
            "components[1]",
        ),
    ];
    for (parts, expected) in refused {
        let (status, problem) = json_call(
            &c,
            "PUT",
            components.clone(),
            &ann,
            Some(json!({ "components": parts })),
        )
        .await;
        assert_eq!(
            (status.as_u16(), field(&problem)),
            (422, expected),
            "{problem}"
        );
    }
    let (status, _) = json_call(
        &c,
        "POST",
        format!("{base}/products/{}/unpublish", p.id("gpu_ok")),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, problem) = json_call(
        &c,
        "PUT",
        components.clone(),
        &ann,
        Some(json!({ "components": [p.c("gpu", "gpu_ok")] })),
    )
    .await;
    assert_eq!(
        (status.as_u16(), field(&problem)),
        (422, "components[0].product_id")
    );
    // A create refused the same way leaves no build behind.
    let (status, problem) = json_call(
        &c,
        "POST",
        builds.clone(),
        &bob,
        Some(json!({ "name": "Nope", "components": [p.c("gpu", "cpu_am5")] })),
    )
    .await;
    assert_eq!(
        (status.as_u16(), field(&problem)),
        (422, "components[0].slot")
    );

    // Another user's build is unknown to them, for reading, changing and the cart.
    let r = call(&c, "GET", format!("{builds}/{id}"), &bob, None, None).await;
    assert_eq!(r.status, 404);
    let (status, _) = json_call(
        &c,
        "PUT",
        components.clone(),
        &bob,
        Some(json!({ "components": [] })),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = json_call(&c, "POST", format!("{builds}/{id}/cart"), &bob, None).await;
    assert_eq!(status, 404);
    let (status, _) = json_call(&c, "POST", format!("{builds}/{id}/share"), &bob, None).await;
    assert_eq!(status, 404);

    // The owner reads it from the read model, as the last command left it.
    let (status, last) = json_call(
        &c,
        "PUT",
        components.clone(),
        &ann,
        Some(json!({ "components": [
            p.c("cpu", "cpu_am5"), p.c("motherboard", "board"), p.c("gpu", "gpu_long"),
            p.c("psu", "psu_small"), p.c("case", "case_micro"),
        ] })),
    )
    .await;
    assert_eq!(status, 200);
    let share = call(&c, "POST", format!("{builds}/{id}/share"), &ann, None, None).await;
    assert_eq!(share.status, 200, "{}", share.body);
    let token = share.body["share_token"].as_str().unwrap().to_owned();
    assert_eq!(share.body["shared"], true);
    let consistency = share.consistency.clone();
    let read = call(
        &c,
        "GET",
        format!("{builds}/{id}"),
        &ann,
        None,
        consistency.as_deref(),
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["components"], last["components"]);
    assert_eq!(read.body["compatibility"], last["compatibility"]);
    assert!(
        read.body.get("share_token").is_none(),
        "the token is shown once"
    );
    let list = call(
        &c,
        "GET",
        builds.clone(),
        &ann,
        None,
        consistency.as_deref(),
    )
    .await;
    assert_eq!(list.body["total"], 1, "{}", list.body);
    assert_eq!(list.body["items"][0]["id"], id.as_str());
    let list = call(
        &c,
        "GET",
        builds.clone(),
        &bob,
        None,
        consistency.as_deref(),
    )
    .await;
    assert_eq!(list.body["total"], 0, "bob's own builds only");

    // The link reads the build for anyone, read-only; it opens nothing else.
    let (status, shared) = anonymous(&c, "GET", format!("{builds}/shared/{token}"), None).await;
    assert_eq!(status, 200, "{shared}");
    assert_eq!(shared["components"], last["components"]);
    assert_eq!(shared["compatibility"], last["compatibility"]);
    let (status, _) = anonymous(
        &c,
        "PUT",
        components.clone(),
        Some(json!({ "components": [] })),
    )
    .await;
    assert_eq!(status, 401);
    let r = call(&c, "GET", format!("{builds}/{id}"), &bob, None, None).await;
    assert_eq!(r.status, 404, "holding the link is not owning the build");
    // A new link replaces the old one.
    let again = call(&c, "POST", format!("{builds}/{id}/share"), &ann, None, None).await;
    let newer = again.body["share_token"].as_str().unwrap();
    assert_ne!(newer, token);
    let (status, _) = anonymous(&c, "GET", format!("{builds}/shared/{token}"), None).await;
    assert_eq!(status, 404);
    let (status, _) = anonymous(&c, "GET", format!("{builds}/shared/{newer}"), None).await;
    assert_eq!(status, 200);

    // An anonymous build: its parts at once, reached by the token it answers.
    let created = c
        .post(builds.clone())
        .json(&json!({ "name": "Guest rig", "components": [p.c("cpu", "cpu_lga"), p.c("motherboard", "board")] }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let wait = created.headers()["x-consistency-token"].clone();
    let anon: Value = created.json().await.unwrap();
    assert_eq!(anon["owner_id"], Value::Null);
    assert_eq!(issues(&anon)[0].0, "cpu_socket");
    let anon_token = anon["share_token"].as_str().unwrap();
    let read = c
        .get(format!("{builds}/shared/{anon_token}"))
        .header("x-consistency-token", wait)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["id"], anon["id"]);
    assert_eq!(read["compatibility"], anon["compatibility"]);
    // Nobody may change it, its creator included: there is no owner to be.
    let (status, _) = json_call(
        &c,
        "PUT",
        format!("{builds}/{}/components", anon["id"].as_str().unwrap()),
        &bob,
        Some(json!({ "components": [] })),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn rules_and_the_parts_that_fit() {
    with_shop(&[], |base, _| async move { fitting(&base).await }).await;
}

async fn fitting(base: &str) {
    let c = Client::new();
    let admin = access_token(&c, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let p = parts(&c, base, &admin).await;
    let ann = customer(&c, base, "ann@example.com").await;
    let bob = customer(&c, base, "bob@example.com").await;

    // The rule set, as data, with what each slot's parts must carry.
    let (status, rules) = anonymous(&c, "GET", format!("{base}/pc-builder/rules"), None).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = rules["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for rule in [
        "cpu_socket",
        "psu_wattage",
        "gpu_length",
        "cooler_height",
        "m2_slots",
    ] {
        assert!(ids.contains(&rule), "{ids:?}");
    }
    assert_eq!(rules["slot_attribute"], "pc_slot");
    assert_eq!(
        rules["slots"][0],
        json!({ "slot": "cpu", "capacity": 1, "attributes": ["socket", "tdp_w"] })
    );

    let r = call(
        &c,
        "POST",
        format!("{base}/pc-builds"),
        &ann,
        Some(json!({ "name": "Small", "components": [
            p.c("cpu", "cpu_am5"), p.c("motherboard", "board"), p.c("psu", "psu_small"),
            p.c("case", "case_micro"),
        ] })),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let wait = r.consistency.clone();
    let compatible = |query: String| format!("{base}/pc-builder/compatible?{query}");

    // Without a build: every part on sale in the slot, by name.
    let all = call(
        &c,
        "GET",
        compatible("slot=gpu".into()),
        &ann,
        None,
        wait.as_deref(),
    )
    .await;
    assert_eq!(names(&all.body), ["gpu_long", "gpu_ok"], "{}", all.body);
    // With it: the CPU that fits the board's socket; the GPU that fits both the case and
    // the 450 W supply (305 × 1.3 = 396 W), not the one too long and too hungry.
    let cpus = call(
        &c,
        "GET",
        compatible(format!("slot=cpu&build={id}")),
        &ann,
        None,
        wait.as_deref(),
    )
    .await;
    assert_eq!(names(&cpus.body), ["cpu_am5"], "{}", cpus.body);
    let gpus = call(
        &c,
        "GET",
        compatible(format!("slot=gpu&build={id}")),
        &ann,
        None,
        None,
    )
    .await;
    assert_eq!(names(&gpus.body), ["gpu_ok"]);
    assert_eq!(gpus.body["total"], 1);
    assert_eq!(gpus.body["items"][0]["attributes"]["length_mm"], 305);
    // Paged.
    let page = call(
        &c,
        "GET",
        compatible("slot=psu&limit=1&offset=1".into()),
        &ann,
        None,
        None,
    )
    .await;
    assert_eq!(
        (page.body["total"].as_i64(), names(&page.body).len()),
        (Some(3), 1)
    );

    // A bad slot, no slot, another's build, a build named without signing in.
    let (status, problem) =
        json_call(&c, "GET", compatible("slot=toaster".into()), &ann, None).await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (400, Some("invalid_query"))
    );
    let (status, _) = json_call(&c, "GET", compatible(String::new()), &ann, None).await;
    assert_eq!(status, 400);
    let (status, _) = json_call(
        &c,
        "GET",
        compatible(format!("slot=cpu&build={id}")),
        &bob,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = anonymous(&c, "GET", compatible(format!("slot=cpu&build={id}")), None).await;
    assert_eq!(status, 401);
    // A shared build, by its token.
    let share = call(
        &c,
        "POST",
        format!("{base}/pc-builds/{id}/share"),
        &ann,
        None,
        None,
    )
    .await;
    let token = share.body["share_token"].as_str().unwrap();
    let (status, cpus) = anonymous(
        &c,
        "GET",
        compatible(format!("slot=cpu&token={token}")),
        None,
    )
    .await;
    assert_eq!((status, names(&cpus)), (200, vec!["cpu_am5".to_owned()]));
}

#[tokio::test]
async fn a_build_goes_to_the_cart_whole_or_not_at_all() {
    with_shop(&[], |base, _| async move { to_cart(&base).await }).await;
}

/// A cart answer's lines: product and quantity, sorted.
fn cart_lines(cart: &Value) -> Vec<(String, i64)> {
    let mut lines: Vec<(String, i64)> = cart["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a cart: {cart}"))
        .iter()
        .map(|l| {
            (
                l["product_id"].as_str().unwrap().to_owned(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    lines.sort();
    lines
}

async fn to_cart(base: &str) {
    let c = Client::new();
    let admin = access_token(&c, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let p = parts(&c, base, &admin).await;
    let ann = customer(&c, base, "ann@example.com").await;
    let mut memory = p.c("memory", "ddr5");
    memory["quantity"] = json!(2);

    // An empty build has nothing to add.
    let (status, empty) = json_call(
        &c,
        "POST",
        format!("{base}/pc-builds"),
        &ann,
        Some(json!({ "name": "Empty" })),
    )
    .await;
    assert_eq!(status, 201);
    let (status, problem) = json_call(
        &c,
        "POST",
        format!("{base}/pc-builds/{}/cart", empty["id"].as_str().unwrap()),
        &ann,
        None,
    )
    .await;
    assert_eq!((status.as_u16(), field(&problem)), (422, "components"));

    // 9,999 gold PSUs already in the cart: one more, with the build's other parts, is past
    // the cart's bound on its total. The cart refuses the PSU after the CPU, board and
    // memory went in, and those are taken back out.
    let (status, line) = json_call(
        &c,
        "POST",
        format!("{base}/cart/items"),
        &ann,
        Some(json!({ "product_id": p.id("psu_gold"), "quantity": 9_999 })),
    )
    .await;
    assert_eq!(status, 201, "{line}");
    let before = cart_lines(&line);
    assert_eq!(before.len(), 1);
    let gold_line = line["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, gold) = json_call(
        &c,
        "POST",
        format!("{base}/pc-builds"),
        &ann,
        Some(json!({ "name": "Gold", "components": [
            p.c("cpu", "cpu_am5"), p.c("motherboard", "board"), memory.clone(), p.c("psu", "psu_gold"),
        ] })),
    )
    .await;
    assert_eq!(status, 201, "{gold}");
    let (status, problem) = json_call(
        &c,
        "POST",
        format!("{base}/pc-builds/{}/cart", gold["id"].as_str().unwrap()),
        &ann,
        None,
    )
    .await;
    assert_eq!(
        (status.as_u16(), problem["code"].as_str()),
        (422, Some("total_too_large")),
        "{problem}"
    );
    // The cart as the write side holds it (setting a line to its own quantity changes
    // nothing and answers the cart), so no read model's lag can hide a line.
    let (status, after) = json_call(
        &c,
        "PUT",
        format!("{base}/cart/items/{gold_line}"),
        &ann,
        Some(json!({ "quantity": 9_999 })),
    )
    .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(cart_lines(&after), before, "nothing half-added");
    let emptied = call(&c, "DELETE", format!("{base}/cart"), &ann, None, None).await;
    assert_eq!(emptied.status, 200);

    // A part off sale since it was chosen: refused before anything is added.
    let (status, rig) = json_call(
        &c,
        "POST",
        format!("{base}/pc-builds"),
        &ann,
        Some(json!({ "name": "Rig", "components": [
            p.c("cpu", "cpu_am5"), p.c("motherboard", "board"), memory, p.c("gpu", "gpu_ok"),
            p.c("psu", "psu_big"), p.c("case", "case_micro"), p.c("storage", "nvme"),
        ] })),
    )
    .await;
    assert_eq!(status, 201, "{rig}");
    assert_eq!(rig["compatibility"]["ok"], true, "{rig}");
    let to_cart = format!("{base}/pc-builds/{}/cart", rig["id"].as_str().unwrap());
    let (status, _) = json_call(
        &c,
        "POST",
        format!("{base}/products/{}/unpublish", p.id("nvme")),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, problem) = json_call(&c, "POST", to_cart.clone(), &ann, None).await;
    assert_eq!(
        (status.as_u16(), field(&problem)),
        (422, "components[4].product_id"),
        "{problem}"
    );
    // Refused before any command: the cart as of the emptying is the cart now.
    let now = call(
        &c,
        "GET",
        format!("{base}/cart"),
        &ann,
        None,
        emptied.consistency.as_deref(),
    )
    .await;
    assert!(cart_lines(&now.body).is_empty(), "{}", now.body);

    // Back on sale: every part in the cart, memory twice.
    let (status, _) = json_call(
        &c,
        "POST",
        format!("{base}/products/{}/publish", p.id("nvme")),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, cart) = json_call(&c, "POST", to_cart, &ann, None).await;
    assert_eq!(status, 200, "{cart}");
    assert_eq!(cart["item_count"], 8);
    let mut expected: Vec<(String, i64)> = [
        ("cpu_am5", 1),
        ("board", 1),
        ("ddr5", 2),
        ("gpu_ok", 1),
        ("psu_big", 1),
        ("case_micro", 1),
        ("nvme", 1),
    ]
    .iter()
    .map(|(n, q)| (p.id(n).to_owned(), *q))
    .collect();
    expected.sort();
    assert_eq!(cart_lines(&cart), expected);
    assert_eq!(
        cart["subtotal"]["amount"],
        29_900 + 19_900 + 2 * 5_900 + 59_900 + 17_900 + 7_900 + 7_900
    );
}
