//! A database of its own for a benchmark run, so that a run neither sees nor disturbs
//! anyone's data and leaves nothing behind.

use std::future::Future;

use anyhow::Context;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use uuid::Uuid;

/// Creates an empty database `<prefix>_<random>` on `server`, runs `body` with options
/// that point at it, and drops it afterwards: when `body` returns, fails, or the process
/// is interrupted (Ctrl-C). Answers `body`'s result; a failed drop is only reported.
pub async fn with_scratch_database<T, F, Fut>(
    server: &PgConnectOptions,
    prefix: &str,
    body: F,
) -> anyhow::Result<T>
where
    F: FnOnce(PgConnectOptions) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let db = format!("{prefix}_{}", &Uuid::new_v4().simple().to_string()[..12]);
    let mut admin = connect_admin(server).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {db}")))
        .execute(&mut admin)
        .await
        .with_context(|| format!("creating database {db}"))?;
    admin.close().await.ok();
    eprintln!("created database {db}");

    let result = tokio::select! {
        result = body(server.clone().database(&db)) => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };

    // A fresh connection: the run may have taken long enough for an idle one to be cut.
    let dropped = async {
        let mut admin = connect_admin(server).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "drop database if exists {db} with (force)"
        )))
        .execute(&mut admin)
        .await?;
        admin.close().await.map_err(anyhow::Error::from)
    }
    .await;
    match dropped {
        Ok(()) => eprintln!("dropped database {db}"),
        Err(e) => eprintln!("warning: could not drop database {db}: {e:#}"),
    }
    result
}

/// A connection to `server`'s own database, or to `postgres` when that one does not exist
/// (a URL naming the engine's database before its first start).
async fn connect_admin(server: &PgConnectOptions) -> anyhow::Result<PgConnection> {
    let unreachable = || {
        format!(
            "connecting to PostgreSQL at {}:{}",
            server.get_host(),
            server.get_port()
        )
    };
    match server.connect().await {
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => server
            .clone()
            .database("postgres")
            .connect()
            .await
            .with_context(unreachable),
        connected => connected.with_context(unreachable),
    }
}
