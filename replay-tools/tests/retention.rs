//! `umctl retention run`: the engine's retention pass on demand, under the engine's own
//! variables; a policy out of range is bad usage.

mod support;

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, ExpectedVersion, NewEvent, Position};
use projections::audit::AuditProjection;
use projections::retention::{Retention, MAX_DAYS};
use projections::Runner;
use serde_json::json;
use sqlx::PgPool;
use support::{settle, stderr, stdout, umctl, url_of};
use uuid::Uuid;

/// A sign-in from 120 days ago and one from today, audited with their addresses: the pass
/// clears the old one's and says so per table; the run is recorded.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_run_clears_old_client_data_and_reports_it(pool: PgPool) {
    let store = Arc::new(PgEventStore::new(pool.clone()));
    for age in [120, 0] {
        let at = Utc::now() - TimeDelta::days(age);
        let event = NewEvent {
            id: Uuid::new_v4(),
            event_type: "LoggedIn".into(),
            schema_version: 1,
            data: json!({}),
            metadata: json!({
                "client_ip": "203.0.113.7", "user_agent": "curl/8", "occurred_at": at
            }),
        };
        store
            .append(
                &format!("session-{}", Uuid::new_v4()),
                ExpectedVersion::NoStream,
                vec![event],
            )
            .await
            .unwrap();
    }
    settle(&pool, 2).await;
    let keep_all = Retention::from_days(MAX_DAYS, MAX_DAYS).unwrap();
    let projection = Arc::new(AuditProjection::new(keep_all));
    projections::runtime::ensure_schema(&pool, &*projection)
        .await
        .unwrap();
    let events = store.read_all(Position::START, 100).await.unwrap();
    Runner::new(store.clone(), pool.clone(), projection)
        .apply_batch(&events)
        .await
        .unwrap();

    let out = umctl(&url_of(&pool).await, &["retention", "run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("audit.audit_logs: 1 rows cleared"), "{text}");
    // The outbox was never created here: nothing to clear, nothing recorded for it.
    assert!(
        text.contains("notifications.notifications: 0 rows cleared"),
        "{text}"
    );
    let ips: Vec<Option<String>> =
        sqlx::query_scalar("select host(ip_address) from audit.audit_logs order by created_at")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(ips, [None, Some("203.0.113.7".to_owned())]);
    let runs: Vec<(String, i64)> =
        sqlx::query_as("select table_name, removed from privacy.retention_runs")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(runs, [("audit.audit_logs".to_owned(), 1)]);
}

/// A window of zero days is refused before anything is touched, naming the variable.
#[sqlx::test(migrator = "commands::database::MIGRATOR")]
async fn a_policy_out_of_range_is_bad_usage(pool: PgPool) {
    let out = umctl(
        &url_of(&pool).await,
        &["retention", "run", "--retention-outbox-days", "0"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("RETENTION_OUTBOX_DAYS"),
        "{}",
        stderr(&out)
    );
}
