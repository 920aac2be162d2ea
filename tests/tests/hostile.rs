//! Bad and hostile input against the real binary: each kind of wrong request gets its own
//! 4xx as `application/problem+json`, and SQL or script text in every string field is
//! either refused by the field's rule or stored and read back exactly, changing nothing
//! else.

use e2e::{send, usd, Server, JWT_SECRET};
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};
use uuid::Uuid;

const SQL: &str = "'; drop table users; --";
const SCRIPT: &str = "<script>alert(1)</script>";

fn forged_token(secret: &str, user: &str, role: &str, exp_offset_secs: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    encode(
        &Header::default(),
        &json!({
            "sub": user, "role": role, "iat": now - 3600, "exp": now + exp_offset_secs,
            "jti": Uuid::new_v4(),
        }),
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn wrong_requests_get_the_right_problem() {
    let s = Server::start().await;
    let admin = s.admin().await;

    // Not JSON at all, or cut short: 400.
    for body in [
        "{\"email\": ",
        "not json",
        r#"{"email": "a@b.co", "password": "long enough password"} trailing"#,
    ] {
        let a = send(
            s.post("/api/v1/auth/register")
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        assert_eq!(
            a.problem(400)["code"],
            "malformed_json",
            "{body}: {}",
            a.text
        );
    }
    let form = send(
        s.post("/api/v1/auth/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("email=a@b.co&password=x"),
    )
    .await;
    form.problem(400);

    // JSON of the wrong shape: 422 naming the field.
    let wrong_type = send(
        s.post("/api/v1/auth/register")
            .json(&json!({ "email": 42, "password": "long enough password" })),
    )
    .await;
    let p = wrong_type.problem(422);
    assert_eq!(p["errors"][0]["field"], "email", "{p}");
    let missing = send(
        s.post("/api/v1/auth/register")
            .json(&json!({ "email": "x@example.com" })),
    )
    .await;
    assert_eq!(missing.problem(422)["errors"][0]["field"], "password");
    let unknown_field = send(s.post("/api/v1/auth/register").json(
        &json!({ "email": "x@example.com", "password": "long enough password", "role": "admin" }),
    ))
    .await;
    assert_eq!(unknown_field.problem(422)["errors"][0]["field"], "role");
    let short = send(
        s.post("/api/v1/auth/register")
            .json(&json!({ "email": "x@example.com", "password": "short" })),
    )
    .await;
    assert_eq!(short.problem(422)["errors"][0]["field"], "password");
    let price = send(s.post("/api/v1/products").bearer_auth(&admin).json(
        &json!({ "sku": "P-1", "name": "P", "category_id": Uuid::new_v4(), "price": "19.99" }),
    ))
    .await;
    assert_eq!(
        price.problem(422)["errors"][0]["field"],
        "price",
        "{}",
        price.text
    );

    // Over MAX_BODY_BYTES (1 MiB by default): 413, whether or not the route reads JSON.
    // The server answers from the announced length, before reading the body, and closes
    // the connection: a client still writing the body may see its write fail before it
    // reads the answer. So the request goes over a bare socket that sends the head and a
    // first part of the body, then reads what the server said.
    for (path, token) in [
        ("/api/v1/auth/register", None),
        ("/api/v1/products", Some(admin.as_str())),
    ] {
        let (status, problem) = oversized(&s.origin, path, token).await;
        assert_eq!(status, 413, "{path}: {problem}");
        assert_eq!(problem["code"], "payload_too_large", "{path}");
    }

    // Unknown ids: 404.
    let nobody = Uuid::new_v4();
    for path in [
        format!("/api/v1/products/{nobody}"),
        format!("/api/v1/categories/{nobody}"),
        format!("/api/v1/orders/{nobody}"),
        "/api/v1/inventory/NO-SUCH-SKU".to_owned(),
        "/api/v1/no-such-route".to_owned(),
    ] {
        let a = send(s.get(&path).bearer_auth(&admin)).await;
        assert_eq!(a.problem(404)["code"], "not_found", "{path}");
    }
    let update = send(
        s.put(&format!("/api/v1/products/{nobody}"))
            .bearer_auth(&admin)
            .json(&json!({ "name": "ghost" })),
    )
    .await;
    update.problem(404);
    let ship = send(
        s.put(&format!("/api/v1/orders/{nobody}/status"))
            .bearer_auth(&admin)
            .json(&json!({ "status": "shipped" })),
    )
    .await;
    ship.problem(404);

    // Tokens that are expired, forged or garbage: 401, also where browsing needs none.
    let (user_id, _) = s.customer("tok.e2e@example.com").await;
    let expired = forged_token(JWT_SECRET, &user_id, "customer", -3600);
    let foreign = forged_token("another secret, also 32 bytes long", &user_id, "admin", 600);
    let valid = forged_token(JWT_SECRET, &user_id, "customer", 600);
    let me = send(s.get("/api/v1/auth/profile").bearer_auth(&valid)).await;
    assert_eq!(me.status, 200, "the forging is right: {}", me.text);
    for token in [expired.as_str(), foreign.as_str(), "garbage", "a.b.c", ""] {
        let a = send(s.get("/api/v1/auth/profile").bearer_auth(token)).await;
        assert_eq!(a.problem(401)["code"], "unauthenticated", "{token:?}");
        let a = send(s.get("/api/v1/products").bearer_auth(token)).await;
        a.problem(401);
    }
    let not_bearer = send(
        s.get("/api/v1/auth/profile")
            .header("authorization", format!("Basic {valid}")),
    )
    .await;
    not_bearer.problem(401);
    let raised = send(
        s.post("/api/v1/categories")
            .bearer_auth(&foreign)
            .json(&json!({ "name": "forged" })),
    )
    .await;
    raised.problem(401);

    // Query parameters of the wrong kind: 400 naming them.
    for query in [
        "limit=1000",
        "limit=abc",
        "min_price=cheap",
        "sort=password",
    ] {
        let a = send(s.get(&format!("/api/v1/products?{query}"))).await;
        a.problem(400);
    }
}

/// Every table in the server's database, by schema.
async fn tables(s: &Server) -> Vec<(String, String)> {
    sqlx::query_as(
        "select table_schema::text, table_name::text from information_schema.tables
          where table_schema not in ('pg_catalog', 'information_schema')
          order by 1, 2",
    )
    .fetch_all(&s.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn hostile_text_is_refused_by_rules_or_stored_verbatim() {
    let s = Server::start().await;
    let admin = s.admin().await;
    let before = tables(&s).await;
    assert!(
        before
            .iter()
            .any(|t| t == &("catalog".to_owned(), "products".to_owned())),
        "{before:?}"
    );

    // Register: hostile names and password kept; an e-mail is a valid address or refused.
    let email = format!("o'brien--{SCRIPT}@example.com");
    // Hostile text in a password is kept as sent; made of the names alone it would be
    // refused as too easy to guess, so it carries words of its own.
    let password = format!("{SQL} violet kestrel under 9 lanterns {SCRIPT}");
    let user = send(s.post("/api/v1/auth/register").json(&json!({
        "email": email, "password": password, "first_name": SQL, "last_name": SCRIPT,
    })))
    .await;
    assert_eq!(user.status, 201, "{}", user.text);
    assert_eq!(
        (
            &user.body["email"],
            &user.body["first_name"],
            &user.body["last_name"]
        ),
        (&json!(email), &json!(SQL), &json!(SCRIPT))
    );
    let tokens = s.login(&email, &password).await;
    let wrong = send(
        s.post("/api/v1/auth/login")
            .json(&json!({ "email": email, "password": "' or '1'='1" })),
    )
    .await;
    wrong.problem(401);
    let injected_login = send(
        s.post("/api/v1/auth/login")
            .json(&json!({ "email": "' or 1=1 --", "password": password })),
    )
    .await;
    injected_login.problem(401);
    for bad_email in [SQL, SCRIPT, "root@e2e.example.com'--"] {
        let a = send(
            s.post("/api/v1/auth/register")
                .json(&json!({ "email": bad_email, "password": "long enough password" })),
        )
        .await;
        assert_eq!(a.problem(422)["errors"][0]["field"], "email", "{bad_email}");
    }

    // Profile: the names swapped, read back equal.
    let updated = send(
        s.put("/api/v1/auth/profile")
            .bearer_auth(&tokens.access)
            .json(&json!({ "first_name": SCRIPT, "last_name": SQL })),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    let profile = send(s.get("/api/v1/auth/profile").bearer_auth(&tokens.access)).await;
    assert_eq!(
        (
            &profile.body["first_name"],
            &profile.body["last_name"],
            &profile.body["email"]
        ),
        (&json!(SCRIPT), &json!(SQL), &json!(email))
    );

    // Categories: any name; a slug is a slug or refused.
    let category = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": SQL })),
    )
    .await;
    assert_eq!(category.status, 201, "{}", category.text);
    assert_eq!(category.body["name"], SQL);
    let slug = category.body["slug"].as_str().unwrap();
    assert!(
        slug.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "a derived slug is URL-safe: {slug}"
    );
    let scripted = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": SCRIPT, "slug": "scripted" })),
    )
    .await;
    assert_eq!(scripted.status, 201, "{}", scripted.text);
    for bad_slug in [SQL, SCRIPT] {
        let a = send(
            s.post("/api/v1/categories")
                .bearer_auth(&admin)
                .json(&json!({ "name": "Fine", "slug": bad_slug })),
        )
        .await;
        assert_eq!(a.problem(422)["errors"][0]["field"], "slug");
    }
    let category_id = category.body["id"].as_str().unwrap().to_owned();

    // Products: hostile name, description and attributes; a SKU is a SKU or refused.
    for bad_sku in [SQL, SCRIPT] {
        let a = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
            "sku": bad_sku, "name": "Fine", "category_id": category_id, "price": usd(100)
        })))
        .await;
        assert_eq!(a.problem(422)["errors"][0]["field"], "sku");
    }
    let attributes = json!({ "note": SQL, "html": SCRIPT, SQL: SCRIPT });
    let product = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "HOSTILE-1", "name": SQL, "description": SCRIPT,
        "category_id": category_id, "price": usd(999), "attributes": attributes,
    })))
    .await;
    assert_eq!(product.status, 201, "{}", product.text);
    let product_id = product.body["id"].as_str().unwrap().to_owned();
    let written = product.consistency();
    let read = send(
        s.get(&format!("/api/v1/products/{product_id}"))
            .header("x-consistency-token", &written),
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(
        (
            &read.body["name"],
            &read.body["description"],
            &read.body["attributes"]
        ),
        (&json!(SQL), &json!(SCRIPT), &attributes)
    );
    let renamed = send(
        s.put(&format!("/api/v1/products/{product_id}"))
            .bearer_auth(&admin)
            .json(&json!({ "name": SCRIPT, "description": SQL })),
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    let written = renamed.consistency();
    let read = send(
        s.get(&format!("/api/v1/products/{product_id}"))
            .header("x-consistency-token", &written),
    )
    .await;
    assert_eq!(
        (&read.body["name"], &read.body["description"]),
        (&json!(SCRIPT), &json!(SQL))
    );
    let category_read = send(
        s.get(&format!("/api/v1/categories/{category_id}"))
            .header("x-consistency-token", &written),
    )
    .await;
    assert_eq!(category_read.status, 200, "{}", category_read.text);
    assert_eq!(category_read.body["name"], SQL);

    // Hostile search text is a search, not SQL: a plain product beside the hostile one, so
    // that a query which matched everything (an injected `or`, a wildcard) would show.
    let lamps = send(
        s.post("/api/v1/categories")
            .bearer_auth(&admin)
            .json(&json!({ "name": "Lamps" })),
    )
    .await;
    assert_eq!(lamps.status, 201, "{}", lamps.text);
    let plain = send(s.post("/api/v1/products").bearer_auth(&admin).json(&json!({
        "sku": "LAMP-1", "name": "Desk lamp", "description": "A plain brass lamp",
        "category_id": lamps.body["id"], "price": usd(2_500),
    })))
    .await;
    assert_eq!(plain.status, 201, "{}", plain.text);
    let written = plain.consistency();
    // The search is PostgreSQL's web search over words: what each query must find.
    let searches: [(&str, &[&str]); 9] = [
        // The hostile product's description and category name hold these words.
        (SQL, &["HOSTILE-1"]),
        // Markup carries no words for the text search, so nothing matches it.
        (SCRIPT, &[]),
        // `%`, `_` and `\` are no wildcards or escapes: alone they are no words at all...
        ("%", &[]),
        ("_", &[]),
        ("\\", &[]),
        // ...and beside a word they are dropped, not read as "any characters".
        ("lam%", &[]),
        ("_esk", &[]),
        ("desk%", &["LAMP-1"]),
        // A tautology is two words "1", which no product holds.
        ("' or 1=1 --", &[]),
    ];
    for (q, expected) in searches {
        for path in ["/api/v1/products/search", "/api/v1/products"] {
            let a = send(
                s.get(path)
                    .query(&[("q", q)])
                    .header("x-consistency-token", &written),
            )
            .await;
            assert_eq!(a.status, 200, "{path}?q={q}: {}", a.text);
            let found: Vec<&str> = a.body["items"]
                .as_array()
                .unwrap_or_else(|| panic!("{path}?q={q}: no items in {}", a.text))
                .iter()
                .map(|p| p["sku"].as_str().unwrap())
                .collect();
            assert_eq!(found, expected, "{path}?q={q}: {}", a.text);
            assert_eq!(a.body["total"], expected.len(), "{path}?q={q}: {}", a.text);
        }
    }
    let listed = send(
        s.get("/api/v1/products")
            .header("x-consistency-token", &written),
    )
    .await;
    assert_eq!(
        listed.body["total"], 2,
        "two products, no more: {}",
        listed.text
    );
    let mut names: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, [SCRIPT, "Desk lamp"], "{}", listed.text);

    // Nothing else changed: every table stands, and the read models hold exactly what
    // was written.
    assert_eq!(tables(&s).await, before, "no table dropped or added");
    let (products, categories): (i64, i64) = sqlx::query_as(
        "select (select count(*) from catalog.products), (select count(*) from catalog.categories)",
    )
    .fetch_one(&s.db)
    .await
    .unwrap();
    assert_eq!((products, categories), (2, 3));
    let stored: Vec<Value> = sqlx::query_scalar(
        "select jsonb_build_object('name', name, 'description', description) from catalog.products
          where sku = 'HOSTILE-1'",
    )
    .fetch_all(&s.db)
    .await
    .unwrap();
    assert_eq!(stored, vec![json!({ "name": SCRIPT, "description": SQL })]);
    let admin_still = s.admin().await;
    assert!(!admin_still.is_empty());
}

/// POSTs a JSON body announced at just over 1 MiB to `path`, sending only its first 64 KiB,
/// and answers the status and the problem the server sent back.
async fn oversized(origin: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = origin.trim_start_matches("http://").trim_end_matches('/');
    let mut socket = tokio::net::TcpStream::connect(host)
        .await
        .expect("the server listens");
    let length = 1024 * 1024 + 16;
    let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n\
         content-length: {length}\r\nconnection: close\r\n{auth}\r\n"
    );
    socket
        .write_all(head.as_bytes())
        .await
        .expect("the head is sent");
    // The server may already have answered and closed: a failed write is no failure.
    let _ = socket.write_all(&[b'a'; 64 * 1024]).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let mut buf = [0u8; 8192];
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
            if complete(&answer) {
                break;
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    assert!(read.is_ok(), "no answer within 30 s: {text}");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Whether `answer` holds a whole response: its head, and as many body bytes as its
/// `content-length` says.
fn complete(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .is_some_and(|n| body.len() >= n)
}
