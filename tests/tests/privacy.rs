//! Crypto-shredding end to end (issue 20, ADR 0005): a customer registers, consents to
//! marketing e-mail, keeps an address, orders and pays, and asks for everything held about
//! them; then they erase themselves. Afterwards no read model, no NATS message of the
//! stream, no `umctl export` and no rebuild shows their e-mail, name, address, IP or user
//! agent; the day's sales are what they were; the e-mail registers again. The log itself
//! never held any of it in the clear, before the erasure or after.

use std::process::Command;

use e2e::deployment::nats_url;
use e2e::{eventually, send, umctl, usd, Server};
use futures::StreamExt;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

const EMAIL: &str = "zoe.forgettable@example.com";
const PASSWORD: &str = "zoe's long passphrase";
/// What must be nowhere once Zoe is erased (and never in the log).
const SECRETS: &[&str] = &[
    EMAIL,
    "Zoltana",
    "Forgettable",
    "77 Hidden Orchard",
    "Quietville",
    "PRIV-7788",
    "203.0.113.77",
    "ZoeAgent/7.7",
];

/// Every row of every read model, as text.
async fn read_models(db: &PgPool) -> String {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "select table_schema::text, table_name::text from information_schema.tables
          where table_schema in ('users', 'orders', 'notifications', 'audit', 'analytics',
                                 'carts', 'catalog')
            and table_type = 'BASE TABLE'",
    )
    .fetch_all(db)
    .await
    .unwrap();
    assert!(tables.len() > 10, "{tables:?}");
    let mut all = String::new();
    for (schema, table) in tables {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select t::text from \"{schema}\".\"{table}\" t"
        )))
        .fetch_all(db)
        .await
        .unwrap();
        for row in rows {
            all.push_str(&format!("{schema}.{table}: {row}\n"));
        }
    }
    all
}

/// The log as the store holds it.
async fn log(db: &PgPool) -> String {
    let rows: Vec<String> = sqlx::query_scalar(
        "select stream_id || ' ' || event_type || ' ' || data::text || ' ' || metadata::text
           from store.events",
    )
    .fetch_all(db)
    .await
    .unwrap();
    rows.join("\n")
}

fn reveals<'a>(text: &str, what: &'a [&'a str]) -> Vec<&'a str> {
    what.iter()
        .copied()
        .filter(|s| text.to_lowercase().contains(&s.to_lowercase()))
        .collect()
}

/// The lines of `text` that reveal a secret, to say where.
fn lines_revealing(text: &str) -> String {
    text.lines()
        .filter(|line| !reveals(line, SECRETS).is_empty())
        .take(5)
        .collect::<Vec<_>>()
        .join("\n")
}

fn run_umctl(database_url: &str, args: &[&str]) -> String {
    let out = Command::new(umctl())
        .args(args)
        .env("DATABASE_URL", database_url)
        .env_remove("EVENTSTORE_URL")
        .env_remove("MASTER_KEY")
        .output()
        .expect("umctl runs");
    assert!(
        out.status.success(),
        "umctl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every message the relay published to the test's JetStream stream.
async fn nats_messages(stream: &str) -> String {
    let client = async_nats::connect(nats_url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let mut stream = js.get_stream(stream).await.unwrap();
    let count = stream.info().await.unwrap().state.messages;
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            deliver_policy: async_nats::jetstream::consumer::DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer
        .fetch()
        .max_messages(count as usize)
        .messages()
        .await
        .unwrap();
    let mut all = String::new();
    while let Some(m) = messages.next().await {
        let m = m.unwrap();
        all.push_str(&String::from_utf8_lossy(&m.payload));
        all.push('\n');
    }
    assert!(count > 0 && !all.is_empty(), "the relay published nothing");
    all
}

#[tokio::test]
async fn an_erased_customer_is_nowhere_and_the_numbers_stay() {
    let unique = Uuid::new_v4().simple().to_string();
    let (stream, prefix) = (format!("E2E_{unique}"), format!("e2e{unique}"));
    let nats = nats_url();
    let s = Server::start_with(&[
        "--nats-url",
        &nats,
        "--nats-stream",
        &stream,
        "--nats-subject-prefix",
        &prefix,
        "--trust-forwarded-for",
    ])
    .await;
    // Every request of Zoe's comes from one address and one agent, to be looked for.
    let zoe_says = |r: reqwest::RequestBuilder| {
        r.header("x-forwarded-for", "203.0.113.77")
            .header("user-agent", "ZoeAgent/7.7")
    };

    // The shop: one product, stocked.
    let admin = s.admin().await;
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Lamps" })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);
    let product = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "LAMP-PRIV", "name": "Reading lamp", "price": usd(4_500),
        "category_id": category.body["id"],
        "description": "A lamp for long evenings",
    })))
    .await;
    assert_eq!(product.status, 201, "{}", product.text);
    let product_id = product.body["id"].as_str().unwrap().to_owned();
    let stocked = send(
        s.post("/api/v1/inventory/LAMP-PRIV/receive")
            .bearer_auth(&admin)
            .json(&json!({ "quantity": 5 })),
    )
    .await;
    assert_eq!(stocked.status, 200, "{}", stocked.text);

    // Zoe registers, signs in, subscribes to marketing e-mail, keeps an address.
    let registered = send(zoe_says(s.post("/api/v1/auth/register")).json(&json!({
        "email": EMAIL, "password": PASSWORD,
        "first_name": "Zoltana", "last_name": "Forgettable",
    })))
    .await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    let zoe_id = registered.body["id"].as_str().unwrap().to_owned();
    let signed_in = send(
        zoe_says(s.post("/api/v1/auth/login"))
            .json(&json!({ "email": EMAIL, "password": PASSWORD })),
    )
    .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    let zoe = signed_in.body["access_token"].as_str().unwrap().to_owned();
    let consent = send(
        zoe_says(s.put(&format!("/api/v1/users/{zoe_id}/preferences")))
            .bearer_auth(&zoe)
            .json(&json!({ "marketing_email": true })),
    )
    .await;
    assert_eq!(consent.status, 200, "{}", consent.text);
    let address = json!({
        "name": "Zoltana Forgettable", "line1": "77 Hidden Orchard", "city": "Quietville",
        "postal_code": "PRIV-7788", "country": "GB",
    });
    let kept = send(
        zoe_says(s.post(&format!("/api/v1/users/{zoe_id}/addresses")))
            .bearer_auth(&zoe)
            .json(&{
                let mut body = address.clone();
                body["label"] = json!("home");
                body
            }),
    )
    .await;
    assert_eq!(kept.status, 201, "{}", kept.text);

    // She orders and pays.
    let added = send(
        zoe_says(s.post("/api/v1/cart/items"))
            .bearer_auth(&zoe)
            .json(&json!({ "product_id": product_id, "quantity": 2 })),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.text);
    let placed = send(
        zoe_says(s.post("/api/v1/cart/checkout"))
            .bearer_auth(&zoe)
            .json(
                &json!({ "shipping_address": address, "payment_method": "card",
                           "notes": "Leave it with Zoltana's neighbour" }),
            ),
    )
    .await;
    assert!(
        placed.status == 201 || placed.status == 202,
        "{}",
        placed.text
    );
    let order_id = placed.body["id"].as_str().unwrap().to_owned();
    let order_path = format!("/api/v1/orders/{order_id}");
    eventually("the order awaits payment", || {
        let r = s.get(&order_path).bearer_auth(&zoe);
        async move {
            let a = send(r).await;
            (a.body["status"] == "awaiting_payment").then_some(())
        }
    })
    .await;
    let paid = send(
        zoe_says(s.post(&format!("{order_path}/payment")))
            .bearer_auth(&zoe)
            .json(&json!({ "method": "card", "token": "tok_visa" })),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    let sales = || async {
        sqlx::query_as::<_, (i64, i64, i64)>(
            "select orders_paid, gross_revenue, units_sold from analytics.daily_sales
              where day = (now() at time zone 'utc')::date and currency = 'USD'
                and orders_paid > 0",
        )
        .fetch_optional(&s.db)
        .await
        .unwrap()
    };
    let day = eventually("analytics counts the payment", sales).await;
    assert_eq!((day.0, day.2), (1, 2), "{day:?}");

    // What is held about her, in one document.
    let export = eventually("the export has the paid order", || {
        let r = s
            .get(&format!("/api/v1/users/{zoe_id}/export"))
            .bearer_auth(&zoe);
        async move {
            let a = send(r).await;
            assert_eq!(a.status, 200, "{}", a.text);
            (a.body["orders"][0]["payment_status"] == "captured"
                && !a.body["sign_ins"].as_array().unwrap().is_empty())
            .then_some(a)
        }
    })
    .await;
    let document = &export.body;
    assert_eq!(document["account"]["email"], EMAIL);
    assert_eq!(document["account"]["first_name"], "Zoltana");
    assert_eq!(document["addresses"][0]["line1"], "77 Hidden Orchard");
    assert_eq!(document["orders"][0]["id"], json!(order_id));
    assert_eq!(
        document["orders"][0]["shipping_address"]["city"],
        "Quietville"
    );
    assert_eq!(document["preferences"]["marketing_email"], true);
    assert_eq!(document["sign_ins"][0]["ip_address"], "203.0.113.77");
    assert_eq!(document["sign_ins"][0]["user_agent"], "ZoeAgent/7.7");

    // The log never held any of it in the clear, only sealed.
    let before = log(&s.db).await;
    assert_eq!(
        reveals(&before, SECRETS),
        Vec::<&str>::new(),
        "the log is sealed: {}",
        lines_revealing(&before)
    );
    assert!(
        before.contains("um:enc:1:"),
        "personal fields are envelopes"
    );

    // The erasure: her own, so her password again.
    let refused = send(
        s.post(&format!("/api/v1/users/{zoe_id}/erase"))
            .bearer_auth(&zoe)
            .json(&json!({ "password": "not her password" })),
    )
    .await;
    assert_eq!(
        refused.problem(403)["code"],
        "forbidden",
        "{}",
        refused.text
    );
    let erased = send(
        zoe_says(s.post(&format!("/api/v1/users/{zoe_id}/erase")))
            .bearer_auth(&zoe)
            .json(&json!({ "password": PASSWORD })),
    )
    .await;
    assert_eq!(erased.status, 200, "{}", erased.text);
    assert_eq!(
        (&erased.body["status"], &erased.body["by"]),
        (&json!("erased"), &json!("subject"))
    );
    let token = erased.consistency();
    let gone = send(s.get("/api/v1/auth/profile").bearer_auth(&zoe)).await;
    assert_eq!(gone.status, 401, "her sessions end with her: {}", gone.text);

    // The read models drop her, the numbers stay.
    let account = send(
        s.get(&format!("/api/v1/users/{zoe_id}"))
            .bearer_auth(&admin)
            .header("x-consistency-token", &token),
    )
    .await;
    assert_eq!(account.status, 200, "{}", account.text);
    assert_eq!(account.body["status"], "erased", "{}", account.text);
    let order = send(
        s.get(&order_path)
            .bearer_auth(&admin)
            .header("x-consistency-token", &token),
    )
    .await;
    assert_eq!(order.body["total"], placed.body["total"], "{}", order.text);
    assert_eq!(order.body["shipping_address"]["line1"], "erased");
    // Each read model applies the erasure in its own time.
    let deadline = std::time::Instant::now() + e2e::EVENTUALLY;
    let every_read_model = loop {
        let all = read_models(&s.db).await;
        if reveals(&all, SECRETS).is_empty() {
            break all;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "read models still show her: {}",
            lines_revealing(&all)
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(
        every_read_model.contains(&zoe_id),
        "her id and numbers stay"
    );
    assert_eq!(sales().await, Some(day), "the day's sales are unchanged");
    let trail: i64 = sqlx::query_scalar(
        "select count(*) from audit.audit_logs where action = 'UserErased' and resource_id = $1",
    )
    .bind(&zoe_id)
    .fetch_one(&s.db)
    .await
    .unwrap();
    assert_eq!(trail, 1, "the erasure is in the audit trail");

    // Nothing that copies the log shows her either.
    let after = log(&s.db).await;
    assert_eq!(
        reveals(&after, SECRETS),
        Vec::<&str>::new(),
        "the log: {}",
        lines_revealing(&after)
    );
    let published = eventually("the relay published the erasure", || async {
        let all = nats_messages(&stream).await;
        all.contains("UserErased").then_some(all)
    })
    .await;
    assert_eq!(
        reveals(&published, SECRETS),
        Vec::<&str>::new(),
        "{}: {}",
        "NATS",
        lines_revealing(&published)
    );
    let database_url = s.database_url.clone();
    let exported = run_umctl(&database_url, &["export"]);
    assert!(exported.contains("UserErased"));
    assert_eq!(
        reveals(&exported, SECRETS),
        Vec::<&str>::new(),
        "{}: {}",
        "umctl export",
        lines_revealing(&exported)
    );

    // A rebuild reads her as erased, as the live read models do.
    run_umctl(&database_url, &["rebuild", "--all"]);
    let rebuilt = read_models(&s.db).await;
    assert_eq!(
        reveals(&rebuilt, SECRETS),
        Vec::<&str>::new(),
        "{}: {}",
        "a rebuild",
        lines_revealing(&rebuilt)
    );
    assert_eq!(sales().await, Some(day), "a rebuild counts the same sales");

    // Her address is free again.
    let again = send(s.post("/api/v1/auth/register").json(&json!({
        "email": EMAIL, "password": PASSWORD,
    })))
    .await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_ne!(again.body["id"], json!(zoe_id));
    let client = async_nats::connect(nats_url()).await.unwrap();
    async_nats::jetstream::new(client)
        .delete_stream(&stream)
        .await
        .unwrap();
}
