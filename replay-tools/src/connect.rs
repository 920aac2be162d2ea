//! Opens the store the engine uses.

use std::sync::Arc;
use std::time::Duration;

use commands::store::postgres::PgEventStore;
use commands::store::EventStore;

use crate::UmctlError;

/// Whether a command may bring the database's schema up to date. Only the commands that
/// write (`import` into a fresh database, `rebuild`) do; the others only look, and a
/// mistyped database name must not come back from a look with the engine's tables in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    Migrate,
    MustExist,
}

/// The event store named by the configuration: EventStoreDB when `eventstore_url` is set,
/// else the PostgreSQL store at `database_url`.
pub async fn open_store(
    database_url: &str,
    eventstore_url: Option<&str>,
    schema: Schema,
) -> Result<Arc<dyn EventStore>, UmctlError> {
    if let Some(url) = eventstore_url {
        return open_esdb(url).await;
    }
    let pool = open_read_models(database_url, schema).await?;
    Ok(Arc::new(PgEventStore::new(pool)))
}

/// The PostgreSQL database: the read models, and the store unless EventStoreDB is
/// configured. With [`Schema::MustExist`], a database the engine never migrated is an
/// error, and nothing is created in it.
pub async fn open_read_models(
    database_url: &str,
    schema: Schema,
) -> Result<sqlx::PgPool, UmctlError> {
    let pool = commands::database::pool_options()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(5))
        .connect(database_url)
        .await
        .map_err(|e| {
            UmctlError::Unreachable(format!("PostgreSQL at {}: {e}", redact(database_url)))
        })?;
    match schema {
        Schema::Migrate => commands::database::MIGRATOR.run(&pool).await.map_err(|e| {
            UmctlError::Unreachable(format!("migrating {}: {e}", redact(database_url)))
        })?,
        Schema::MustExist => {
            // The store's table and the projections' checkpoints: what every read-only
            // command reads, created by the engine's first migrations.
            let migrated: bool = sqlx::query_scalar(
                "select to_regclass('store.events') is not null \
                   and to_regclass('projections.checkpoints') is not null",
            )
            .fetch_one(&pool)
            .await
            .map_err(|e| {
                UmctlError::Unreachable(format!("PostgreSQL at {}: {e}", redact(database_url)))
            })?;
            if !migrated {
                pool.close().await;
                return Err(UmctlError::NotFound(format!(
                    "{} holds no UltraMarket event store (no store.events table): is it the \
                     right database? `ultramarket migrate` creates the tables, `umctl import` \
                     fills an empty database",
                    redact(database_url)
                )));
            }
        }
    }
    Ok(pool)
}

#[cfg(feature = "esdb")]
async fn open_esdb(url: &str) -> Result<Arc<dyn EventStore>, UmctlError> {
    let store = commands::store::esdb::EsdbEventStore::connect(url).await?;
    Ok(Arc::new(store))
}

#[cfg(not(feature = "esdb"))]
async fn open_esdb(_url: &str) -> Result<Arc<dyn EventStore>, UmctlError> {
    Err(UmctlError::BadArgument(
        "EVENTSTORE_URL is set but umctl was built without the esdb feature".into(),
    ))
}

/// A connection string without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
