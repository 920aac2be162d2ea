//! The audit trail for auditors under `/api/v1/admin` (issue 25 item 2): the trail searched
//! by actor, correlation id, type and time and paged on the server; its CSV and JSON
//! exports under the same filters; one request's timeline from its audit record to every
//! event and the read models each has reached; an aggregate's state at a version or a
//! time; and a stream's steps with the fields each event changed.

mod common;

use common::{access_token, json_call, with_shop, ADMIN_EMAIL, ADMIN_PASSWORD, PATIENCE};
use reqwest::Client;
use serde_json::{json, Value};

const AUDITOR_EMAIL: &str = "audrey.auditor@example.com";
const AUDITOR_PASSWORD: &str = "audrey's auditor password";

/// `GET base+path` as `token`: status, headers, body text.
async fn get(c: &Client, url: String, token: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = c.get(url).bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

async fn get_json(c: &Client, url: String, token: &str) -> (u16, Value) {
    let (status, _, text) = get(c, url, token).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Polls `url` until `done` holds of its 200 answer.
async fn until(c: &Client, url: String, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let (status, body) = get_json(c, url.clone(), token).await;
        if status == 200 && done(&body) {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{url} never came: {status} {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn auditors_search_export_and_follow_a_request_and_read_states_over_time() {
    with_shop(&[], |base, _| async move {
        let c = Client::new();
        let admin = access_token(&c, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let (status, made) = json_call(
            &c,
            "POST",
            format!("{base}/users"),
            &admin,
            Some(
                json!({ "email": AUDITOR_EMAIL, "password": AUDITOR_PASSWORD, "role": "auditor" }),
            ),
        )
        .await;
        assert_eq!(status, 201, "{made}");
        let auditor = access_token(&c, &base, AUDITOR_EMAIL, AUDITOR_PASSWORD).await;

        // One request: a category made. Its echoed request id is its correlation id.
        let r = c
            .post(format!("{base}/categories"))
            .bearer_auth(&admin)
            .header("user-agent", "audit-test/1.0")
            .json(&json!({ "name": "Lamps" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let correlation = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        let category: Value = r.json().await.unwrap();
        let category_id = category["id"].as_str().unwrap().to_owned();
        let stream = format!("category-{category_id}");
        let (status, renamed) = json_call(
            &c,
            "PUT",
            format!("{base}/categories/{category_id}"),
            &admin,
            Some(json!({ "name": "Desk lamps" })),
        )
        .await;
        assert_eq!(status, 200, "{renamed}");

        // The search: by correlation id, once the trail has the request's events.
        let page = until(
            &c,
            format!("{base}/admin/audit?correlation_id={correlation}"),
            &auditor,
            |p| {
                p["items"]
                    .as_array()
                    .is_some_and(|i| i.iter().any(|e| e["action"] == "CategoryCreated"))
            },
        )
        .await;
        let total = page["total"].as_i64().unwrap();
        assert!(total >= 2, "a claim of the slug and the category: {page}");
        let admin_id = page["items"][0]["user_id"]
            .as_str()
            .expect("the admin acted")
            .to_owned();
        assert!(page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["correlation_id"] == correlation.as_str()
                && e["user_id"] == admin_id.as_str()));
        let (_, by_type) = get_json(
            &c,
            format!("{base}/admin/audit?type=CategoryCreated&actor={admin_id}"),
            &auditor,
        )
        .await;
        assert_eq!(by_type["total"], 1, "{by_type}");
        assert_eq!(by_type["items"][0]["stream_id"], stream.as_str());
        let (_, later) = get_json(
            &c,
            format!("{base}/admin/audit?correlation_id={correlation}&from=2999-01-01T00:00"),
            &auditor,
        )
        .await;
        assert_eq!(later["total"], 0, "{later}");
        // Paged on the server: two pages of one, different entries, the same total.
        let (_, first) = get_json(
            &c,
            format!("{base}/admin/audit?correlation_id={correlation}&limit=1"),
            &auditor,
        )
        .await;
        let (_, second) = get_json(
            &c,
            format!("{base}/admin/audit?correlation_id={correlation}&limit=1&offset=1"),
            &auditor,
        )
        .await;
        assert_eq!(first["items"].as_array().unwrap().len(), 1);
        assert_eq!(first["total"], second["total"]);
        assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
        // Refusals.
        let (status, bad) =
            get_json(&c, format!("{base}/admin/audit?actor=someone"), &auditor).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(bad["errors"][0]["field"], "actor", "{bad}");
        let (status, _) = get_json(&c, format!("{base}/admin/audit?limit=0"), &auditor).await;
        assert_eq!(status, 422);
        let registered = c
            .post(format!("{base}/auth/register"))
            .json(&json!({ "email": "ann@example.com", "password": "customer password" }))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), 201);
        let customer = access_token(&c, &base, "ann@example.com", "customer password").await;
        let (status, _) = get_json(&c, format!("{base}/admin/audit"), &customer).await;
        assert_eq!(status, 403);

        // Exports carry the same filters: CSV with a header line, JSON with the total.
        let (status, headers, csv) = get(
            &c,
            format!("{base}/admin/audit/export?correlation_id={correlation}&format=csv"),
            &auditor,
        )
        .await;
        assert_eq!(status, 200, "{csv}");
        assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
        assert!(headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        let lines: Vec<&str> = csv.lines().collect();
        assert!(
            lines[0].starts_with("created_at,occurred_at,action,resource"),
            "{csv}"
        );
        assert_eq!(lines.len() as i64, total + 1, "{csv}");
        assert!(lines[1..].iter().all(|l| l.contains(&correlation)), "{csv}");
        assert!(csv.contains("CategoryCreated"));
        let (status, headers, text) = get(
            &c,
            format!("{base}/admin/audit/export?correlation_id={correlation}&format=json"),
            &auditor,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["x-export-truncated"], "false");
        let exported: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(exported["total"], total);
        assert_eq!(exported["items"].as_array().unwrap().len() as i64, total);
        let (status, _, _) = get(
            &c,
            format!("{base}/admin/audit/export?format=xml"),
            &auditor,
        )
        .await;
        assert_eq!(status, 400);

        // The timeline: the request as audited, its events, and the read models reached.
        let timeline = until(
            &c,
            format!("{base}/admin/audit/correlations/{correlation}"),
            &auditor,
            |t| {
                t["events"].as_array().is_some_and(|events| {
                    events.iter().any(|e| {
                        e["event"]["event_type"] == "CategoryCreated"
                            && e["read_models"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .any(|m| m["name"] == "catalog" && m["reached"] == true)
                    })
                })
            },
        )
        .await;
        assert_eq!(timeline["request"]["role"], "admin", "{timeline}");
        assert_eq!(timeline["request"]["actor_id"], admin_id.as_str());
        assert_eq!(timeline["request"]["user_agent"], "audit-test/1.0");
        let events = timeline["events"].as_array().unwrap();
        assert!(events
            .iter()
            .all(|e| e["event"]["correlation_id"] == correlation.as_str()));
        assert!(events
            .iter()
            .any(|e| e["event"]["stream_id"] == stream.as_str()));
        let made = events
            .iter()
            .find(|e| e["event"]["event_type"] == "CategoryCreated")
            .unwrap();
        assert!(
            made["read_models"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["name"] == "audit"),
            "the audit trail wants every event: {made}"
        );
        let (status, _) = get_json(
            &c,
            format!("{base}/admin/audit/correlations/{}", uuid::Uuid::new_v4()),
            &auditor,
        )
        .await;
        assert_eq!(status, 404);
        // The timeline as a download: a CSV line per event, or the JSON the API answers.
        let (status, headers, csv) = get(
            &c,
            format!("{base}/admin/audit/correlations/{correlation}/export"),
            &auditor,
        )
        .await;
        assert_eq!(status, 200, "{csv}");
        assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
        let lines: Vec<&str> = csv.lines().collect();
        assert!(
            lines[0].starts_with("position,recorded_at,depth,event_type"),
            "{csv}"
        );
        assert_eq!(lines.len(), events.len() + 1, "{csv}");
        assert!(
            lines.iter().any(|l| l.contains("CategoryCreated")
                && l.contains(&stream)
                && l.contains("catalog")),
            "{csv}"
        );
        let (status, headers, text) = get(
            &c,
            format!("{base}/admin/audit/correlations/{correlation}/export?format=json"),
            &auditor,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-type"], "application/json");
        let exported: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(exported["correlation_id"], correlation.as_str());
        assert_eq!(exported["events"].as_array().unwrap().len(), events.len());
        let (status, _, _) = get(
            &c,
            format!("{base}/admin/audit/correlations/{correlation}/export?format=pdf"),
            &auditor,
        )
        .await;
        assert_eq!(status, 400);

        // The category's state at each version, and at a time.
        let (status, now) =
            get_json(&c, format!("{base}/admin/streams/{stream}/state"), &auditor).await;
        assert_eq!(status, 200, "{now}");
        assert_eq!(now["version"], now["last_version"]);
        let last = now["version"].as_u64().unwrap();
        assert!(last >= 1, "created, then renamed: {now}");
        assert!(now["state"].to_string().contains("Desk lamps"), "{now}");
        let (_, then) = get_json(
            &c,
            format!("{base}/admin/streams/{stream}/state?version=0"),
            &auditor,
        )
        .await;
        assert_eq!(then["version"], 0);
        assert!(
            then["state"].to_string().contains("Lamps")
                && !then["state"].to_string().contains("Desk"),
            "{then}"
        );
        let (status, at) = get_json(
            &c,
            format!("{base}/admin/streams/{stream}/state?at=2999-01-01T00:00:00Z"),
            &auditor,
        )
        .await;
        assert_eq!((status, &at["version"]), (200, &json!(last)), "{at}");
        let past_the_last = format!("version={}", last + 1);
        for bad in [
            past_the_last.as_str(),
            "version=first",
            "at=yesterday",
            "at=2000-01-01T00:00",
            "version=0&at=2999-01-01T00:00",
        ] {
            let (status, problem) = get_json(
                &c,
                format!("{base}/admin/streams/{stream}/state?{bad}"),
                &auditor,
            )
            .await;
            assert_eq!(status, 422, "{bad}: {problem}");
        }
        let (status, _) = get_json(
            &c,
            format!(
                "{base}/admin/streams/category-{}/state",
                uuid::Uuid::new_v4()
            ),
            &auditor,
        )
        .await;
        assert_eq!(status, 404);

        // Its steps: the first adds the category, the second changes its name.
        let (status, step) = get_json(
            &c,
            format!("{base}/admin/streams/{stream}/steps/1"),
            &auditor,
        )
        .await;
        assert_eq!(status, 200, "{step}");
        assert_eq!(
            (step["previous"].clone(), step["next"].clone()),
            (json!(0), Value::Null)
        );
        let changes = step["changes"].as_array().unwrap();
        assert!(
            changes.iter().any(|c| c["change"] == "changed"
                && c["path"].as_str().unwrap().ends_with("name")
                && c["before"] == "Lamps"
                && c["after"] == "Desk lamps"),
            "{step}"
        );
        let (_, first_step) = get_json(
            &c,
            format!("{base}/admin/streams/{stream}/steps/0"),
            &auditor,
        )
        .await;
        assert!(
            first_step["changes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["change"] == "added"),
            "{first_step}"
        );
        let (status, _) = get_json(
            &c,
            format!("{base}/admin/streams/{stream}/steps/7"),
            &auditor,
        )
        .await;
        assert_eq!(status, 422);
        let (status, _) = get_json(
            &c,
            format!("{base}/admin/streams/{stream}/steps/x"),
            &auditor,
        )
        .await;
        assert_eq!(status, 422);
    })
    .await;
}
