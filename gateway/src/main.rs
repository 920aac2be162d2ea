//! `ultramarket`: read the configuration, set up logging, build the engine, run it.

use std::io::IsTerminal;
use std::net::SocketAddr;

use clap::Parser;
use gateway::config::{Cli, Command, LogFormat, Secret};
use gateway::seed::{demo_admin, seed_demo, DemoAdmin};
use gateway::startup::{migrate_database, shutdown_signal, Application, Role};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            // Every role in one process; the relay only when NATS_URL is set.
            let notifier = cli.config.notifier.clone();
            Application::build_as(Role::Serve, cli.config)
                .await?
                .with_process_managers()
                .with_relay()
                .with_projections()
                .with_retention()?
                .with_notifier(notifier)?
                .run_until_stopped(shutdown_signal())
                .await?;
        }
        Command::Relay => {
            anyhow::ensure!(
                cli.config.nats_url.is_some(),
                "`ultramarket relay` needs NATS_URL (nats://127.0.0.1:4222); start one with `nats-server -js`"
            );
            Application::build_as(Role::Relay, cli.config)
                .await?
                .with_relay()
                .run_until_stopped(shutdown_signal())
                .await?;
        }
        Command::Project => {
            Application::build_as(Role::Project, cli.config)
                .await?
                .with_projections()
                .with_retention()?
                .run_until_stopped(shutdown_signal())
                .await?;
        }
        Command::Process => {
            let notifier = cli.config.notifier.clone();
            Application::build_as(Role::Process, cli.config)
                .await?
                .with_process_managers()
                .with_notifier(notifier)?
                .run_until_stopped(shutdown_signal())
                .await?;
        }
        Command::Gateway => {
            Application::build_as(Role::Gateway, cli.config)
                .await?
                .run_until_stopped(shutdown_signal())
                .await?;
        }
        Command::Migrate => {
            migrate_database(&cli.config).await?;
            tracing::info!("migrations applied");
        }
        Command::SeedDemo => {
            let mut config = cli.config;
            let console = format!("http://{}/admin", config.bind);
            // The engine is built only for its store and command handlers: a port of its
            // own keeps it clear of a server already running on BIND, and a throwaway
            // secret spares the warning about tokens nobody will be issued.
            config.bind = SocketAddr::from(([127, 0, 0, 1], 0));
            config.jwt_secret.get_or_insert_with(Secret::random);
            let app = Application::build(config).await?;
            let report = seed_demo(app.state()).await?;
            let admin = demo_admin(app.state()).await?;
            app.state().pool.close().await;
            let verdict = if report.found_existing() {
                "found the demo catalog already seeded"
            } else {
                "demo catalog seeded"
            };
            tracing::info!(
                "{verdict}: {} categories, {} products, {} SKUs; {} events appended",
                report.categories,
                report.products,
                report.skus,
                report.events_appended
            );
            match admin {
                DemoAdmin::Created { email, password } => tracing::info!(
                    "the console is at {console} (where `serve` listens): sign in as {email} \
                     with the password {password}; it is shown this once"
                ),
                DemoAdmin::Existed { email } => tracing::info!(
                    "the console is at {console}: sign in as {email} with the password the \
                     first seed-demo printed"
                ),
                DemoAdmin::Configured { email } => tracing::info!(
                    "the console is at {console}: sign in as the bootstrap admin, {email}"
                ),
            }
        }
    }
    Ok(())
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into());
    match format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_span_list(false)
            .with_env_filter(filter)
            .init(),
        LogFormat::Pretty => tracing_subscriber::fmt()
            // Colour codes only for a terminal; a file or a pipe gets plain text.
            .with_ansi(std::io::stdout().is_terminal())
            .with_env_filter(filter)
            .init(),
    }
}
