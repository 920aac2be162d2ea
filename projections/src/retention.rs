//! Retention (issue 20, item 5): how long the read models keep a client's network address
//! and browser, and an outbox message's content, once they have served their purpose.
//!
//! The log keeps every event for ever (its personal fields sealed with their person's key,
//! ADR 0005); what [`Retention`] limits is the read models' plain copies:
//!
//! - `audit.audit_logs`: `ip_address` and `user_agent` of an event older than
//!   [`Retention::client_data_days`] are set to null. Nulled rather than truncated to a
//!   /24 or /48: every row names its actor, so a network beside a user id is still that
//!   user's whereabouts (and an IPv6 /48 is often one customer's own site); truncation
//!   would keep personal data while looking anonymous.
//! - `notifications.notifications`: once a message was sent, or failed for good, more than
//!   [`Retention::outbox_days`] ago, its `payload` (what its body is rendered from: first
//!   name, order lines), `recipient` and `last_error` (transports quote the address) are
//!   set to null; the row stays, so the outbox still shows that a message went out.
//!
//! The rule is applied in two places that must agree:
//! - when the projections write ([`Retention::keeps_client_data`],
//!   [`Retention::keeps_outbox_content`]), so a rebuild or a late catch-up never brings
//!   back what was removed;
//! - by [`pass`] over the live tables, for rows that aged past their window after they
//!   were written; [`run`] repeats it every `RETENTION_INTERVAL`. A pass is idempotent and
//!   batched, and it reports what it removed: a log line, `retention_removed_total{table}`
//!   and one row per table in `privacy.retention_runs`.
//!
//! The policy in force is set once at start ([`set_in_force`]) from the configuration;
//! [`crate::all`] hands it to the read models, and `umctl` reads the same variables.
//! Between a row aging out and the next pass, a fresh replay (`umctl verify`) already
//! leaves out what the live table still holds.

use std::convert::Infallible;
use std::sync::RwLock;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgPool;
use tokio::sync::watch;

/// The longest window accepted, in days: ten years. Longer is a typo, not a policy.
pub const MAX_DAYS: u32 = 3650;

/// Rows changed per statement, so one pass never holds long locks on a large backlog.
const BATCH: i64 = 5_000;

/// How long client data and outbox content are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    client_data_days: u32,
    outbox_days: u32,
}

/// A window outside 1..=[`MAX_DAYS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting} must be a whole number of days from 1 to {MAX_DAYS}, not {days}")]
pub struct RetentionError {
    pub setting: &'static str,
    pub days: u32,
}

impl Retention {
    /// 90 days of client addresses and browsers, 30 days of delivered messages.
    pub const DEFAULT: Retention = Retention {
        client_data_days: 90,
        outbox_days: 30,
    };

    /// A policy keeping client data `client_data_days` and delivered messages
    /// `outbox_days`. Zero would remove data still in use (a message before it is read, a
    /// sign-in while it is investigated), so both are at least a day.
    pub fn from_days(client_data_days: u32, outbox_days: u32) -> Result<Self, RetentionError> {
        for (setting, days) in [
            ("RETENTION_CLIENT_DATA_DAYS", client_data_days),
            ("RETENTION_OUTBOX_DAYS", outbox_days),
        ] {
            if !(1..=MAX_DAYS).contains(&days) {
                return Err(RetentionError { setting, days });
            }
        }
        Ok(Retention {
            client_data_days,
            outbox_days,
        })
    }

    pub fn client_data_days(&self) -> u32 {
        self.client_data_days
    }

    pub fn outbox_days(&self) -> u32 {
        self.outbox_days
    }

    /// Client data of events before this is removed.
    pub fn client_data_cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - TimeDelta::days(i64::from(self.client_data_days))
    }

    /// Content of messages finished before this is removed.
    pub fn outbox_cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - TimeDelta::days(i64::from(self.outbox_days))
    }

    /// Whether the client address and browser of an event that happened `at` may still be
    /// kept `now`.
    pub fn keeps_client_data(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        at >= self.client_data_cutoff(now)
    }

    /// Whether a message sent (or given up) `finished_at` may still hold its content `now`.
    pub fn keeps_outbox_content(&self, finished_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        finished_at >= self.outbox_cutoff(now)
    }
}

impl Default for Retention {
    fn default() -> Self {
        Retention::DEFAULT
    }
}

static IN_FORCE: RwLock<Retention> = RwLock::new(Retention::DEFAULT);

/// Makes `retention` the policy [`crate::all`] gives the read models from now on. Called
/// once at start, before any read model is built, from the process's configuration.
pub fn set_in_force(retention: Retention) {
    match IN_FORCE.write() {
        Ok(mut policy) => *policy = retention,
        Err(poisoned) => *poisoned.into_inner() = retention,
    }
}

/// The policy in force: [`Retention::DEFAULT`] unless [`set_in_force`] said otherwise.
pub fn in_force() -> Retention {
    match IN_FORCE.read() {
        Ok(policy) => *policy,
        Err(poisoned) => *poisoned.into_inner(),
    }
}

/// What one pass removed, per table: rows whose client data or content it cleared.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub audit_logs: u64,
    pub notifications: u64,
}

impl Removed {
    /// `(table, rows)` in the names `privacy.retention_runs` and the metric use.
    pub fn by_table(&self) -> [(&'static str, u64); 2] {
        [
            (AUDIT_LOGS, self.audit_logs),
            (NOTIFICATIONS, self.notifications),
        ]
    }
}

const AUDIT_LOGS: &str = "audit.audit_logs";
const NOTIFICATIONS: &str = "notifications.notifications";

/// Runs `statement` (an update of at most `$2` rows of `table` older than `$1`) until a
/// batch comes back short. `None` when `table` does not exist: a database whose read
/// models were never created (a `umctl` run against a bare store) has nothing to clear.
async fn in_batches(
    pool: &PgPool,
    table: &str,
    statement: &'static str,
    cutoff: DateTime<Utc>,
) -> Result<Option<u64>, sqlx::Error> {
    let exists: bool = sqlx::query_scalar("select to_regclass($1) is not null")
        .bind(table)
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(None);
    }
    let mut total = 0;
    loop {
        let changed = sqlx::query(statement)
            .bind(cutoff)
            .bind(BATCH)
            .execute(pool)
            .await?
            .rows_affected();
        total += changed;
        if changed < BATCH as u64 {
            return Ok(Some(total));
        }
    }
}

/// One pass at `now`: clears what the policy no longer keeps in the live tables, then
/// reports it (a log line, `retention_removed_total{table}`, a row per table in
/// `privacy.retention_runs`; a table that does not exist is skipped and gets no row).
/// Running it twice removes nothing the second time.
#[tracing::instrument(skip_all, err)]
pub async fn pass(
    pool: &PgPool,
    retention: Retention,
    now: DateTime<Utc>,
) -> Result<Removed, sqlx::Error> {
    let (client_cutoff, outbox_cutoff) = (
        retention.client_data_cutoff(now),
        retention.outbox_cutoff(now),
    );
    // The conditions repeat those of the tables' partial indexes, which hold only the rows
    // still to clear, so a pass reads no more than what it changes.
    let audit_logs = in_batches(
        pool,
        AUDIT_LOGS,
        "update audit.audit_logs set ip_address = null, user_agent = null
              where event_id in (
                    select event_id from audit.audit_logs
                     where (ip_address is not null or user_agent is not null)
                       and coalesce(occurred_at, created_at) < $1
                     limit $2)",
        client_cutoff,
    )
    .await?;
    let notifications = in_batches(
        pool,
        NOTIFICATIONS,
        "update notifications.notifications
                set payload = null, recipient = null, last_error = null
              where notification_id in (
                    select notification_id from notifications.notifications
                     where status <> 'pending' and payload is not null and updated_at < $1
                     limit $2)",
        outbox_cutoff,
    )
    .await?;
    let removed = Removed {
        audit_logs: audit_logs.unwrap_or(0),
        notifications: notifications.unwrap_or(0),
    };
    let looked_at: Vec<(&str, DateTime<Utc>, i64)> = [
        (AUDIT_LOGS, client_cutoff, audit_logs),
        (NOTIFICATIONS, outbox_cutoff, notifications),
    ]
    .into_iter()
    .filter_map(|(table, cutoff, n)| Some((table, cutoff, n? as i64)))
    .collect();
    sqlx::query(
        "insert into privacy.retention_runs (ran_at, table_name, kept_since, removed)
         select $1, * from unnest($2::text[], $3::timestamptz[], $4::int8[])",
    )
    .bind(now)
    .bind(looked_at.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind(looked_at.iter().map(|r| r.1).collect::<Vec<_>>())
    .bind(looked_at.iter().map(|r| r.2).collect::<Vec<_>>())
    .execute(pool)
    .await?;
    for (table, n) in removed.by_table() {
        metrics::counter!("retention_removed_total", "table" => table).increment(n);
    }
    tracing::info!(
        audit_logs = removed.audit_logs,
        notifications = removed.notifications,
        client_data_days = retention.client_data_days,
        outbox_days = retention.outbox_days,
        "retention: client data and outbox content past their window removed"
    );
    Ok(removed)
}

/// A pass at once, then one every `every`, until `stop`. A failed pass is logged and tried
/// again next time: nothing else waits on it.
pub async fn run(
    pool: PgPool,
    retention: Retention,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Infallible> {
    loop {
        if let Err(e) = pass(&pool, retention, Utc::now()).await {
            tracing::warn!(error = %e, "retention pass failed; trying again next interval");
        }
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return Ok(()),
            () = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_whole_days_from_one_to_ten_years() {
        assert_eq!(Retention::default(), Retention::from_days(90, 30).unwrap());
        assert_eq!(
            Retention::from_days(0, 30),
            Err(RetentionError {
                setting: "RETENTION_CLIENT_DATA_DAYS",
                days: 0
            })
        );
        let err = Retention::from_days(90, MAX_DAYS + 1).unwrap_err();
        assert_eq!(err.setting, "RETENTION_OUTBOX_DAYS");
        assert!(err.to_string().contains("from 1 to 3650"), "{err}");
        assert!(Retention::from_days(1, MAX_DAYS).is_ok());
    }

    #[test]
    fn what_is_kept_ends_exactly_at_the_window() {
        let now = Utc::now();
        let r = Retention::from_days(90, 30).unwrap();
        assert!(r.keeps_client_data(now - TimeDelta::days(90), now));
        assert!(!r.keeps_client_data(now - TimeDelta::days(90) - TimeDelta::seconds(1), now));
        assert!(r.keeps_outbox_content(now - TimeDelta::days(29), now));
        assert!(!r.keeps_outbox_content(now - TimeDelta::days(31), now));
    }
}
