//! What several of the crate's test files share.

use std::future::Future;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// Runs `test` on a runtime of four worker threads, with a pool to the test's database.
///
/// `#[sqlx::test]` runs its body on one thread, where concurrent tasks only take turns at
/// their awaits; a test whose point is a race must have them run at the same time. Take
/// the pool options `#[sqlx::test]` gives (rather than its pool) so that the pool's
/// connections belong to the runtime that uses them.
pub async fn on_threads<F, Fut>(options: PgPoolOptions, connect: PgConnectOptions, test: F)
where
    F: FnOnce(PgPool) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let ran = tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("a multi-threaded runtime")
            .block_on(async move {
                let pool = options
                    .connect_with(connect)
                    .await
                    .expect("the test database answers");
                test(pool.clone()).await;
                // As `#[sqlx::test]` does with its own pool, so the database can be dropped.
                let _ = tokio::time::timeout(Duration::from_secs(10), pool.close()).await;
            })
    })
    .await;
    if let Err(e) = ran {
        std::panic::resume_unwind(e.into_panic());
    }
}
