//! The background roles a process can be given on top of what [`Application::build_as`]
//! starts: the process managers, the relay, the read models, retention, the notifier.
//!
//! [`Application::build_as`]: crate::startup::app::Application::build_as

use std::time::Duration;

use commands::checkout::Checkout;
use commands::handler::CommandHandler;

use crate::startup::app::Application;
use crate::startup::error::StartupError;

/// How many aggregate states each of the saga's command handlers keeps cached.
const STATE_CACHE_CAPACITY: u64 = 100_000;

/// The checkout saga's task and lease name.
pub const CHECKOUT_SAGA: &str = "checkout saga";
/// The reservation expiry's task and lease name.
pub const RESERVATION_EXPIRY: &str = "reservation expiry";
/// The retention pass's task and lease name.
pub const RETENTION: &str = "retention";
/// The cart expiry's task and lease name.
pub const CART_EXPIRY: &str = "cart expiry";
/// The price-rule scheduler's task and lease name.
pub const PRICE_SCHEDULE: &str = "price schedule";
/// The vendor ledger's process manager's task and lease name.
pub const VENDOR_LEDGER: &str = projections::ledger_process::NAME;

impl Application {
    /// Adds the process managers: the checkout saga, the reservation expiry, the cart
    /// expiry (`projections::cart_expiry`), the price-rule scheduler
    /// (`projections::price_schedule`) and the vendor ledger
    /// (`projections::ledger_process`), each run
    /// only while this process holds its lease (`commands::lease`), so that any number of
    /// copies run each step once: one copy runs a manager, the others stand by and take
    /// over when it goes.
    pub fn with_process_managers(self) -> Self {
        let state = self.state();
        // The saga reads and writes the log as the command side does: opened and sealed.
        let store = state.handlers.store.clone();
        let saga = Checkout::new(
            store.clone(),
            state.pool.clone(),
            CommandHandler::new(store.clone(), STATE_CACHE_CAPACITY),
            CommandHandler::new(store, STATE_CACHE_CAPACITY),
            state.config.reservation_ttl,
        )
        .releasing_coupons(state.handlers.clone());
        let expiry = saga.clone();
        let (handlers, pool) = (state.handlers.clone(), state.pool.clone());
        let (cart_ttl, cart_every) = (state.config.cart_ttl(), state.config.cart_expiry_interval);
        let (rule_handlers, rule_pool) = (state.handlers.clone(), state.pool.clone());
        let rule_every = state.config.price_schedule_interval;
        let (ledger_handlers, ledger_pool) = (state.handlers.clone(), state.pool.clone());
        self.with_leased_task(CHECKOUT_SAGA, move |stop| saga.clone().follow(stop))
            .with_leased_task(RESERVATION_EXPIRY, move |stop| expiry.clone().expire(stop))
            .with_leased_task(CART_EXPIRY, move |stop| {
                projections::cart_expiry::run(
                    handlers.clone(),
                    pool.clone(),
                    cart_ttl,
                    cart_every,
                    stop,
                )
            })
            .with_leased_task(PRICE_SCHEDULE, move |stop| {
                projections::price_schedule::run(
                    rule_handlers.clone(),
                    rule_pool.clone(),
                    rule_every,
                    stop,
                )
            })
            .with_leased_task(VENDOR_LEDGER, move |stop| {
                projections::ledger_process::run(ledger_handlers.clone(), ledger_pool.clone(), stop)
            })
    }

    /// Adds the relay, publishing `$all` to JetStream, when NATS is configured; without
    /// NATS there is nothing to relay to (projections then follow the store in process).
    pub fn with_relay(self) -> Self {
        let Some(client) = self.state().nats.clone() else {
            tracing::info!("NATS_URL is not set; no relay runs");
            return self;
        };
        let relay = projections::relay::Relay::new(
            self.state().store.clone(),
            self.state().pool.clone(),
            async_nats::jetstream::new(client),
            self.jetstream_config(),
        );
        self.with_task("relay", move |stop| relay.run(stop))
    }

    fn jetstream_config(&self) -> projections::jetstream::JetStreamConfig {
        projections::jetstream::JetStreamConfig::new(
            self.state().config.nats_stream.clone(),
            self.state().config.nats_subject_prefix.clone(),
        )
    }

    /// Adds one worker per read model and the monitor that measures their lag. With NATS
    /// configured each worker follows its JetStream consumer (the store filling any gap);
    /// without, it follows the store's `$all` in process.
    pub fn with_projections(mut self) -> Self {
        let (store, pool) = (self.state().store.clone(), self.state().pool.clone());
        let names = projections::all().iter().map(|p| p.name()).collect();
        let jetstream = self.state().nats.clone().map(async_nats::jetstream::new);
        let jetstream_config = self.jetstream_config();
        // One announcer for every runner: their checkpoint moves go out in one statement.
        let announcer = projections::checkpoint::announcements::Announcer::new(pool.clone());
        for projection in projections::all() {
            let runner = projections::Runner::with_announcer(
                store.clone(),
                pool.clone(),
                projection,
                announcer.clone(),
            )
            .with_keys(self.state().handlers.keys.clone());
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

    /// Adds the retention pass (`projections::retention`): at start, then every
    /// `RETENTION_INTERVAL`, client data and delivered messages' content past their window
    /// are cleared from the read models, and what was removed is reported. It runs beside
    /// the read models it clears, in one copy at a time (a lease): a second copy would only
    /// find nothing to do and report it.
    pub fn with_retention(self) -> Result<Self, StartupError> {
        let config = &self.state().config;
        let retention = config.retention()?;
        let (pool, every) = (self.state().pool.clone(), config.retention_interval);
        Ok(self.with_leased_task(RETENTION, move |stop| {
            projections::retention::run(pool.clone(), retention, every, stop)
        }))
    }

    /// Adds the notification worker: it delivers the `notifications` outbox through SMTP
    /// when `settings.smtp_url` is set, else to the server's log, links included (a warning
    /// at start says so). It takes no lease: each message is claimed through its own stream
    /// before it is sent, so several copies share the outbox and none sends a message
    /// another claimed.
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
            self.state().store.clone(),
            self.state().pool.clone(),
            crate::auth::email_tokens(self.state()),
            transport,
            settings,
        );
        Ok(self.with_task("notification worker", move |stop| worker.run(stop)))
    }
}
