//! Building the engine from its configuration and running it until stopped.
//!
//! [`Application::build`] does everything that can fail at start, in the order a newcomer
//! would debug it: the configuration, PostgreSQL (creating the database when missing), the
//! migrations, the event store, NATS when configured, the listener. Each failure names
//! where it looked and how to start what is missing. [`Application::run_until_stopped`]
//! then serves HTTP and runs the background tasks; each task gets the same shutdown signal,
//! and when the process is told to stop (or a task dies) everything drains, bounded by
//! [`DRAIN_TIMEOUT`].

use std::collections::HashMap;
use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use commands::checkout::Checkout;
use commands::handler::CommandHandler;
use commands::store::EventStore;
use commands::{database::MIGRATOR, store::postgres::PgEventStore};
use futures::future::BoxFuture;
use futures::FutureExt;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::{where_url_points, Config, ConfigError, Secret};
use crate::hashing::PasswordHasher;
use crate::middleware::http_metrics;
use crate::router::app;
use crate::state::AppState;

/// How long in-flight requests and background tasks may take to finish after a shutdown
/// signal before the process exits anyway.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the metrics recorder drops expired histogram samples.
const METRICS_UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// How many aggregate states each command handler keeps cached.
const STATE_CACHE_CAPACITY: u64 = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("creating the bootstrap admin failed: {0}")]
    BootstrapAdmin(String),
    #[error(
        "PostgreSQL does not answer at {host}:{port} ({cause}).\n  \
         Start it with:  pg_ctlcluster --skip-systemctl-redirect 15 main start\n  \
         or:             docker compose up -d postgres\n  \
         or point DATABASE_URL at a running server."
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
    #[error(
        "NATS does not answer at {at} ({cause}).\n  \
         Start it with:  nats-server -js\n  \
         or:             docker compose up -d nats\n  \
         or unset NATS_URL to run without NATS (projections then follow the store in process)."
    )]
    NatsUnreachable { at: String, cause: String },
    #[error(
        "NATS at {at} answers but JetStream is not enabled ({cause}).\n  \
         Restart it with:  nats-server -js"
    )]
    NatsWithoutJetStream { at: String, cause: String },
    #[error("cannot listen on {addr}: {cause}")]
    Bind { addr: SocketAddr, cause: String },
    #[error("{task} failed: {cause}")]
    TaskFailed { task: &'static str, cause: String },
}

type TaskFn =
    Box<dyn FnOnce(watch::Receiver<bool>) -> BoxFuture<'static, Result<(), String>> + Send>;

/// A long-lived task run beside the HTTP server until shutdown.
struct BackgroundTask {
    name: &'static str,
    run: TaskFn,
}

/// A built engine, listening but not yet serving.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    tasks: Vec<BackgroundTask>,
}

impl Application {
    /// The HTTP gateway role: connects, migrates, opens the store and binds the listener.
    /// Add the other roles with the `with_*` methods.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        config.validate()?;
        let pool = connect_database(config.database_url.expose()).await?;
        migrate(&pool).await?;
        let (store, store_kind) = open_store(&config, &pool).await?;
        let nats = match &config.nats_url {
            Some(url) => Some(connect_nats(url).await?),
            None => None,
        };
        let jwt_secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => {
                tracing::warn!(
                    "JWT_SECRET is not set: a random secret is used, so tokens will not survive a restart"
                );
                Secret::random()
            }
        };
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|e| StartupError::Bind {
                addr: config.bind,
                cause: e.to_string(),
            })?;
        let metrics = metrics_recorder();
        let payments = crate::payments::from_config(&config, &pool, true);
        let passwords =
            PasswordHasher::new(config.password_hash_threads, config.password_hash_queue);
        let handlers = commands::handlers::Handlers::new(&store, 100_000);
        let state = AppState {
            payments,
            passwords,
            config: Arc::new(config),
            checkpoints: projections::checkpoint::waiter::Waiter::new(pool.clone()),
            credentials: commands::accounts::Credentials::new(pool.clone()),
            stamps: crate::auth::stamps::Stamps::new(handlers.clone()),
            pool,
            handlers,
            store,
            store_kind,
            nats,
            jwt_secret,
            started: Instant::now(),
            metrics: metrics.clone(),
        };
        crate::auth::bootstrap_admin(&state)
            .await
            .map_err(|e| StartupError::BootstrapAdmin(e.to_string()))?;
        let app = Application {
            listener,
            state,
            tasks: Vec::new(),
        };
        let (pool, every) = (app.state.pool.clone(), app.state.config.prune_interval);
        let (stamps, store) = (app.state.stamps.clone(), app.state.store.clone());
        Ok(app
            .with_task("metrics upkeep", move |stop| metrics_upkeep(metrics, stop))
            .with_task("security stamps", move |stop| stamps.follow(store, stop))
            .with_task("pruning", move |stop| {
                crate::pruning::run(pool, every, crate::auth::LOGIN_FAILURE_WINDOW, stop)
            }))
    }

    /// Adds the process managers: the checkout saga and reservation expiry.
    pub fn with_process_managers(self) -> Self {
        let state = &self.state;
        let saga = Checkout::new(
            state.store.clone(),
            state.pool.clone(),
            CommandHandler::new(state.store.clone(), STATE_CACHE_CAPACITY),
            CommandHandler::new(state.store.clone(), STATE_CACHE_CAPACITY),
            state.config.reservation_ttl,
        );
        self.with_task("checkout saga", move |stop| saga.run(stop))
    }

    /// Adds the relay, publishing `$all` to JetStream, when NATS is configured; without
    /// NATS there is nothing to relay to (projections then follow the store in process).
    pub fn with_relay(self) -> Self {
        let Some(client) = self.state.nats.clone() else {
            tracing::info!("NATS_URL is not set; no relay runs");
            return self;
        };
        let relay = projections::relay::Relay::new(
            self.state.store.clone(),
            self.state.pool.clone(),
            async_nats::jetstream::new(client),
            self.jetstream_config(),
        );
        self.with_task("relay", move |stop| relay.run(stop))
    }

    fn jetstream_config(&self) -> projections::jetstream::JetStreamConfig {
        projections::jetstream::JetStreamConfig::new(
            self.state.config.nats_stream.clone(),
            self.state.config.nats_subject_prefix.clone(),
        )
    }

    /// Adds one worker per read model and the monitor that measures their lag. With NATS
    /// configured each worker follows its JetStream consumer (the store filling any gap);
    /// without, it follows the store's `$all` in process.
    pub fn with_projections(mut self) -> Self {
        let (store, pool) = (self.state.store.clone(), self.state.pool.clone());
        let names = projections::all().iter().map(|p| p.name()).collect();
        let jetstream = self.state.nats.clone().map(async_nats::jetstream::new);
        let jetstream_config = self.jetstream_config();
        // One announcer for every runner: their checkpoint moves go out in one statement.
        let announcer = projections::checkpoint::announcements::Announcer::new(pool.clone());
        for projection in projections::all() {
            let runner = projections::Runner::with_announcer(
                store.clone(),
                pool.clone(),
                projection,
                announcer.clone(),
            );
            match jetstream.clone() {
                Some(js) => {
                    let config = jetstream_config.clone();
                    self = self.with_task(runner.name(), move |stop| {
                        projections::jetstream::run(runner, js, config, stop)
                    });
                }
                None => self = self.with_task(runner.name(), move |stop| runner.run(stop)),
            }
        }
        self.with_task("projection lag monitor", move |stop| {
            projections::status::monitor(store, pool, names, Duration::from_secs(2), stop)
        })
    }

    /// Adds the notification worker: it delivers the `notifications` outbox through SMTP
    /// when `settings.smtp_url` is set, else to the server's log, links included (a warning
    /// at start says so).
    /// Its links carry tokens keyed by the same secret the gateway checks them with, so a
    /// worker in another process needs the same `JWT_SECRET`.
    pub fn with_notifier(
        self,
        settings: projections::notifications::NotifierSettings,
    ) -> Result<Self, StartupError> {
        let transport = settings.transport().map_err(|e| StartupError::TaskFailed {
            task: "notification worker",
            cause: e.to_string(),
        })?;
        let worker = projections::notifications::Notifier::new(
            self.state.store.clone(),
            self.state.pool.clone(),
            crate::auth::email_tokens(&self.state),
            transport,
            settings,
        );
        Ok(self.with_task("notification worker", move |stop| worker.run(stop)))
    }

    /// Adds a long-lived task. It must return once `stop` turns true; returning earlier, or
    /// with an error, stops the whole process (an orchestrator restarts it), so a task
    /// never dies silently. The relay and projection roles plug in here.
    pub fn with_task<F, Fut, E>(mut self, name: &'static str, task: F) -> Self
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Display,
    {
        self.tasks.push(BackgroundTask {
            name,
            run: Box::new(move |stop| {
                task(stop)
                    .map(|result| result.map_err(|e| e.to_string()))
                    .boxed()
            }),
        });
        self
    }

    /// Where the gateway listens (the real port when `BIND` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has a local address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `signal` completes or a task fails, then drains (bounded by
    /// [`DRAIN_TIMEOUT`]).
    pub async fn run_until_stopped(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let addr = self.local_addr();
        let pool = self.state.pool.clone();
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut names = HashMap::new();
        for task in self.tasks {
            let handle = tasks.spawn((task.run)(stopped.clone()));
            names.insert(handle.id(), task.name);
        }
        let mut http_stopped = stopped.clone();
        let server = axum::serve(
            self.listener,
            app(self.state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = http_stopped.wait_for(|stop| *stop).await;
        });
        let handle = tasks.spawn(async move { server.await.map_err(|e| e.to_string()) });
        names.insert(handle.id(), "http server");
        // The address ends the line: scripts and tests read it from there.
        tracing::info!("UltraMarket listening on http://{addr}");

        let mut failure = tokio::select! {
            () = signal => {
                tracing::info!("shutdown requested; draining");
                None
            }
            Some(joined) = tasks.join_next_with_id() => {
                // Nothing should end before it is told to.
                let failure = task_failure(&names, joined, "stopped unexpectedly");
                tracing::error!(error = %failure, "a task ended; shutting down");
                Some(failure)
            }
        };
        let _ = stop.send(true);
        let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
            while let Some(joined) = tasks.join_next_with_id().await {
                if matches!(&joined, Ok((_, Ok(())))) {
                    continue;
                }
                let error = task_failure(&names, joined, "");
                tracing::error!(%error, "a task failed while stopping");
                failure.get_or_insert(error);
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                "in-flight work did not finish within {DRAIN_TIMEOUT:?}; stopping anyway"
            );
            tasks.abort_all();
        }
        pool.close().await;
        tracing::info!("stopped");
        failure.map_or(Ok(()), Err)
    }
}

fn task_failure(
    names: &HashMap<tokio::task::Id, &'static str>,
    joined: Result<(tokio::task::Id, Result<(), String>), tokio::task::JoinError>,
    if_ok: &str,
) -> StartupError {
    let (id, cause) = match joined {
        Ok((id, Ok(()))) => (id, if_ok.to_owned()),
        Ok((id, Err(e))) => (id, e),
        Err(e) => (e.id(), format!("panicked: {e}")),
    };
    StartupError::TaskFailed {
        task: names.get(&id).copied().unwrap_or("a task"),
        cause,
    }
}

async fn metrics_upkeep(
    metrics: PrometheusHandle,
    mut stop: watch::Receiver<bool>,
) -> Result<(), std::convert::Infallible> {
    loop {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return Ok(()),
            () = tokio::time::sleep(METRICS_UPKEEP_EVERY) => metrics.run_upkeep(),
        }
    }
}

/// The process-wide Prometheus recorder, installed on first use. Tests build several
/// applications in one process; they all share it.
pub fn metrics_recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(http_metrics::REQUEST_DURATION.to_owned()),
                    http_metrics::DURATION_BUCKETS,
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                // Something else in the process installed one first; ours then sees
                // nothing, and /metrics says so by being empty.
                tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
            }
            handle
        })
        .clone()
}

/// Applies the migrations of `config`'s database, creating it when missing.
pub async fn migrate_database(config: &Config) -> Result<(), StartupError> {
    let pool = connect_database(config.database_url.expose()).await?;
    migrate(&pool).await?;
    pool.close().await;
    Ok(())
}

/// Connects to the configured database, creating it first when it does not exist and the
/// role may create databases.
pub async fn connect_database(url: &str) -> Result<PgPool, StartupError> {
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
        .max_connections(32)
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
        // Another process created it in the meantime: what we wanted.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
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

async fn open_store(
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
        () = ctrl_c => {},
        () = terminate => {},
    }
}

impl AppState {
    /// A state whose pool connects on first use and whose store is PostgreSQL: for routing
    /// tests that never touch a database (a route that does answers 503).
    pub fn connect_lazy(config: Config) -> Result<AppState, StartupError> {
        let pool = commands::database::pool_options()
            .acquire_timeout(std::time::Duration::from_secs(2))
            .connect_lazy(config.database_url.expose())
            .map_err(|e| StartupError::Database {
                database: crate::config::where_url_points(config.database_url.expose()),
                cause: e.to_string(),
            })?;
        let store: Arc<dyn commands::store::EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let handlers = commands::handlers::Handlers::new(&store, 10_000);
        Ok(AppState {
            payments: crate::payments::from_config(&config, &pool, false),
            passwords: PasswordHasher::new(
                config.password_hash_threads,
                config.password_hash_queue,
            ),
            jwt_secret: config.jwt_secret.clone().unwrap_or_else(Secret::random),
            config: Arc::new(config),
            credentials: commands::accounts::Credentials::new(pool.clone()),
            stamps: crate::auth::stamps::Stamps::new(handlers.clone()),
            handlers,
            store,
            checkpoints: projections::checkpoint::waiter::Waiter::new(pool.clone()),
            pool,
            store_kind: "postgres",
            nats: None,
            started: Instant::now(),
            metrics: metrics_recorder(),
        })
    }
}
