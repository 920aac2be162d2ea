//! Security stamps: each account's current security version, which every access token is
//! checked against, so that a demotion, a suspension, a new password or signing out
//! everywhere cuts the tokens already issued at once, not when they expire.
//!
//! The version is the write side's (`Account::security_version`, read from the user's
//! stream), cached here per user. The cache is kept honest three ways:
//!
//! - the process follows `$all` and forgets a user whenever their stream changes, so a
//!   change made through another gateway is seen within the feed's lag (milliseconds);
//! - a change made through this process is forgotten by its route as soon as it is
//!   appended, before the answer goes out;
//! - an entry lives [`TTL`] at most, which bounds staleness should the feed fall behind;
//!   while it is down, the cache is bypassed.
//!
//! A load that raced an invalidation is not cached: every invalidation bumps an epoch,
//! and a load only stores what it read if the epoch did not move meanwhile.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use commands::accounts;
use commands::handlers::Handlers;
use commands::store::EventStore;
use domain::aggregate::Aggregate;
use domain::user::{User, UserStatus};
use futures::StreamExt;
use moka::sync::Cache;
use tokio::sync::watch;
use uuid::Uuid;

use crate::error::ApiError;

/// The longest a cached version is trusted.
pub const TTL: Duration = Duration::from_secs(1);
/// Accounts whose version is kept.
const CAPACITY: u64 = 100_000;

/// What a token is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub version: u32,
    pub suspended: bool,
}

pub struct Stamps {
    handlers: Arc<Handlers>,
    cache: Cache<Uuid, Option<Stamp>>,
    epoch: AtomicU64,
    /// Whether the feed is followed; without it, nothing is cached.
    live: AtomicBool,
}

impl Stamps {
    pub fn new(handlers: Arc<Handlers>) -> Arc<Self> {
        Arc::new(Stamps {
            handlers,
            cache: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TTL)
                .build(),
            epoch: AtomicU64::new(0),
            live: AtomicBool::new(false),
        })
    }

    /// The stamp of `user`, `None` when no such account exists.
    pub async fn current(&self, user: Uuid) -> Result<Option<Stamp>, ApiError> {
        let live = self.live.load(Ordering::Acquire);
        if live {
            if let Some(hit) = self.cache.get(&user) {
                return Ok(hit);
            }
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        let stamp = accounts::find(&self.handlers, user).await?.map(|a| Stamp {
            version: a.security_version,
            suspended: a.status == UserStatus::Suspended,
        });
        if live && self.epoch.load(Ordering::Acquire) == epoch {
            self.cache.insert(user, stamp);
            // An invalidation between the look and the insert would be lost otherwise.
            if self.epoch.load(Ordering::Acquire) != epoch {
                self.cache.invalidate(&user);
            }
        }
        Ok(stamp)
    }

    /// Drops what is known of `user`: their account has just changed.
    pub fn forget(&self, user: Uuid) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.cache.invalidate(&user);
    }

    fn forget_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.cache.invalidate_all();
    }

    /// Follows `$all` for as long as the process runs, forgetting each user whose stream
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
                        tracing::warn!(error = %e, "security stamps: the feed broke; reopening");
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
        self.live.store(true, Ordering::Release);
        while let Some(event) = feed.next().await {
            let event = event?;
            if event.category() == User::CATEGORY {
                if let Some(user) = event.stream_uuid() {
                    self.forget(user);
                }
            }
        }
        anyhow::bail!("the $all subscription ended")
    }
}
