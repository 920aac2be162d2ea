//! A process manager's lease: one runner of each manager at a time, however many
//! `ultramarket process` copies run.
//!
//! The lease is a PostgreSQL session advisory lock, taken with `pg_try_advisory_lock` on a
//! connection of its own (not a pooled one, which would hand the session, and the lock, to
//! someone else). The copy that takes it runs the manager; the others poll for it every
//! [`POLL_EVERY`] and stand by. PostgreSQL drops the lock when the holder's session ends,
//! so a holder that stops, crashes or is killed hands over within one poll.
//!
//! The holder pings its lock's connection every [`PING_EVERY`]; when the ping fails, the
//! lock may already be someone else's, so the manager is told to stop at once and the lease
//! is sought again. A session can end under a holder that still runs (the server restarted,
//! an operator's `pg_terminate_backend`, a cut network): the lock is free at once while the
//! old holder notices only at its next ping. So a standby that saw the lease held by
//! another waits [`HANDOVER_GRACE`] after taking it, longer than the old holder takes to
//! notice and stop, before it runs the manager. Should the two still overlap (a holder
//! frozen longer than that), the managers' commands carry ids derived from the event that
//! caused them, and a step run twice appends nothing twice (invariant 3).

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use tokio::sync::watch;

/// How often a standby asks for the lease: the longest a handover waits after the holder
/// is gone.
pub const POLL_EVERY: Duration = Duration::from_millis(500);
/// How often the holder checks that its lock's connection still lives.
pub const PING_EVERY: Duration = Duration::from_secs(1);
/// A ping slower than this counts as a lost connection.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a standby that saw the lease held by another waits after taking it before it
/// runs the manager: the longest the old holder can take to notice it lost its session
/// (one ping interval and one ping's timeout) and stop.
pub const HANDOVER_GRACE: Duration = Duration::from_secs(3);

/// The first key of every lease's two-key advisory lock. Two-key locks and the one-key locks
/// the projection runner takes (`hashtext('projection:' || name)`) are separate spaces in
/// PostgreSQL, so a lease never waits on a read model's lock.
const LEASE_CLASS: i32 = 0x554d_5052; // "UMPR"

/// Where a lease stands, as `/health/detailed` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// Another process holds it (or the database is away); this copy stands by.
    Waiting,
    /// This copy holds it and runs the manager, since `since`.
    Held { since: DateTime<Utc> },
}

/// What the lease reports while it runs: its state and how many times this copy has taken
/// it (a standby that never ran the manager says 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseReport {
    pub state: LeaseState,
    pub terms: u32,
}

/// The lease on one process manager, by name (`checkout saga`).
pub struct Lease {
    name: String,
    options: PgConnectOptions,
    report: watch::Sender<LeaseReport>,
}

impl Lease {
    /// A lease named `name` in `pool`'s database; its connection is opened with the pool's
    /// options, outside the pool.
    pub fn new(pool: &PgPool, name: impl Into<String>) -> Self {
        let name = name.into();
        let options = (*pool.connect_options())
            .clone()
            .application_name(&format!("ultramarket lease: {name}"))
            // The server's side of a holder gone silent (a dead host, a cut network): the
            // kernel probes the idle session and ends it, freeing the lock, within about
            // 5 + 3 × 2 s instead of the system's default two hours.
            .options([
                ("tcp_keepalives_idle", "5"),
                ("tcp_keepalives_interval", "2"),
                ("tcp_keepalives_count", "3"),
            ]);
        let (report, _) = watch::channel(LeaseReport {
            state: LeaseState::Waiting,
            terms: 0,
        });
        Lease {
            name,
            options,
            report,
        }
    }

    /// The lease's state as it changes.
    pub fn report(&self) -> watch::Receiver<LeaseReport> {
        self.report.subscribe()
    }

    /// Runs `manager` while this copy holds the lease, until `stop` turns true.
    ///
    /// `manager` is called once per term with a stop signal of its own, which turns true
    /// when the process stops or the lease is lost; it must then return. A manager that
    /// ends on its own (or fails) ends the lease's run with its result, as any task of the
    /// process would.
    pub async fn run<F, Fut, E>(
        self,
        mut manager: F,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(), E>
    where
        F: FnMut(watch::Receiver<bool>) -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        loop {
            let Some((mut holder, taken_over)) = self.acquire(&mut stop).await else {
                return Ok(());
            };
            if taken_over {
                tokio::select! {
                    () = stopped(&mut stop) => return Ok(()),
                    () = tokio::time::sleep(HANDOVER_GRACE) => {}
                }
            }
            let terms = self.report.borrow().terms + 1;
            self.report.send_replace(LeaseReport {
                state: LeaseState::Held { since: Utc::now() },
                terms,
            });
            tracing::info!(lease = %self.name, "lease taken; running");
            let (term_stop, term_stopped) = watch::channel(false);
            let term = manager(term_stopped);
            tokio::pin!(term);
            let mut ping = tokio::time::interval(PING_EVERY);
            ping.tick().await;
            let ended = loop {
                tokio::select! {
                    result = &mut term => break Some(result),
                    () = stopped(&mut stop) => break None,
                    _ = ping.tick() => {
                        if let Err(cause) = ping_lock(&mut holder).await {
                            tracing::warn!(lease = %self.name, %cause, "lease connection lost; stopping and standing by");
                            break None;
                        }
                    }
                }
            };
            let ended_on_its_own = ended.is_some();
            let result = match ended {
                Some(result) => result,
                None => {
                    let _ = term_stop.send(true);
                    term.await
                }
            };
            // Closing the session releases the lock; a broken one is gone already.
            let _ = holder.close().await;
            self.report.send_replace(LeaseReport {
                state: LeaseState::Waiting,
                terms,
            });
            if ended_on_its_own || *stop.borrow() {
                tracing::info!(lease = %self.name, "lease released");
                return result;
            }
            result?;
        }
    }

    /// Waits for the lock: its connection, and whether another held it meanwhile (a
    /// handover); `None` when told to stop first. Failures to reach the database are
    /// logged and retried; a standby must outlive a database restart.
    async fn acquire(&self, stop: &mut watch::Receiver<bool>) -> Option<(PgConnection, bool)> {
        let mut connection: Option<PgConnection> = None;
        let mut seen_held = false;
        loop {
            if *stop.borrow() {
                return None;
            }
            let attempt = async {
                let conn = match connection.as_mut() {
                    Some(conn) => conn,
                    None => connection.insert(self.options.connect().await?),
                };
                sqlx::query_scalar::<_, bool>(
                    "select pg_try_advisory_lock($1, hashtext('lease:' || $2))",
                )
                .bind(LEASE_CLASS)
                .bind(&self.name)
                .fetch_one(conn)
                .await
            };
            match attempt.await {
                Ok(true) => return connection.map(|c| (c, seen_held)),
                Ok(false) => {
                    if !seen_held {
                        tracing::info!(lease = %self.name, "another process holds the lease; standing by");
                    }
                    seen_held = true;
                }
                Err(e) => {
                    tracing::warn!(lease = %self.name, error = %e, "cannot ask for the lease; retrying");
                    connection = None;
                    // Someone may have held it all along: wait as after a handover.
                    seen_held = true;
                }
            }
            tokio::select! {
                () = stopped(stop) => return None,
                () = tokio::time::sleep(POLL_EVERY) => {}
            }
        }
    }
}

async fn ping_lock(holder: &mut PgConnection) -> Result<(), String> {
    match tokio::time::timeout(PING_TIMEOUT, holder.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {PING_TIMEOUT:?}")),
    }
}

/// Completes once `stop` turns true (or its sender is gone). The guard `wait_for` answers
/// with is dropped here, so a future awaiting this stays `Send`.
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
