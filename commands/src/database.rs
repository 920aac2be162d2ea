//! PostgreSQL plumbing every floor shares: the migrations and the pool options.
//! Transactions begin with sqlx's own `begin`/`begin_with`: since sqlx 0.9.1 a begin
//! cancelled mid-flight leaves no transaction open on the pool (launchbadge/sqlx#4393),
//! which the test below holds it to.
//!
//! The store's adapter, the projection runtime, the gateway and the tools all talk to the
//! same server; they take their migrations and pool options from here rather than from
//! the store adapter, whose internals are its own.

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::Connection;

/// Every PostgreSQL migration of the engine: the store and the read models.
pub static MIGRATOR: Migrator = sqlx::migrate!("../schemas/migrations");

/// A pooled connection idle for longer than this is pinged before it is handed out.
const PING_AFTER_IDLE: Duration = Duration::from_secs(5);

/// Options for the engine's PostgreSQL pools.
///
/// sqlx pings every connection before handing it out, by default: one more round trip for
/// each transaction, which under load is a fifth of a projection worker's time. A
/// connection used moments ago is known to work; only one idle for a while (it may have
/// outlived a server restart) is pinged, and dropped for a fresh one if that fails.
pub fn pool_options() -> PgPoolOptions {
    pool_options_pinging_after(PING_AFTER_IDLE)
}

fn pool_options_pinging_after(idle: Duration) -> PgPoolOptions {
    PgPoolOptions::new()
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            Box::pin(async move {
                if meta.idle_for < idle {
                    return Ok(true);
                }
                match conn.ping().await {
                    Ok(()) => Ok(true),
                    Err(e) => {
                        tracing::info!(error = %e, "dropping a pooled connection that no longer answers");
                        Ok(false)
                    }
                }
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::postgres::PgPool;

    async fn backend(pool: &PgPool) -> Result<i32, sqlx::Error> {
        sqlx::query_scalar("select pg_backend_pid()")
            .fetch_one(pool)
            .await
    }

    async fn terminate(admin: &PgPool, pid: i32) {
        // Waits until the backend has exited: a query sent to one that has only been
        // signalled may still be answered.
        let done: bool = sqlx::query_scalar("select pg_terminate_backend($1, 5000)")
            .bind(pid)
            .fetch_one(admin)
            .await
            .unwrap();
        assert!(done);
    }

    #[sqlx::test]
    async fn a_connection_idle_long_enough_is_checked_and_replaced_when_dead(
        _: PgPoolOptions,
        options: sqlx::postgres::PgConnectOptions,
    ) {
        let admin = PgPool::connect_with(options.clone()).await.unwrap();
        let checked = pool_options_pinging_after(Duration::ZERO)
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .unwrap();
        let first = backend(&checked).await.unwrap();
        terminate(&admin, first).await;
        let second = backend(&checked)
            .await
            .expect("a dead connection is replaced");
        assert_ne!(first, second);

        // Used moments ago, a connection is handed out without the round trip.
        let trusted = pool_options_pinging_after(Duration::from_secs(3600))
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        let pid = backend(&trusted).await.unwrap();
        // sqlx pings a connection as it goes back to the pool; a ping that met the
        // terminated backend would replace the connection before the query below.
        while trusted.num_idle() == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        terminate(&admin, pid).await;
        assert!(backend(&trusted).await.is_err());
        backend(&trusted)
            .await
            .expect("the broken connection is gone after one failure");
    }

    /// A transaction whose begin is cancelled mid-flight (here, while its `BEGIN` waits
    /// for a lock) must not leave its session inside a transaction for the pool to hand
    /// on: the next statements on that connection would run uncommitted in it. sqlx's own
    /// begin did before 0.9.1 (launchbadge/sqlx#4393, fixed by #4394); this holds the
    /// dependency to the fix.
    #[sqlx::test(migrator = "crate::database::MIGRATOR")]
    async fn a_cancelled_begin_leaves_no_transaction_open_on_the_pool(
        options: PgPoolOptions,
        connect: sqlx::postgres::PgConnectOptions,
    ) {
        // One connection, so the statements after the cancel get the one the begin used.
        let pool = options
            .max_connections(1)
            .connect_with(connect.clone())
            .await
            .unwrap();
        let mut holder = sqlx::PgConnection::connect_with(&connect).await.unwrap();
        sqlx::query("select pg_advisory_lock(4393)")
            .execute(&mut holder)
            .await
            .unwrap();
        let waiting = pool.begin_with("begin; select pg_advisory_xact_lock(4393)");
        assert!(
            tokio::time::timeout(Duration::from_millis(200), waiting)
                .await
                .is_err(),
            "the begin should wait for the lock"
        );
        sqlx::query("select pg_advisory_unlock(4393)")
            .execute(&mut holder)
            .await
            .unwrap();
        // Outside a transaction, each statement is a transaction of its own.
        let xact = || sqlx::query_scalar::<_, String>("select pg_current_xact_id()::text");
        let first = xact().fetch_one(&pool).await.unwrap();
        let second = xact().fetch_one(&pool).await.unwrap();
        assert_ne!(
            first, second,
            "two statements on the pool ran in one transaction, left open by the cancelled begin"
        );
    }
}
