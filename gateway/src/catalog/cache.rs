//! The catalog's answer cache. Answers are kept for about a second, keyed by the engine's
//! database, the audience and the request. Each remembers the catalog checkpoint it was
//! read at, and a request carrying `X-Consistency-Token` uses it only if that checkpoint
//! covers the token; otherwise it waits for the read model (as every query does) and
//! reads afresh. So a client never sees an answer older than its own last write.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use commands::store::Position;
use moka::sync::Cache;
use serde::Serialize;

use crate::consistency::{applied, caught_up};
use crate::error::ApiError;
use crate::state::AppState;

struct Cached {
    /// The catalog checkpoint when the answer was read: it reflects at least that much.
    at: Position,
    body: Bytes,
    /// A figure of the answer its caller wants back on a hit too (a search's total).
    noted: i64,
}

/// At most this many bytes of answers (and their keys) are kept.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

static CACHE: LazyLock<Cache<String, Arc<Cached>>> = LazyLock::new(|| {
    Cache::builder()
        .weigher(|key: &String, value: &Arc<Cached>| {
            u32::try_from(key.len() + value.body.len()).unwrap_or(u32::MAX)
        })
        .max_capacity(CACHE_BYTES)
        .time_to_live(Duration::from_secs(1))
        .build()
});

/// Answers from the cache when it may, else waits for the read model to cover the
/// client's token, notes the checkpoint, runs `read` and keeps its answer.
pub async fn cached<T, F, Fut>(
    state: &AppState,
    headers: &HeaderMap,
    key: String,
    read: F,
) -> Result<Response, ApiError>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let (response, _) = cached_noted(state, headers, key, None, || async {
        read().await.map(|answer| (answer, 0))
    })
    .await?;
    Ok(response)
}

/// [`cached`] for a read that also answers a figure (`noted`) its caller needs on a hit
/// as on a miss. A read on a miss first takes a permit of `permits`, when given, and looks
/// in the cache again once it has it: a burst of one expensive query runs it a few times,
/// not once per request, and leaves the pool's other connections to everyone else.
pub async fn cached_noted<T, F, Fut>(
    state: &AppState,
    headers: &HeaderMap,
    key: String,
    permits: Option<&tokio::sync::Semaphore>,
    read: F,
) -> Result<(Response, i64), ApiError>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(T, i64), ApiError>>,
{
    let wanted = crate::consistency::token(headers)?;
    // Several engines (tests, mostly) can share a process: the database names the engine.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    state.config.database_url.expose().hash(&mut h);
    let key = format!("{:x}|{key}", h.finish());
    let hit = |key: &String| {
        CACHE
            .get(key)
            .filter(|hit| wanted.is_none_or(|w| hit.at >= w))
            .map(|hit| (json_body(hit.body.clone()), hit.noted))
    };
    if let Some(found) = hit(&key) {
        return Ok(found);
    }
    let _permit = match permits {
        Some(p) => {
            let permit = p.acquire().await.map_err(ApiError::internal)?;
            if let Some(found) = hit(&key) {
                return Ok(found);
            }
            Some(permit)
        }
        None => None,
    };
    caught_up(state, headers, "catalog").await?;
    // Read before the query: the answer then reflects at least this checkpoint.
    let at = applied(state, "catalog").await?;
    let (answer, noted) = read().await?;
    let body = Bytes::from(serde_json::to_vec(&answer).map_err(ApiError::internal)?);
    CACHE.insert(
        key,
        Arc::new(Cached {
            at,
            body: body.clone(),
            noted,
        }),
    );
    Ok((json_body(body), noted))
}

fn json_body(body: Bytes) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}
