//! Liveness, readiness and metrics.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::startup::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(live))
        .route("/health/detailed", get(detailed))
        .route("/metrics", get(metrics))
}

async fn live() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Each dependency with its state and answer time; 503 when any is down.
async fn detailed(State(state): State<AppState>) -> impl IntoResponse {
    let t = Instant::now();
    let postgres = sqlx::query_scalar::<_, i32>("select 1")
        .fetch_one(&state.pool)
        .await;
    let postgres = component(postgres.map(|_| ()).map_err(|e| e.to_string()), t);

    let t = Instant::now();
    let head = state.store.head_position().await;
    let store_head = head.as_ref().ok().map(|p| p.to_string());
    let store = component(head.map(|_| ()).map_err(|e| e.to_string()), t);

    let saga: Option<(i64, i64)> = sqlx::query_as(
        "select commit_position, prepare_position from process.checkpoints where name = 'checkout'",
    )
    .fetch_optional(&state.pool)
    .await
    .ok()
    .flatten();

    let up = postgres["status"] == "up" && store["status"] == "up";
    let status = if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if up { "ok" } else { "degraded" },
            "uptime_seconds": state.started.elapsed().as_secs(),
            "components": {
                "postgres": postgres,
                "event_store": {
                    "kind": state.store_kind,
                    "head": store_head,
                    "status": store["status"],
                    "latency_ms": store["latency_ms"],
                    "error": store.get("error"),
                },
                "checkout_saga": {
                    "checkpoint": saga.map(|(c, p)| format!("{c}/{p}")),
                },
            },
        })),
    )
}

fn component(result: Result<(), String>, started: Instant) -> serde_json::Value {
    let latency_ms = started.elapsed().as_secs_f64() * 1e3;
    match result {
        Ok(()) => json!({ "status": "up", "latency_ms": latency_ms }),
        Err(e) => json!({ "status": "down", "latency_ms": latency_ms, "error": e }),
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}
