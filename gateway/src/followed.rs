//! [`Followed`]: the store's settings, configuration and menus, cached per process and
//! forgotten the moment the log says they changed, so a storefront's reads of them cost no
//! query at all most of the time and still never show an old value for long, whichever
//! gateway made the change.
//!
//! These are small aggregates read whole from the write side (one stream read each). The
//! cache holds each one's folded state by stream id, and is kept honest as the security
//! stamps' cache is (`auth::stamps`), with the catalog cache's rule for tokens
//! (`catalog::cache`):
//!
//! - the process follows `$all` and forgets a stream whenever an event of one of the
//!   followed categories (`shop`, `configuration`, `navigation`) is appended to it, by
//!   this gateway or any other, within the feed's lag (milliseconds);
//! - a change made through this process is forgotten by its route as soon as it is
//!   appended, before the answer goes out, so the next read here shows it;
//! - each entry remembers how far the feed had come when it was loaded; a request with an
//!   `X-Consistency-Token` beyond that reads the stream afresh, so a client reading through
//!   another gateway still sees its own write;
//! - an entry lives [`TTL`] at most, which bounds staleness should the feed fall behind;
//!   while the feed is down, nothing is cached.
//!
//! A load that raced an invalidation is not kept: every invalidation bumps an epoch, and a
//! load is stored only if the epoch did not move meanwhile.

use std::any::Any;
use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use commands::store::{EventStore, Position};
use futures::StreamExt;
use moka::sync::Cache;
use tokio::sync::watch;

use crate::error::ApiError;

/// The longest an entry is trusted without the feed saying otherwise.
pub const TTL: Duration = Duration::from_secs(10);
/// The categories whose streams are cached here.
pub const CATEGORIES: [&str; 3] = ["shop", "configuration", "navigation"];
/// The categories whose last change is remembered ([`Followed::moved`]): caches built
/// from whole categories at once (the live price rules, with the category tree) ask it.
pub const WATCHED: [&str; 2] = ["price_rule", "category"];

struct Entry {
    /// How far the feed had come when the value was loaded: it reflects at least that.
    at: Position,
    value: Arc<dyn Any + Send + Sync>,
}

pub struct Followed {
    cache: Cache<String, Arc<Entry>>,
    epoch: AtomicU64,
    /// Whether the feed is followed; without it, nothing is cached.
    live: AtomicBool,
    /// The position of the last event the feed delivered (or the head it started at).
    seen: Mutex<Position>,
    hits: AtomicU64,
    loads: AtomicU64,
    /// Per [`WATCHED`] category, the position of its last event the feed delivered.
    moved: Mutex<[Position; WATCHED.len()]>,
}

impl Followed {
    pub fn new() -> Arc<Self> {
        Arc::new(Followed {
            cache: Cache::builder()
                .max_capacity(1_000)
                .time_to_live(TTL)
                .build(),
            epoch: AtomicU64::new(0),
            live: AtomicBool::new(false),
            seen: Mutex::new(Position::START),
            hits: AtomicU64::new(0),
            loads: AtomicU64::new(0),
            moved: Mutex::new([Position::START; WATCHED.len()]),
        })
    }

    fn seen(&self) -> Position {
        *self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state of `stream`: from the cache when it may, else from `load` (and kept).
    /// `wanted` is the client's `X-Consistency-Token`, when it sent one: an entry older
    /// than it is not used.
    pub async fn get<T, F, Fut>(
        &self,
        stream: &str,
        wanted: Option<Position>,
        load: F,
    ) -> Result<T, ApiError>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let live = self.live.load(Ordering::Acquire);
        if live {
            if let Some(hit) = self.cache.get(stream) {
                if wanted.is_none_or(|w| hit.at >= w) {
                    if let Some(value) = hit.value.downcast_ref::<T>() {
                        self.hits.fetch_add(1, Ordering::Relaxed);
                        return Ok(value.clone());
                    }
                }
            }
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        // Read before the load: the value then reflects at least this much of the log.
        let at = self.seen();
        self.loads.fetch_add(1, Ordering::Relaxed);
        let value = load().await?;
        if live && self.epoch.load(Ordering::Acquire) == epoch {
            let entry = Arc::new(Entry {
                at,
                value: Arc::new(value.clone()),
            });
            self.cache.insert(stream.to_owned(), entry);
            // An invalidation between the look and the insert would be lost otherwise.
            if self.epoch.load(Ordering::Acquire) != epoch {
                self.cache.invalidate(stream);
            }
        }
        Ok(value)
    }

    /// Whether the feed is followed now: without it, [`Followed::moved`] may be behind.
    pub fn live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// Where the last event of `category` (one of [`WATCHED`]) sits, as far as the feed
    /// has delivered; when the feed (re)opened, its head then, since what came before may
    /// have been missed. A cache of the category built from a read model that has reached
    /// this position is current.
    pub fn moved(&self, category: &str) -> Position {
        let moved = self.moved.lock().unwrap_or_else(|e| e.into_inner());
        WATCHED
            .iter()
            .position(|c| *c == category)
            .map_or(Position::START, |i| moved[i])
    }

    fn set_moved(&self, category: Option<&str>, at: Position) {
        let mut moved = self.moved.lock().unwrap_or_else(|e| e.into_inner());
        for (i, c) in WATCHED.iter().enumerate() {
            if category.is_none_or(|category| category == *c) {
                moved[i] = at;
            }
        }
    }

    /// Drops what is known of `stream`: it has just changed.
    pub fn forget(&self, stream: &str) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.cache.invalidate(stream);
    }

    fn forget_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.cache.invalidate_all();
    }

    /// Reads answered from the cache, and loads from the store, since the start: what a
    /// test looks at to tell a cached answer from a fresh one.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.loads.load(Ordering::Relaxed),
        )
    }

    /// Follows `$all` for as long as the process runs, forgetting each followed stream that
    /// changes. A broken subscription is reopened after a pause; meanwhile nothing is
    /// cached.
    pub async fn follow(
        self: Arc<Self>,
        store: Arc<dyn EventStore>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(), Infallible> {
        loop {
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return Ok(()),
                followed = self.follow_once(&*store) => {
                    if let Err(e) = followed {
                        tracing::warn!(error = %e, "settings cache: the feed broke; reopening");
                    }
                }
            }
            self.live.store(false, Ordering::Release);
            self.forget_all();
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return Ok(()),
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    async fn follow_once(&self, store: &dyn EventStore) -> anyhow::Result<()> {
        let head = store.head_position().await?;
        let mut feed = store.subscribe_all(head).await?;
        // What was cached before the subscription began may predate a change it missed.
        self.forget_all();
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = head;
        self.set_moved(None, head);
        self.live.store(true, Ordering::Release);
        while let Some(event) = feed.next().await {
            let event = event?;
            if CATEGORIES.contains(&event.category()) {
                self.forget(&event.stream_id);
            }
            if WATCHED.contains(&event.category()) {
                self.set_moved(Some(event.category()), event.position);
            }
            *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = event.position;
        }
        anyhow::bail!("the $all subscription ended")
    }
}
