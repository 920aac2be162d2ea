//! Inventory over real HTTP: low-stock thresholds and the alerts they raise, with every
//! refusal a client can meet (a bad or unknown SKU, a threshold out of range, a non-staff
//! caller, a bad page).

mod common;

use common::{access_token, call, json_call, with_shop, ADMIN_EMAIL, ADMIN_PASSWORD};

use reqwest::Client;
use serde_json::{json, Value};

/// Staff and a customer of a fresh shop, with a product selling `LAMP-1`.
struct Shop {
    c: Client,
    base: String,
    admin: String,
    customer: String,
    /// The product selling `LAMP-1`.
    lamp: Value,
}

impl Shop {
    async fn open(base: &str) -> Shop {
        let c = Client::new();
        let admin = access_token(&c, base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (status, body) = json_call(
            &c,
            "POST",
            format!("{base}/auth/register"),
            "",
            Some(json!({ "email": "cy@example.com", "password": "a customer's long password" })),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let customer = access_token(&c, base, "cy@example.com", "a customer's long password").await;
        let mut shop = Shop {
            c,
            base: base.to_owned(),
            admin,
            customer,
            lamp: Value::Null,
        };
        let category = shop
            .ok("POST", "/categories", json!({ "name": "Lights" }))
            .await;
        shop.lamp = shop
            .ok(
                "POST",
                "/products",
                json!({ "sku": "LAMP-1", "name": "Desk lamp", "category_id": category["id"],
                        "price": { "amount": 2500, "currency": "USD" } }),
            )
            .await;
        shop
    }

    /// A staff command that must succeed: its body.
    async fn ok(&self, method: &str, path: &str, body: Value) -> Value {
        self.ok_with_token(method, path, body).await.0
    }

    /// A staff command that must succeed: its body and consistency token.
    async fn ok_with_token(&self, method: &str, path: &str, body: Value) -> (Value, String) {
        let r = call(
            &self.c,
            method,
            format!("{}{path}", self.base),
            &self.admin,
            Some(body),
            None,
        )
        .await;
        assert!(
            r.status.is_success(),
            "{method} {path}: {} {}",
            r.status,
            r.body
        );
        (r.body, r.consistency.unwrap_or_default())
    }

    /// A call that must be refused with `status` (and `code`, and a first error on `field`,
    /// when given).
    async fn refused(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        (status, code, field): (u16, Option<&str>, Option<&str>),
    ) {
        let (got, problem) =
            json_call(&self.c, method, format!("{}{path}", self.base), token, body).await;
        assert_eq!(got.as_u16(), status, "{method} {path}: {problem}");
        assert_eq!(problem["status"], status, "a problem body: {problem}");
        if let Some(code) = code {
            assert_eq!(problem["code"], code, "{problem}");
        }
        if let Some(field) = field {
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }
    }

    /// `GET` as staff after the command that answered `token`.
    async fn read(&self, path: &str, token: &str) -> Value {
        let r = call(
            &self.c,
            "GET",
            format!("{}{path}", self.base),
            &self.admin,
            None,
            Some(token),
        )
        .await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.body);
        r.body
    }
}

fn skus(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|i| i["sku"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_threshold_raises_an_alert_while_stock_is_below_it() {
    with_shop(&[], |base, _| async move {
        let shop = Shop::open(&base).await;
        shop.ok(
            "POST",
            "/inventory/LAMP-1/receive",
            json!({ "quantity": 10 }),
        )
        .await;

        let set = shop
            .ok(
                "PUT",
                "/inventory/lamp-1/threshold",
                json!({ "threshold": 5 }),
            )
            .await;
        assert_eq!(
            set,
            json!({ "sku": "LAMP-1", "on_hand": 10, "reserved": 0, "available": 10,
                    "low_stock_threshold": 5, "low_stock": false })
        );
        let (_, token) = shop
            .ok_with_token(
                "POST",
                "/inventory/LAMP-1/adjust",
                json!({ "delta": -6, "reason": "water damage" }),
            )
            .await;
        let alerts = shop.read("/inventory/alerts", &token).await;
        assert_eq!(skus(&alerts), ["LAMP-1"], "{alerts}");
        let lamp = &alerts["items"][0];
        assert_eq!(
            (&lamp["available"], &lamp["low_stock_threshold"]),
            (&json!(4), &json!(5))
        );
        assert!(lamp["crossed_at"].is_string(), "{lamp}");
        assert!(lamp["product_id"].is_string(), "{lamp}");
        assert_eq!(alerts["total"], 1);

        // Stock with no product yet is a SKU too; a threshold above it alerts at once.
        shop.ok(
            "POST",
            "/inventory/BULB-9/receive",
            json!({ "quantity": 3 }),
        )
        .await;
        let (set, token) = shop
            .ok_with_token(
                "PUT",
                "/inventory/BULB-9/threshold",
                json!({ "threshold": 10 }),
            )
            .await;
        assert_eq!(set["low_stock"], true, "{set}");
        let alerts = shop.read("/inventory/alerts", &token).await;
        assert_eq!(
            skus(&alerts),
            ["BULB-9", "LAMP-1"],
            "the latest crossing first"
        );
        let page = shop
            .read("/inventory/alerts?limit=1&offset=1", &token)
            .await;
        assert_eq!((skus(&page), &page["total"]), (vec!["LAMP-1"], &json!(2)));

        // Back at the threshold: no longer an alert. A threshold of 0 is never low.
        shop.ok(
            "POST",
            "/inventory/LAMP-1/receive",
            json!({ "quantity": 1 }),
        )
        .await;
        let (_, token) = shop
            .ok_with_token(
                "PUT",
                "/inventory/BULB-9/threshold",
                json!({ "threshold": 0 }),
            )
            .await;
        let alerts = shop.read("/inventory/alerts", &token).await;
        assert_eq!(skus(&alerts), Vec::<&str>::new(), "{alerts}");
        assert_eq!(alerts["total"], 0);
    })
    .await;
}

#[tokio::test]
async fn thresholds_and_alerts_refuse_bad_input_and_non_staff() {
    with_shop(&[], |base, _| async move {
        let shop = Shop::open(&base).await;
        let admin = shop.admin.clone();
        let path = "/inventory/LAMP-1/threshold";
        for (threshold, code) in [
            (json!(-1), "validation_failed"),
            (json!(1_000_001), "validation_failed"),
            (json!(u64::MAX), "invalid_body"),
            (json!("five"), "invalid_body"),
            (json!(2.5), "invalid_body"),
        ] {
            shop.refused(
                &admin,
                "PUT",
                path,
                Some(json!({ "threshold": threshold })),
                (422, Some(code), Some("threshold")),
            )
            .await;
        }
        shop.refused(
            &admin,
            "PUT",
            path,
            Some(json!({})),
            (422, Some("invalid_body"), None),
        )
        .await;
        shop.refused(
            &admin,
            "PUT",
            path,
            Some(json!({ "threshold": 1, "colour": "red" })),
            (422, Some("invalid_body"), None),
        )
        .await;
        shop.refused(
            &admin,
            "PUT",
            "/inventory/NOPE-1/threshold",
            Some(json!({ "threshold": 1 })),
            (404, Some("not_found"), None),
        )
        .await;
        shop.refused(
            &admin,
            "PUT",
            "/inventory/bad%20sku/threshold",
            Some(json!({ "threshold": 1 })),
            (422, Some("validation_failed"), Some("sku")),
        )
        .await;
        let customer = shop.customer.clone();
        shop.refused(
            &customer,
            "PUT",
            path,
            Some(json!({ "threshold": 1 })),
            (403, Some("forbidden"), None),
        )
        .await;
        shop.refused(
            "not a token",
            "PUT",
            path,
            Some(json!({ "threshold": 1 })),
            (401, None, None),
        )
        .await;
        // Nothing of the refusals reached the log: no threshold is set.
        let (_, token) = shop
            .ok_with_token(
                "POST",
                "/inventory/LAMP-1/receive",
                json!({ "quantity": 2 }),
            )
            .await;
        let stock = shop.read("/inventory/LAMP-1", &token).await;
        assert_eq!(stock["low_stock_threshold"], Value::Null, "{stock}");

        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("offset=-1", "offset"),
            ("colour=red", "query"),
        ] {
            shop.refused(
                &admin,
                "GET",
                &format!("/inventory/alerts?{query}"),
                None,
                (400, Some("invalid_query"), Some(field)),
            )
            .await;
        }
        shop.refused(
            &customer,
            "GET",
            "/inventory/alerts",
            None,
            (403, Some("forbidden"), None),
        )
        .await;
        shop.refused(
            "not a token",
            "GET",
            "/inventory/alerts",
            None,
            (401, None, None),
        )
        .await;
    })
    .await;
}

impl Shop {
    /// `GET path` as staff until `done` holds for its body (the saga and the read models
    /// work after the command answered); its last body.
    async fn until(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + common::PATIENCE;
        loop {
            let (status, body) = json_call(
                &self.c,
                "GET",
                format!("{}{path}", self.base),
                &self.admin,
                None,
            )
            .await;
            if status == 200 && done(&body) {
                return body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "GET {path} never got there: {status} {body}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// `method path` with `token` until it answers other than 409 (the saga has not got
    /// there yet); that answer.
    async fn once_settled(&self, token: &str, method: &str, path: &str, body: Value) -> Value {
        let deadline = std::time::Instant::now() + common::PATIENCE;
        loop {
            let (status, answer) = json_call(
                &self.c,
                method,
                format!("{}{path}", self.base),
                token,
                Some(body.clone()),
            )
            .await;
            if status != 409 {
                assert!(status.is_success(), "{method} {path}: {status} {answer}");
                return answer;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{method} {path} stayed 409: {answer}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// A customer's order of `quantity` of the product; its id.
    async fn order(&self, product_id: &Value, quantity: u32) -> String {
        let (status, order) = json_call(
            &self.c,
            "POST",
            format!("{}/orders", self.base),
            &self.customer,
            Some(json!({
                "items": [{ "product_id": product_id, "quantity": quantity }],
                "shipping_address": { "line1": "1 Main St", "city": "Springfield",
                                      "postal_code": "12345", "country": "US" },
                "payment_method": "card"
            })),
        )
        .await;
        assert_eq!(status, 202, "{order}");
        order["id"].as_str().unwrap().to_owned()
    }
}

/// `(warehouse, on_hand, reserved, available)` of each warehouse in `stock["warehouses"]`.
fn per_warehouse(stock: &Value) -> Vec<(String, i64, i64, i64)> {
    stock["warehouses"]
        .as_array()
        .unwrap_or_else(|| panic!("no warehouses in {stock}"))
        .iter()
        .map(|w| {
            (
                w["warehouse"].as_str().unwrap().to_owned(),
                w["on_hand"].as_i64().unwrap(),
                w["reserved"].as_i64().unwrap(),
                w["available"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn row(w: &str, on_hand: i64, reserved: i64) -> (String, i64, i64, i64) {
    (w.to_owned(), on_hand, reserved, on_hand - reserved)
}

#[tokio::test]
async fn warehouses_hold_stock_transfers_move_it_and_reservations_say_where() {
    with_shop(&[], |base, _| async move {
        let shop = Shop::open(&base).await;
        let admin = shop.admin.clone();
        let customer = shop.customer.clone();

        // A warehouse, its code unique.
        let r = call(
            &shop.c,
            "POST",
            format!("{base}/warehouses"),
            &admin,
            Some(json!({ "code": "east", "name": "East hall", "country": "de", "priority": 5 })),
            None,
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(
            (
                &r.body["code"],
                &r.body["country"],
                &r.body["active"],
                &r.body["priority"]
            ),
            (&json!("east"), &json!("DE"), &json!(true), &json!(5))
        );
        let token = r.consistency.expect("a consistency token");
        for (body, status, code, field) in [
            (
                json!({ "code": "east", "name": "Again" }),
                409,
                "warehouse_code_taken",
                None,
            ),
            (
                json!({ "code": "EAST", "name": "Shouting" }),
                422,
                "validation_failed",
                Some("code"),
            ),
            (
                json!({ "code": "west", "name": " " }),
                422,
                "validation_failed",
                Some("name"),
            ),
            (
                json!({ "code": "west", "name": "W", "country": "Germany" }),
                422,
                "validation_failed",
                Some("country"),
            ),
            (
                json!({ "code": "west", "name": "W", "priority": 5000 }),
                422,
                "validation_failed",
                Some("priority"),
            ),
            (json!({ "code": "west" }), 422, "invalid_body", None),
        ] {
            shop.refused(
                &admin,
                "POST",
                "/warehouses",
                Some(body),
                (status, Some(code), field),
            )
            .await;
        }
        shop.refused(
            &customer,
            "POST",
            "/warehouses",
            Some(json!({ "code": "west", "name": "W" })),
            (403, Some("forbidden"), None),
        )
        .await;
        let list = shop.read("/warehouses", &token).await;
        assert_eq!(
            (skus_of(&list, "code"), &list["total"]),
            (vec!["east"], &json!(1)),
            "the refused codes were given back or never claimed"
        );
        let east = shop.read("/warehouses/east", &token).await;
        assert!(east["created_at"].is_string(), "{east}");
        shop.refused(
            &admin,
            "GET",
            "/warehouses/west",
            None,
            (404, Some("not_found"), None),
        )
        .await;
        shop.refused(
            &customer,
            "GET",
            "/warehouses",
            None,
            (403, Some("forbidden"), None),
        )
        .await;

        // Stock goes only where a warehouse is: the default one needs no creating.
        shop.ok(
            "POST",
            "/inventory/LAMP-1/receive",
            json!({ "quantity": 10 }),
        )
        .await;
        shop.ok(
            "POST",
            "/inventory/LAMP-1/receive",
            json!({ "quantity": 6, "warehouse": "east" }),
        )
        .await;
        shop.refused(
            &admin,
            "POST",
            "/inventory/LAMP-1/receive",
            Some(json!({ "quantity": 1, "warehouse": "west" })),
            (422, Some("invalid_stock_change"), Some("warehouse")),
        )
        .await;
        shop.refused(
            &admin,
            "POST",
            "/inventory/LAMP-1/adjust",
            Some(json!({ "delta": -1, "reason": "count", "warehouse": "west" })),
            (422, Some("invalid_stock_change"), Some("warehouse")),
        )
        .await;

        // A transfer: two movements of one command, never more than is there.
        let moved = shop
            .ok(
                "POST",
                "/inventory/LAMP-1/transfer",
                json!({ "from": "main", "to": "east", "quantity": 4 }),
            )
            .await;
        assert_eq!(
            per_warehouse(&moved),
            [row("east", 10, 0), row("main", 6, 0)]
        );
        assert_eq!(
            (&moved["on_hand"], &moved["available"]),
            (&json!(16), &json!(16))
        );
        let transfer = "/inventory/LAMP-1/transfer";
        for (body, status, code, field) in [
            (
                json!({ "from": "main", "to": "east", "quantity": 7 }),
                409,
                "insufficient_stock",
                None,
            ),
            (
                json!({ "from": "east", "to": "east", "quantity": 1 }),
                422,
                "invalid_stock_change",
                Some("to"),
            ),
            (
                json!({ "from": "main", "to": "west", "quantity": 1 }),
                422,
                "invalid_stock_change",
                Some("to"),
            ),
            (
                json!({ "from": "west", "to": "main", "quantity": 1 }),
                422,
                "invalid_stock_change",
                Some("from"),
            ),
            (
                json!({ "from": "main", "to": "east", "quantity": 0 }),
                422,
                "invalid_stock_change",
                None,
            ),
            (
                json!({ "from": "main", "to": "east", "quantity": -1 }),
                422,
                "invalid_body",
                Some("quantity"),
            ),
        ] {
            shop.refused(
                &admin,
                "POST",
                transfer,
                Some(body),
                (status, Some(code), field),
            )
            .await;
        }
        shop.refused(
            &admin,
            "POST",
            "/inventory/NOPE-1/transfer",
            Some(json!({ "from": "main", "to": "east", "quantity": 1 })),
            (404, Some("not_found"), None),
        )
        .await;
        shop.refused(
            &customer,
            "POST",
            transfer,
            Some(json!({ "from": "main", "to": "east", "quantity": 1 })),
            (403, Some("forbidden"), None),
        )
        .await;

        // Reservations: the default warehouse when it covers the line, else the one with
        // most available that does.
        let lamp = shop.lamp["id"].clone();
        let first = shop.order(&lamp, 3).await;
        shop.until("/inventory/LAMP-1", |s| s["reserved"] == 3)
            .await;
        shop.order(&lamp, 9).await;
        let stock = shop
            .until("/inventory/LAMP-1", |s| s["reserved"] == 12)
            .await;
        assert_eq!(
            (&stock["sku"], &stock["on_hand"], &stock["available"]),
            (&json!("LAMP-1"), &json!(16), &json!(4)),
            "the old fields are all there"
        );
        assert_eq!(
            per_warehouse(&stock),
            [row("east", 10, 9), row("main", 6, 3)]
        );
        // Reserved stock stays put.
        shop.refused(
            &admin,
            "POST",
            transfer,
            Some(json!({ "from": "east", "to": "main", "quantity": 2 })),
            (409, Some("insufficient_stock"), None),
        )
        .await;

        // The first order ships from main: its sale gives main days of cover.
        shop.once_settled(
            &customer,
            "POST",
            &format!("/orders/{first}/payment"),
            json!({ "method": "card", "token": "tok_visa" }),
        )
        .await;
        shop.until(&format!("/orders/{first}"), |o| o["status"] == "paid")
            .await;
        shop.once_settled(
            &admin,
            "PUT",
            &format!("/orders/{first}/status"),
            json!({ "status": "shipped" }),
        )
        .await;
        let report = shop
            .until("/inventory/report", |r| r["items"][1]["sold_30_days"] == 3)
            .await;
        assert_eq!(report["total"], 2, "{report}");
        let east = &report["items"][0];
        let main = &report["items"][1];
        assert_eq!(
            (
                &east["warehouse"],
                &east["on_hand"],
                &east["reserved"],
                &east["available"],
                &east["days_of_cover"]
            ),
            (
                &json!("east"),
                &json!(10),
                &json!(9),
                &json!(1),
                &Value::Null
            ),
            "nothing sold from east: no rate, no cover"
        );
        assert_eq!(
            (
                &main["warehouse"],
                &main["on_hand"],
                &main["reserved"],
                &main["available"],
                &main["days_of_cover"]
            ),
            (
                &json!("main"),
                &json!(3),
                &json!(0),
                &json!(3),
                &json!(30.0)
            ),
            "3 available over 3 sold in 30 days: 30 days"
        );
        let page = shop
            .until("/inventory/report?limit=1&offset=1", |_| true)
            .await;
        assert_eq!(page["items"][0]["warehouse"], "main", "{page}");
        let csv = shop
            .c
            .get(format!("{base}/inventory/report?format=csv"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), 200);
        assert!(csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        assert_eq!(
            csv.text().await.unwrap(),
            "sku,warehouse,on_hand,reserved,available,sold_30_days,days_of_cover\n\
             LAMP-1,east,10,9,1,0,\n\
             LAMP-1,main,3,0,3,3,30\n"
        );
        for (query, field) in [
            ("format=xml", "format"),
            ("limit=0", "limit"),
            ("colour=red", "query"),
        ] {
            shop.refused(
                &admin,
                "GET",
                &format!("/inventory/report?{query}"),
                None,
                (400, Some("invalid_query"), Some(field)),
            )
            .await;
        }
        shop.refused(
            &customer,
            "GET",
            "/inventory/report",
            None,
            (403, Some("forbidden"), None),
        )
        .await;

        // A deactivated warehouse takes nothing in, and can still be emptied.
        let off = shop.ok("DELETE", "/warehouses/east", json!(null)).await;
        assert_eq!(off["active"], false);
        shop.refused(
            &admin,
            "POST",
            "/inventory/LAMP-1/receive",
            Some(json!({ "quantity": 1, "warehouse": "east" })),
            (422, Some("invalid_stock_change"), Some("warehouse")),
        )
        .await;
        shop.refused(
            &admin,
            "POST",
            transfer,
            Some(json!({ "from": "main", "to": "east", "quantity": 1 })),
            (422, Some("invalid_stock_change"), Some("to")),
        )
        .await;
        shop.ok(
            "POST",
            transfer,
            json!({ "from": "east", "to": "main", "quantity": 1 }),
        )
        .await;
        shop.refused(
            &admin,
            "DELETE",
            "/warehouses/west",
            None,
            (404, Some("not_found"), None),
        )
        .await;
        shop.refused(
            &customer,
            "DELETE",
            "/warehouses/east",
            None,
            (403, Some("forbidden"), None),
        )
        .await;
    })
    .await;
}

fn skus_of<'a>(page: &'a Value, field: &str) -> Vec<&'a str> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|i| i[field].as_str().unwrap())
        .collect()
}
