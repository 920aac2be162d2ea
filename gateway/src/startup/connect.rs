//! Reaching what the engine stands on: PostgreSQL (creating the database when missing,
//! then the migrations), the event store, NATS with JetStream. Each failure names where it
//! looked and how to start what is missing.

use std::sync::Arc;
use std::time::Duration;

use commands::store::EventStore;
use commands::{database::MIGRATOR, store::postgres::PgEventStore};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};

use crate::config::{where_url_points, Config, Secret};
use crate::startup::error::StartupError;

/// Applies the migrations of `config`'s database, creating it when missing.
pub async fn migrate_database(config: &Config) -> Result<(), StartupError> {
    let pool = connect_database(config.database_url.expose(), 2).await?;
    migrate(&pool).await?;
    pool.close().await;
    Ok(())
}

/// Connects to the configured database with a pool of at most `pool_size` connections,
/// creating it first when it does not exist and the role may create databases.
pub async fn connect_database(url: &str, pool_size: u32) -> Result<PgPool, StartupError> {
    let options: PgConnectOptions =
        url.parse()
            .map_err(|e: sqlx::Error| StartupError::Database {
                database: where_url_points(url),
                cause: e.to_string(),
            })?;
    let database = options.get_database().unwrap_or("postgres").to_owned();
    let (host, port) = (options.get_host().to_owned(), options.get_port());
    let unreachable = |e: &sqlx::Error| StartupError::DatabaseUnreachable {
        host: host.clone(),
        port,
        cause: e.to_string(),
    };
    // One plain connection first: a pool retries a refused connection until its acquire
    // timeout, and a newcomer whose server is down should hear so at once.
    let probe = tokio::time::timeout(Duration::from_secs(10), options.connect())
        .await
        .map_err(|_| StartupError::DatabaseUnreachable {
            host: host.clone(),
            port,
            cause: "no answer within 10 s".into(),
        })?;
    match probe {
        Ok(probe) => {
            let _ = probe.close().await;
        }
        // The server answers but the database is missing: a fresh machine.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {
            create_database(&options, &database)
                .await
                .map_err(|e| match e {
                    e @ (sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut) => unreachable(&e),
                    e => StartupError::Database {
                        database: database.clone(),
                        cause: format!("does not exist and could not be created: {e}"),
                    },
                })?;
        }
        Err(e @ sqlx::Error::Io(_)) => return Err(unreachable(&e)),
        Err(e) => {
            return Err(StartupError::Database {
                database,
                cause: e.to_string(),
            })
        }
    }
    commands::database::pool_options()
        .max_connections(pool_size.max(1))
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|e| match e {
            e @ (sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut) => unreachable(&e),
            e => StartupError::Database {
                database,
                cause: e.to_string(),
            },
        })
}

async fn create_database(options: &PgConnectOptions, database: &str) -> Result<(), sqlx::Error> {
    let mut admin = options.clone().database("postgres").connect().await?;
    let quoted = database.replace('"', "\"\"");
    match sqlx::query(sqlx::AssertSqlSafe(format!("create database \"{quoted}\"")))
        .execute(&mut admin)
        .await
    {
        Ok(_) => tracing::info!(%database, "created the database"),
        // Another process created it in the meantime: what we wanted. Roles started at
        // once race here; the loser hears 42P04 (it exists) or, when both were inside
        // `create database` together, 23505 on the catalog's unique name.
        Err(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("42P04" | "23505")) => {
        }
        Err(e) => return Err(e),
    }
    let _ = admin.close().await;
    Ok(())
}

/// Applies the store's migrations and creates any read model's missing tables (a read
/// model whose tables are outdated is rebuilt by its runner, which keeps the old ones
/// serving meanwhile).
pub async fn migrate(pool: &PgPool) -> Result<(), StartupError> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| StartupError::Migrations(e.to_string()))?;
    for projection in projections::all() {
        projections::runtime::ensure_schema(pool, &*projection)
            .await
            .map_err(|e| StartupError::Migrations(e.to_string()))?;
    }
    Ok(())
}

/// Options carrying the credentials of a NATS URL: `nats://TOKEN@host:4222` authenticates
/// with a token, `nats://user:password@host:4222` with a user and password. async-nats
/// reads credentials from its options only and ignores those in the URL, which would
/// leave a server started with `--auth` answering "authorization violation".
fn nats_credentials(url: &str) -> async_nats::ConnectOptions {
    let first = url.split(',').next().unwrap_or(url);
    let rest = first.split_once("://").map_or(first, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return async_nats::ConnectOptions::new();
    };
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    match userinfo.split_once(':') {
        Some((user, password)) => {
            async_nats::ConnectOptions::with_user_and_password(decode(user), decode(password))
        }
        None => async_nats::ConnectOptions::with_token(decode(userinfo)),
    }
}

/// Connects to NATS and checks that JetStream is on (the relay and workers need it).
pub async fn connect_nats(url: &Secret) -> Result<async_nats::Client, StartupError> {
    let at = where_url_points(url.expose());
    let client = nats_credentials(url.expose())
        .connection_timeout(Duration::from_secs(5))
        .connect(url.expose())
        .await
        .map_err(|e| StartupError::NatsUnreachable {
            at: at.clone(),
            cause: e.to_string(),
        })?;
    // A raw `$JS.API.INFO` rather than `jetstream::Context::query_account`: the typed
    // answer changes between server versions (Debian's 2.9 does not parse), and all we ask
    // is whether JetStream answers. Without it the server says "no responders".
    let without = |cause: String| StartupError::NatsWithoutJetStream {
        at: at.clone(),
        cause,
    };
    let info = tokio::time::timeout(
        Duration::from_secs(5),
        client.request("$JS.API.INFO", Default::default()),
    )
    .await
    .map_err(|_| without("no answer from $JS.API.INFO within 5 s".into()))?
    .map_err(|e| without(e.to_string()))?;
    let info: serde_json::Value =
        serde_json::from_slice(&info.payload).map_err(|e| without(e.to_string()))?;
    if let Some(error) = info.get("error") {
        return Err(without(error.to_string()));
    }
    Ok(client)
}

/// The event store `config` names: EventStoreDB when `EVENTSTORE_URL` is set, else the
/// PostgreSQL store in `pool`; with its kind, for health answers.
pub async fn open_store(
    config: &Config,
    pool: &PgPool,
) -> Result<(Arc<dyn EventStore>, &'static str), StartupError> {
    match &config.eventstore_url {
        Some(url) => {
            let store = commands::store::esdb::EsdbEventStore::connect(url.expose())
                .await
                .map_err(|e| StartupError::Store(e.to_string()))?;
            Ok((Arc::new(store), "eventstoredb"))
        }
        None => Ok((Arc::new(PgEventStore::new(pool.clone())), "postgres")),
    }
}
