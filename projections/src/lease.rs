//! Leader leases: of several processes ready to run the same work (one read model's
//! runner, the relay of one stream), one runs it and the others stand by.
//!
//! A lease is a session-level advisory lock held on a connection of its own, outside the
//! pool. PostgreSQL lets it go the moment that connection ends, whichever way the holder
//! died (stopped, killed, cut off), so a standby, which asks for the lock every
//! [`RETRY`], takes over within that much, with no expiry to wait out and no clock to
//! trust. The holder checks its connection every [`CHECK`] and stops the work when it is
//! gone, since by then another process may hold the lease.
//!
//! The lease saves duplicate work; it is not what keeps a read model right. Two writers
//! for a moment (a holder not yet aware it lost its connection) are still harmless: every
//! batch takes the checkpoint's transaction-level lock and moves it compare-and-set, and
//! JetStream drops a republished message by its id. That is also why a new leader needs
//! nothing handed over: it starts from the checkpoint in the table.

use std::future::Future;
use std::time::Duration;

use sqlx::postgres::PgConnection;
use sqlx::{ConnectOptions, Connection, PgPool};
use tokio::sync::watch;

/// How often a standby asks for the lease.
pub const RETRY: Duration = Duration::from_millis(500);

/// How often the holder checks that its lease's connection is still there.
pub const CHECK: Duration = Duration::from_secs(2);

/// The first key of the two-key advisory locks leases take ("umls"): the batches' locks
/// use the one-key form, a space of their own, so the two never meet.
const LEASES: i32 = 0x756d_6c73;

/// A held lease: the connection whose session holds the lock.
pub struct Lease {
    conn: PgConnection,
    key: String,
}

impl Lease {
    /// Waits until this process holds the lease on `key`; `None` when `shutdown` turns
    /// true first. Database failures are waited out: a standby has nothing else to do.
    pub async fn acquire(
        pool: &PgPool,
        key: &str,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Option<Lease> {
        let mut conn: Option<PgConnection> = None;
        let mut waiting_logged = false;
        loop {
            if *shutdown.borrow() || shutdown.has_changed().is_err() {
                return None;
            }
            match try_lock(pool, key, &mut conn).await {
                Ok(true) => {
                    let conn = conn.take().expect("locked on it");
                    tracing::info!(lease = key, "holding the lease; running");
                    return Some(Lease {
                        conn,
                        key: key.to_owned(),
                    });
                }
                Ok(false) => {
                    if !waiting_logged {
                        tracing::info!(lease = key, "another process holds the lease; standing by");
                        waiting_logged = true;
                    }
                }
                Err(e) => {
                    tracing::warn!(lease = key, error = %e, "could not ask for the lease; trying again");
                    conn = None;
                }
            }
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return None,
                () = tokio::time::sleep(RETRY) => {}
            }
        }
    }

    /// Completes when the lease's connection is gone (or does not answer within
    /// [`CHECK`]): another process may hold the lease from then on.
    pub async fn lost(&mut self) {
        loop {
            tokio::time::sleep(CHECK).await;
            match tokio::time::timeout(CHECK, self.conn.ping()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(lease = %self.key, error = %e, "the lease's connection failed; the lease is lost");
                    return;
                }
                Err(_) => {
                    tracing::warn!(lease = %self.key, "the lease's connection does not answer; giving the lease up");
                    return;
                }
            }
        }
    }

    /// Gives the lease up at once (a standby need not wait for the connection's end to be
    /// noticed).
    pub async fn release(mut self) {
        let unlocked = sqlx::query("select pg_advisory_unlock($1, hashtext($2))")
            .bind(LEASES)
            .bind(&self.key)
            .execute(&mut self.conn)
            .await;
        if let Err(e) = unlocked {
            tracing::debug!(lease = %self.key, error = %e, "unlock failed; closing the connection lets the lease go");
        }
        let _ = self.conn.close().await;
    }
}

/// Asks for the lock on `conn`, connecting first when there is none.
async fn try_lock(
    pool: &PgPool,
    key: &str,
    conn: &mut Option<PgConnection>,
) -> Result<bool, sqlx::Error> {
    if conn.is_none() {
        let options = (*pool.connect_options())
            .clone()
            .application_name(&format!("ultramarket lease {key}"));
        *conn = Some(options.connect().await?);
    }
    let conn = conn.as_mut().expect("connected above");
    sqlx::query_scalar("select pg_try_advisory_lock($1, hashtext($2))")
        .bind(LEASES)
        .bind(key)
        .fetch_one(conn)
        .await
}

/// Runs `work` while this process holds the lease on `key`, until `shutdown` turns true.
///
/// Stands by until the lease is free; then runs `work`, handing it a stop signal that
/// turns true on shutdown or when the lease is lost. After a loss, once `work` has
/// stopped, it stands by again. `work` ending by itself (an error, say) ends this too, the
/// lease given up, with what `work` answered.
pub async fn lead<F, Fut, E>(
    pool: &PgPool,
    key: &str,
    mut shutdown: watch::Receiver<bool>,
    mut work: F,
) -> Result<(), E>
where
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    loop {
        let Some(mut lease) = Lease::acquire(pool, key, &mut shutdown).await else {
            return Ok(());
        };
        let held = metrics::gauge!("lease_held", "lease" => key.to_owned());
        held.set(1.0);
        let (stop, stopped) = watch::channel(false);
        let run = work(stopped);
        tokio::pin!(run);
        let answer = tokio::select! {
            answer = &mut run => Some(answer),
            // Mapped to `()`: the guard it answers must not live across the await below.
            () = async { let _ = shutdown.wait_for(|stop| *stop).await; } => {
                let _ = stop.send(true);
                Some(run.await)
            }
            () = lease.lost() => {
                let _ = stop.send(true);
                // Stopped, not ended: stand by again unless it failed.
                run.await.err().map(Err)
            }
        };
        held.set(0.0);
        lease.release().await;
        if let Some(answer) = answer {
            return answer;
        }
    }
}
