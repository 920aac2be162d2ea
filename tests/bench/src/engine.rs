//! The real engine in process for an HTTP bench: the `Application` on a database of the
//! bench's own, every role running (projections, process managers), the rate limit off.

use std::net::SocketAddr;

use gateway::config::{Config, Secret};
use gateway::startup::error::StartupError;
use gateway::startup::Application;
use gateway::state::AppState;
use tokio::sync::oneshot;

/// One engine, running until [`Engine::stop`].
pub struct Engine {
    pub state: AppState,
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    running: tokio::task::JoinHandle<Result<(), StartupError>>,
}

impl Engine {
    /// Builds and starts the engine on `database_url`, listening on a free port.
    pub async fn start(database_url: &str) -> anyhow::Result<Engine> {
        let jwt_secret = Secret::random();
        let config = Config::from_args_ignoring_env([
            "ultramarket",
            "--database-url",
            database_url,
            "--bind",
            "127.0.0.1:0",
            "--rate-limit-per-minute",
            "0",
            "--jwt-secret",
            jwt_secret.expose(),
        ])?;
        let app = Application::build(config)
            .await?
            .with_process_managers()
            .with_projections();
        let state = app.state().clone();
        let addr = app.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        Ok(Engine {
            state,
            addr,
            stop,
            running,
        })
    }

    /// Stops the engine and waits for it to drain.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.running.await??;
        Ok(())
    }
}
