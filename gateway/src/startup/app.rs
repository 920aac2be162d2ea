//! [`Application`]: the engine built for one role, its background tasks, and the server
//! that runs until stopped.

use std::collections::HashMap;
use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use commands::lease::Lease;
use commands::privacy::{DataKeys, MasterKey};
use commands::store::postgres::PgEventStore;
use futures::future::BoxFuture;
use futures::FutureExt;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::{Config, RateLimitStore, Secret};
use crate::hashing::PasswordHasher;
use crate::middleware::http_metrics;
use crate::router::{app, operations};
use crate::search::recorder::Recorder;
use crate::startup::connect::{connect_database, connect_nats, migrate, open_store};
use crate::startup::error::StartupError;
use crate::startup::role::{Role, Running, RunningTask};
use crate::state::AppState;

/// How long in-flight requests and background tasks may take to finish after a shutdown
/// signal before the process exits anyway.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the metrics recorder drops expired histogram samples.
const METRICS_UPKEEP_EVERY: Duration = Duration::from_secs(5);

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
    /// The HTTP gateway role: [`Application::build_as`] with [`Role::Gateway`].
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        Self::build_as(Role::Gateway, config).await
    }

    /// Connects, migrates, opens the store and binds the listener for `role`. A role that
    /// serves the API listens on `BIND` and follows the accounts' security stamps; the
    /// others serve only their probes and metrics, on `METRICS_BIND` or their role's own
    /// port. Add the background roles with the `with_*` methods.
    pub async fn build_as(role: Role, mut config: Config) -> Result<Self, StartupError> {
        config.validate()?;
        // Before any read model is built (the migration below builds them all).
        projections::retention::set_in_force(config.retention()?);
        // One process has nothing to share its count with: the database's round trip per
        // request would buy nothing (BENCHMARKS.md: a third of the static rate).
        config.rate_limit_store.get_or_insert(match role {
            Role::Serve => RateLimitStore::Memory,
            _ => RateLimitStore::Postgres,
        });
        let pool =
            connect_database(config.database_url.expose(), config.database_pool_size).await?;
        migrate(&pool).await?;
        let (store, store_kind) = open_store(&config, &pool).await?;
        let nats = match &config.nats_url {
            Some(url) => Some(connect_nats(url).await?),
            None => None,
        };
        let jwt_secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            // The relay and the read models sign nothing: no warning for them.
            None if !role.serves_api() && role != Role::Process => Secret::random(),
            None => {
                tracing::warn!(
                    "JWT_SECRET is not set: a random secret is used, so tokens will not survive a restart"
                );
                Secret::random()
            }
        };
        let addr = match role.default_operations_addr() {
            Some(default) => config.metrics_bind.unwrap_or(default),
            None => config.bind,
        };
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| StartupError::Bind {
                addr,
                cause: e.to_string(),
            })?;
        let metrics = metrics_recorder();
        let payments = crate::payments::from_config(&config, &pool, role.serves_api());
        let passwords =
            PasswordHasher::new(config.password_hash_threads, config.password_hash_queue);
        // The relay copies ciphertext and opens nothing: no warning for it.
        if config.master_key.is_none() && role != Role::Relay {
            tracing::warn!(
                "MASTER_KEY is not set: the master key kept in the database wraps the personal \
                 data keys, so an erasure is only as good as the database's backups"
            );
        }
        let keys = DataKeys::start(
            pool.clone(),
            config.master_key.clone(),
            config.master_key_previous.clone(),
        )
        .await
        .map_err(|e| StartupError::Database {
            database: crate::config::where_url_points(config.database_url.expose()),
            cause: e.to_string(),
        })?;
        let handlers = commands::handlers::Handlers::new(&store, Arc::new(keys), 100_000);
        let config_search_buffer = config.search_log_buffer;
        let analysts = crate::operations::analyst_pool(&config)?;
        let state = AppState {
            payouts: Arc::new(commands::ledger::TestPayoutProvider::new(pool.clone())),
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
            running: Arc::new(Running::new(role)),
            search_log: Arc::new(Recorder::new(usize::from(config_search_buffer))),
            followed: crate::followed::Followed::new(),
            rules: crate::pricing::book::RuleBook::new(),
            analysts,
        };
        state.serve_prices();
        let app = Application {
            listener,
            state,
            tasks: Vec::new(),
        }
        .with_task("metrics upkeep", move |stop| metrics_upkeep(metrics, stop));
        if !role.serves_api() {
            return Ok(app);
        }
        crate::auth::bootstrap_admin(&app.state)
            .await
            .map_err(|e| StartupError::BootstrapAdmin(e.to_string()))?;
        let (pool, every) = (app.state.pool.clone(), app.state.config.prune_interval);
        let (stamps, store) = (app.state.stamps.clone(), app.state.store.clone());
        let search = app.state.clone();
        // Only a process that checks access tokens needs to know when an account's
        // tokens were cut, and only one that answers API calls keeps what pruning deletes.
        let (followed, feed) = (app.state.followed.clone(), app.state.store.clone());
        Ok(app
            .with_task("security stamps", move |stop| stamps.follow(store, stop))
            .with_task("settings cache", move |stop| followed.follow(feed, stop))
            .with_task("pruning", move |stop| {
                crate::pruning::run(pool, every, crate::auth::LOGIN_FAILURE_WINDOW, stop)
            })
            .with_task("search log", move |stop| {
                crate::search::log::run(search, stop)
            }))
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
        self.state.running.add(RunningTask { name, lease: None });
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

    /// Adds a process manager run only while this process holds its lease, named `name`
    /// (`commands::lease`): `manager` is started for each term and told to stop when the
    /// process stops or the lease is lost. Copies of the process that do not hold it stand
    /// by, and `/health/detailed` says which is which.
    pub fn with_leased_task<F, Fut, E>(mut self, name: &'static str, manager: F) -> Self
    where
        F: FnMut(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Display + Send + 'static,
    {
        let lease = Lease::new(&self.state.pool, name);
        let report = lease.report();
        self = self.with_task(name, move |stop| lease.run(manager, stop));
        self.state.running.set_lease(name, report);
        self
    }

    /// Where the process listens: `BIND` for a role serving the API, else its probes'
    /// address (the real port when port 0 was asked for).
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
        let role = self.state.running.role;
        let router = if role.serves_api() {
            app(self.state)
        } else {
            operations(self.state)
        };
        let server = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = http_stopped.wait_for(|stop| *stop).await;
        });
        let handle = tasks.spawn(async move { server.await.map_err(|e| e.to_string()) });
        names.insert(handle.id(), "http server");
        // The address ends the line: scripts and tests read it from there.
        if role.serves_api() {
            tracing::info!("UltraMarket listening on http://{addr}");
        } else {
            tracing::info!(
                "UltraMarket {}: health and metrics only, listening on http://{addr}",
                role.name()
            );
        }

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
        // Routing tests never reach the keys' table: a key of the moment stands in.
        let keys = DataKeys::new(pool.clone(), MasterKey::from_bytes(rand::random()), None);
        let handlers = commands::handlers::Handlers::new(&store, Arc::new(keys), 10_000);
        let config_search_buffer = config.search_log_buffer;
        Ok(AppState {
            payouts: Arc::new(commands::ledger::TestPayoutProvider::new(pool.clone())),
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
            running: Arc::new(Running::new(Role::Gateway)),
            search_log: Arc::new(Recorder::new(usize::from(config_search_buffer))),
            followed: crate::followed::Followed::new(),
            rules: crate::pricing::book::RuleBook::new(),
            analysts: None,
        })
    }
}
