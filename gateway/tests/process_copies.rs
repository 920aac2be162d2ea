//! Two copies of the `process` role on one database (issue 19, item 3): one runs each
//! process manager, the other stands by and never runs a step; stopping the holder hands
//! the managers to the standby, which finishes the work. Built in process, as
//! `ultramarket gateway` and two `ultramarket process` would build them.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    access_token as login, json_call as call, server_url, ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET,
    PATIENCE,
};
use gateway::config::Config;
use gateway::startup::{Application, Role, Running, CHECKOUT_SAGA, RESERVATION_EXPIRY};
use reqwest::Client;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

/// A running Application and what it takes to stop it.
struct Started {
    addr: String,
    running: Arc<Running>,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), gateway::startup::StartupError>>,
}

impl Started {
    fn start(app: Application) -> Started {
        let addr = format!("http://{}", app.local_addr());
        let running = app.state().running.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Started {
            addr,
            running,
            stop,
            task,
        }
    }

    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.task.await.unwrap().expect("a clean stop");
    }

    /// Whether this copy holds `lease` now, and how many times it has taken it.
    fn lease(&self, lease: &str) -> (bool, u32) {
        let task = self
            .running
            .tasks()
            .into_iter()
            .find(|t| t.name == lease)
            .unwrap_or_else(|| panic!("no {lease} task"));
        let report = *task.lease.expect("a leased task").borrow();
        (
            matches!(report.state, commands::lease::LeaseState::Held { .. }),
            report.terms,
        )
    }
}

fn config(url: &str, extra: &[&str]) -> Config {
    let mut args = vec![
        "ultramarket",
        "--database-url",
        url,
        "--jwt-secret",
        JWT_SECRET,
        "--bind",
        "127.0.0.1:0",
        "--metrics-bind",
        "127.0.0.1:0",
        "--consistency-wait-ms",
        "30000",
    ];
    args.extend_from_slice(extra);
    Config::from_args_ignoring_env(args).unwrap()
}

/// Polls the order until it shows `wanted`.
async fn wait_for(c: &Client, url: &str, customer: &str, wanted: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (_, order) = call(c, "GET", url.to_owned(), customer, None).await;
        assert_ne!(order["status"], "cancelled", "{order}");
        if order["status"] == wanted {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the order never became {wanted}: {order}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Places an order of one mug, waits for the saga to reserve it, pays it and waits until
/// the saga marks it paid.
async fn buy(c: &Client, api: &str, customer: &str, product: &Value) -> String {
    let address = json!({ "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US" });
    let (status, order) = call(
        c,
        "POST",
        format!("{api}/orders"),
        customer,
        Some(json!({
            "items": [{ "product_id": product["id"], "quantity": 1 }],
            "shipping_address": address, "payment_method": "card"
        })),
    )
    .await;
    assert_eq!(status, 202, "{order}");
    let id = order["id"].as_str().unwrap().to_owned();
    let url = format!("{api}/orders/{id}");
    wait_for(c, &url, customer, "awaiting_payment").await;
    let (status, paid) = call(
        c,
        "POST",
        format!("{api}/orders/{id}/payment"),
        customer,
        Some(json!({ "method": "card", "token": "tok_visa" })),
    )
    .await;
    assert_eq!(status, 200, "{paid}");
    wait_for(c, &url, customer, "paid").await;
    id
}

#[tokio::test]
async fn two_process_copies_run_each_step_once_and_the_standby_finishes_the_work() {
    let name = format!("um_process_{}", Uuid::new_v4().simple());
    let url = format!("{}/{name}", server_url());
    let outcome = tokio::spawn(async move {
        let gateway = Application::build(config(
            &url,
            &[
                "--bootstrap-admin-email",
                ADMIN_EMAIL,
                "--bootstrap-admin-password",
                ADMIN_PASSWORD,
            ],
        ))
        .await
        .unwrap()
        .with_projections();
        let gateway = Started::start(gateway);
        let mut copies = Vec::new();
        for _ in 0..2 {
            let settings = config(&url, &[]).notifier;
            let app = Application::build_as(Role::Process, config(&url, &[]))
                .await
                .unwrap()
                .with_process_managers()
                .with_notifier(settings)
                .unwrap();
            copies.push(Started::start(app));
        }
        let c = Client::new();

        // What each process says it runs: the API's process follows the security stamps,
        // the process managers' does not, and serves nothing but its probes.
        let (_, health) = call(&c, "GET", format!("{}/health/detailed", copies[0].addr), "", None).await;
        assert_eq!(health["role"], "process", "{health}");
        let names: Vec<&str> = health["tasks"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        for task in [CHECKOUT_SAGA, RESERVATION_EXPIRY, "notification worker"] {
            assert!(names.contains(&task), "{names:?}");
        }
        assert!(!names.contains(&"security stamps"), "{names:?}");
        let (status, _) = call(&c, "GET", format!("{}/api/v1/products", copies[0].addr), "", None).await;
        assert_eq!(status, 404, "a process copy serves no API");
        let (_, health) = call(&c, "GET", format!("{}/health/detailed", gateway.addr), "", None).await;
        assert_eq!(health["role"], "gateway", "{health}");
        let names: Vec<&str> = health["tasks"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"security stamps"), "{names:?}");
        assert!(!names.contains(&CHECKOUT_SAGA), "{names:?}");

        // Watch both copies throughout: never do both hold one manager's lease.
        let overlap = Arc::new(AtomicBool::new(false));
        let watching = Arc::new(AtomicBool::new(true));
        let watcher = {
            let both: Vec<Arc<Running>> = copies.iter().map(|c| c.running.clone()).collect();
            let (overlap, watching) = (overlap.clone(), watching.clone());
            tokio::spawn(async move {
                while watching.load(Ordering::SeqCst) {
                    for lease in [CHECKOUT_SAGA, RESERVATION_EXPIRY] {
                        let held = both
                            .iter()
                            .filter(|r| {
                                r.tasks().iter().any(|t| {
                                    t.name == lease
                                        && t.lease.as_ref().is_some_and(|l| {
                                            matches!(l.borrow().state, commands::lease::LeaseState::Held { .. })
                                        })
                                })
                            })
                            .count();
                        if held > 1 {
                            overlap.store(true, Ordering::SeqCst);
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        };

        let api = format!("{}/api/v1", gateway.addr);
        let admin = login(&c, &api, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (status, _) = call(&c, "POST", format!("{api}/auth/register"), "", Some(json!({ "email": "ann@example.com", "password": "customer password" }))).await;
        assert_eq!(status, 201);
        let customer = login(&c, &api, "ann@example.com", "customer password").await;
        let (_, category) = call(&c, "POST", format!("{api}/categories"), &admin, Some(json!({ "name": "Mugs" }))).await;
        let (status, mug) = call(&c, "POST", format!("{api}/products"), &admin, Some(json!({
            "sku": "MUG-1", "name": "Mug", "category_id": category["id"], "price": { "amount": 1250, "currency": "USD" }
        }))).await;
        assert_eq!(status, 201, "{mug}");
        let (status, _) = call(&c, "POST", format!("{api}/inventory/MUG-1/receive"), &admin, Some(json!({ "quantity": 50 }))).await;
        assert!(status.is_success());

        let mut orders = Vec::new();
        for _ in 0..3 {
            orders.push(buy(&c, &api, &customer, &mug).await);
        }
        // One copy ran the saga; the other never did.
        let holder = copies
            .iter()
            .position(|c| c.lease(CHECKOUT_SAGA).0)
            .expect("one copy holds the saga's lease");
        let standby = 1 - holder;
        assert_eq!(copies[holder].lease(CHECKOUT_SAGA), (true, 1));
        assert_eq!(copies[standby].lease(CHECKOUT_SAGA), (false, 0), "the standby never ran the saga");
        assert_eq!(copies[standby].lease(RESERVATION_EXPIRY).1, 0, "nor the expiry");
        let (_, health) = call(&c, "GET", format!("{}/health/detailed", copies[standby].addr), "", None).await;
        let saga = health["tasks"].as_array().unwrap().iter().find(|t| t["name"] == CHECKOUT_SAGA).unwrap().clone();
        assert_eq!(saga["lease"]["state"], "standby", "{health}");

        // The holder stops; the standby takes over and finishes what comes next.
        let standby = copies.remove(standby);
        copies.remove(0).stop().await;
        for _ in 0..2 {
            orders.push(buy(&c, &api, &customer, &mug).await);
        }
        assert_eq!(standby.lease(CHECKOUT_SAGA), (true, 1));
        watching.store(false, Ordering::SeqCst);
        watcher.await.unwrap();
        assert!(!overlap.load(Ordering::SeqCst), "two copies held one lease at once");

        // Each step of each order is in the log once: one reservation, one paid order.
        let db = sqlx::PgPool::connect(&url).await.unwrap();
        let counts: Vec<(String, i64)> = sqlx::query_as(
            "select event_type, count(*) from store.events
              where event_type in ('OrderPlaced', 'OrderStockReserved', 'OrderPaid', 'StockReserved')
              group by event_type order by event_type",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        let five = |t: &str| (t.to_owned(), 5);
        assert_eq!(
            counts,
            vec![five("OrderPaid"), five("OrderPlaced"), five("OrderStockReserved"), five("StockReserved")]
        );
        db.close().await;
        standby.stop().await;
        gateway.stop().await;
    })
    .await;
    let admin = sqlx::PgPool::connect(&format!("{}/postgres", server_url()))
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database if exists {name} with (force)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
