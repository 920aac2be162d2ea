//! The engine split into its roles, each an OS process of its own (issue 19, items 1 to 3):
//! `gateway`, `relay`, `project` and two `process` copies over PostgreSQL and NATS take an
//! order from placed to paid through the saga; the copy running the saga is SIGKILLed and
//! the other finishes the next order. And roles started with their defaults on one host
//! do not collide.

use e2e::deployment::Deployment;
use e2e::{eventually, send, usd, Server};
use serde_json::{json, Value};

/// `/health/detailed` of a role: its body, after checking that it names `role`.
async fn detailed(s: &Server, role: &str) -> Value {
    let a = send(s.get("/health/detailed")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["role"], role, "{}", a.text);
    a.body
}

fn task_names(health: &Value) -> Vec<String> {
    health["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

fn lease_of(health: &Value, task: &str) -> String {
    health["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == task)
        .and_then(|t| t["lease"]["state"].as_str())
        .unwrap_or_else(|| panic!("no lease for {task}: {health}"))
        .to_owned()
}

/// Places an order of `quantity` of `product`, waits for the saga to reserve it, pays it
/// and waits until the saga has marked it paid (the orders read model, built by `project`
/// from what `relay` published, says so).
async fn buy(gateway: &Server, customer: &str, product: &str) -> String {
    let placed = send(gateway.post("/api/v1/orders").bearer_auth(customer).json(&json!({
        "items": [{ "product_id": product, "quantity": 1 }],
        "shipping_address": {
            "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"
        },
        "payment_method": "card",
    })))
    .await;
    assert_eq!(placed.status, 202, "{}", placed.text);
    let id = placed.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/orders/{id}");
    // The orders read model may not show the order yet: the token makes the read wait.
    let token = placed.consistency();
    let status_is = |wanted: &'static str| {
        let r = gateway
            .get(&path)
            .bearer_auth(customer)
            .header("x-consistency-token", &token);
        async move {
            let a = send(r).await;
            assert_eq!(a.status, 200, "{}", a.text);
            assert_ne!(a.body["status"], "cancelled", "{}", a.text);
            (a.body["status"] == wanted).then_some(())
        }
    };
    eventually("the saga reserves the order", || {
        status_is("awaiting_payment")
    })
    .await;
    let paid = send(
        gateway
            .post(&format!("{path}/payment"))
            .bearer_auth(customer)
            .json(&json!({ "method": "card", "token": "tok_visa" })),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    eventually("the saga marks the order paid", || status_is("paid")).await;
    id
}

#[tokio::test]
async fn four_roles_as_processes_take_an_order_to_paid_and_survive_a_killed_process_manager() {
    let d = Deployment::with_nats();
    // All at once, as an orchestrator starts them: each migrates, and they agree.
    let (gateway, relay, project, first, second) = tokio::join!(
        d.start("gateway", &[]),
        d.start("relay", &[]),
        d.start("project", &[]),
        d.start("process", &[]),
        d.start("process", &[]),
    );
    let mut copies = [first, second];

    // Each says what it runs; only the gateway serves the API and follows the security
    // stamps.
    let health = detailed(&gateway, "gateway").await;
    let tasks = task_names(&health);
    assert!(tasks.contains(&"security stamps".into()), "{tasks:?}");
    assert!(
        !tasks
            .iter()
            .any(|t| t == "checkout saga" || t == "relay" || t == "orders"),
        "{tasks:?}"
    );
    let health = detailed(&relay, "relay").await;
    assert_eq!(task_names(&health), ["metrics upkeep", "relay"]);
    let health = detailed(&project, "project").await;
    let tasks = task_names(&health);
    assert!(tasks.contains(&"orders".into()), "{tasks:?}");
    // Retention clears the read models beside the process that runs them.
    assert!(tasks.contains(&"retention".into()), "{tasks:?}");
    assert!(
        !tasks
            .iter()
            .any(|t| t == "notification worker" || t == "checkout saga" || t == "security stamps"),
        "{tasks:?}"
    );
    for copy in &copies {
        let health = detailed(copy, "process").await;
        assert_eq!(
            task_names(&health),
            [
                "metrics upkeep",
                "checkout saga",
                "reservation expiry",
                "cart expiry",
                "price schedule",
                "vendor ledger",
                "notification worker"
            ]
        );
    }
    for role in [&relay, &project, &copies[0]] {
        let a = send(role.get("/api/v1/products")).await;
        assert_eq!(
            a.problem(404)["code"],
            "not_found",
            "{} serves no API",
            role.role
        );
        let metrics = send(role.get("/metrics")).await;
        assert_eq!(metrics.status, 200, "{}", metrics.text);
    }

    // The shop, through the gateway.
    let admin = gateway.admin().await;
    let category = send(
        gateway
            .post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Mugs" })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);
    let product = send(gateway.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "MUG-ROLES", "name": "Mug", "category_id": category.body["id"], "price": usd(1250),
    })))
    .await;
    assert_eq!(product.status, 201, "{}", product.text);
    let product = product.body["id"].as_str().unwrap().to_owned();
    let stocked = send(
        gateway
            .post("/api/v1/inventory/MUG-ROLES/receive")
            .bearer_auth(&admin)
            .json(&json!({ "quantity": 10 })),
    )
    .await;
    assert_eq!(stocked.status, 200, "{}", stocked.text);
    let (_, customer) = gateway.customer("ann.roles@example.com").await;

    let first_order = buy(&gateway, &customer, &product).await;

    // One copy runs the saga, the other stands by; kill the one that runs it.
    let mut leases = Vec::new();
    for copy in &copies {
        leases.push(lease_of(&detailed(copy, "process").await, "checkout saga"));
    }
    leases.sort();
    assert_eq!(leases, ["held", "standby"]);
    let holder = if lease_of(&detailed(&copies[0], "process").await, "checkout saga") == "held" {
        0
    } else {
        1
    };
    copies[holder].kill();
    let survivor = &copies[1 - holder];

    let second_order = buy(&gateway, &customer, &product).await;
    assert_eq!(
        lease_of(&detailed(survivor, "process").await, "checkout saga"),
        "held"
    );

    // Both orders are paid, each step once in the log.
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "select event_type, count(*) from store.events
          where event_type in ('OrderStockReserved', 'OrderPaid', 'StockReserved')
          group by event_type order by event_type",
    )
    .fetch_all(&gateway.db)
    .await
    .unwrap();
    assert_eq!(
        counts,
        [
            ("OrderPaid".to_owned(), 2),
            ("OrderStockReserved".to_owned(), 2),
            ("StockReserved".to_owned(), 2)
        ],
        "orders {first_order} and {second_order}"
    );
}

#[tokio::test]
async fn roles_without_the_api_start_side_by_side_on_their_default_ports() {
    let d = Deployment::embedded();
    // No BIND, no METRICS_BIND: each takes its role's port, and neither takes the
    // gateway's 8080.
    let project = d.start_on_default_ports("project", &[]).await;
    let process = d.start_on_default_ports("process", &[]).await;
    assert_eq!(project.origin, "http://127.0.0.1:8082");
    assert_eq!(process.origin, "http://127.0.0.1:8083");
    detailed(&project, "project").await;
    detailed(&process, "process").await;
}
