//! Building the engine from its configuration and running it until stopped.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use commands::checkout::Checkout;
use commands::handler::CommandHandler;
use commands::store::postgres::{PgEventStore, MIGRATOR};
use commands::store::EventStore;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::error::ApiError;

/// How long in-flight work may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(
        "PostgreSQL does not answer at {host}:{port} ({cause}).\n  \
         Start it with:  pg_ctlcluster --skip-systemctl-redirect 15 main start\n  \
         or:             docker compose up -d postgres"
    )]
    DatabaseUnreachable {
        host: String,
        port: u16,
        cause: String,
    },
    #[error("database {database:?}: {cause}")]
    Database { database: String, cause: String },
    #[error("migrations failed: {0}")]
    Migrations(String),
    #[error("event store: {0}")]
    Store(String),
    #[error("cannot listen on {addr}: {cause}")]
    Bind { addr: SocketAddr, cause: String },
    #[error("server failed: {0}")]
    Serve(String),
}

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub store: Arc<dyn EventStore>,
    pub store_kind: &'static str,
    pub started: Instant,
    pub metrics: PrometheusHandle,
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    saga: Checkout,
}

/// The process-wide metrics recorder; installed once, however many apps a test builds.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .install_recorder()
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder().handle())
        })
        .clone()
}

/// Connects to the configured database, creating it first when it does not exist.
pub async fn connect_database(url: &str) -> Result<PgPool, StartupError> {
    let options: PgConnectOptions =
        url.parse()
            .map_err(|e: sqlx::Error| StartupError::Database {
                database: url.to_owned(),
                cause: e.to_string(),
            })?;
    let database = options.get_database().unwrap_or("postgres").to_owned();
    let (host, port) = (options.get_host().to_owned(), options.get_port());
    let unreachable = |e: &sqlx::Error| StartupError::DatabaseUnreachable {
        host: host.clone(),
        port,
        cause: e.to_string(),
    };
    let pool_options = PgPoolOptions::new()
        .max_connections(32)
        .acquire_timeout(Duration::from_secs(5));
    match pool_options.clone().connect_with(options.clone()).await {
        Ok(pool) => Ok(pool),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {
            // The server answers but the database is missing: a fresh machine.
            let mut admin = options
                .clone()
                .database("postgres")
                .connect()
                .await
                .map_err(|e| unreachable(&e))?;
            let quoted = database.replace('"', "\"\"");
            if let Err(e) = sqlx::query(&format!("create database \"{quoted}\""))
                .execute(&mut admin)
                .await
            {
                // Another process may have created it in the meantime.
                let exists =
                    matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("42P04"));
                if !exists {
                    return Err(StartupError::Database {
                        database,
                        cause: format!("does not exist and could not be created: {e}"),
                    });
                }
            }
            tracing::info!(%database, "created the database");
            pool_options
                .connect_with(options)
                .await
                .map_err(|e| unreachable(&e))
        }
        Err(e @ (sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut)) => Err(unreachable(&e)),
        Err(e) => Err(StartupError::Database {
            database,
            cause: e.to_string(),
        }),
    }
}

pub async fn migrate(pool: &PgPool) -> Result<(), StartupError> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| StartupError::Migrations(e.to_string()))
}

async fn open_store(
    config: &Config,
    pool: &PgPool,
) -> Result<(Arc<dyn EventStore>, &'static str), StartupError> {
    match &config.eventstore_url {
        Some(url) => {
            let store = commands::store::esdb::EsdbEventStore::connect(url)
                .await
                .map_err(|e| StartupError::Store(e.to_string()))?;
            Ok((Arc::new(store), "eventstoredb"))
        }
        None => Ok((Arc::new(PgEventStore::new(pool.clone())), "postgres")),
    }
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let pool = connect_database(&config.database_url).await?;
        migrate(&pool).await?;
        let (store, store_kind) = open_store(&config, &pool).await?;
        if config.jwt_secret.is_none() {
            tracing::warn!("JWT_SECRET is not set: a random secret is used, so tokens will not survive a restart");
        }
        let saga = Checkout::new(
            store.clone(),
            pool.clone(),
            CommandHandler::new(store.clone(), 100_000),
            CommandHandler::new(store.clone(), 100_000),
            config.reservation_ttl,
        );
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|e| StartupError::Bind {
                addr: config.bind,
                cause: e.to_string(),
            })?;
        Ok(Application {
            listener,
            state: AppState {
                pool,
                store,
                store_kind,
                started: Instant::now(),
                metrics: metrics_handle(),
            },
            saga,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until `signal` completes, then lets in-flight work finish (bounded).
    pub async fn run_until_stopped(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let (stop, stopped) = watch::channel(false);
        let saga = tokio::spawn(self.saga.run(stopped.clone()));
        let app = router(self.state);
        let mut http_stopped = stopped.clone();
        let server = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = http_stopped.wait_for(|s| *s).await;
        });
        let server = tokio::spawn(async move { server.await });
        signal.await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
        let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
            let http = server.await;
            let _ = saga.await;
            http
        })
        .await;
        match drained {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(StartupError::Serve(e.to_string())),
            Ok(Err(e)) => Err(StartupError::Serve(e.to_string())),
            Err(_) => {
                tracing::warn!("in-flight work did not finish within {DRAIN_TIMEOUT:?}");
                Ok(())
            }
        }
    }
}

/// Every route of the engine.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::health::router())
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .with_state(state)
}

/// Completes on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
