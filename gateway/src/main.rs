//! `ultramarket`: read the configuration, build the engine, run it.

use clap::Parser;
use gateway::config::{Cli, Command};
use gateway::startup::{connect_database, migrate, shutdown_signal, Application};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into());
    if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => {
            let pool = connect_database(&cli.config.database_url).await?;
            migrate(&pool).await?;
            tracing::info!("migrations applied");
        }
        Command::Serve => {
            let app = Application::build(cli.config).await?;
            tracing::info!("UltraMarket listening on http://{}", app.local_addr());
            app.run_until_stopped(shutdown_signal()).await?;
        }
    }
    Ok(())
}
