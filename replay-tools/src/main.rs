//! `umctl`: see `umctl --help`.

use std::io::{BufReader, Write};

use clap::Parser;
use replay_tools::chain::ChainKey;
use replay_tools::cli::{Cli, Command, ExitCode, KeysAction, MasterKeyArgs, RetentionAction};
use replay_tools::connect::{open_read_models, open_store, Schema};
use replay_tools::history::{parse_time, AsOf};
use replay_tools::personal::{self, Disclosure};
use replay_tools::transfer::{CheckedImport, Trust};
use replay_tools::{
    audit, history, inspect, keys, rebuild, retention, transfer, verify, UmctlError,
};
use std::path::Path;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::from(ExitCode::Success as u8),
        Err(e) => {
            eprintln!("umctl: {e}");
            std::process::ExitCode::from(e.exit_code() as u8)
        }
    }
}

async fn run(cli: Cli) -> Result<(), UmctlError> {
    // Before any read model is built: a rebuild writes what the engine's policy keeps.
    let policy = retention::policy(&cli.retention)?;
    projections::retention::set_in_force(policy);
    if let Command::Retention {
        action: RetentionAction::Run,
    } = &cli.command
    {
        let pool = open_read_models(&cli.database_url, Schema::Migrate).await?;
        return retention::run(&pool, policy, &mut std::io::stdout().lock()).await;
    }
    if let Command::Verify {
        export: Some(file),
        key,
        ..
    } = &cli.command
    {
        return verify_export(file, key.key.clone());
    }
    if let Command::Keys { action } = &cli.command {
        return keys_command(&cli.database_url, &cli.master, action).await;
    }
    // An import is checked to the end of its file before the store is opened (and
    // migrated): a refused export leaves the target as it was.
    let import = match &cli.command {
        Command::Import {
            file,
            key,
            allow_unchained,
        } => Some(CheckedImport::open(
            file,
            Trust {
                key: key.key.clone(),
                allow_unchained: *allow_unchained,
            },
        )?),
        _ => None,
    };
    let schema = match cli.command {
        Command::Import { .. } | Command::Rebuild { .. } => Schema::Migrate,
        _ => Schema::MustExist,
    };
    let store = open_store(&cli.database_url, cli.eventstore_url.as_deref(), schema).await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Command::Streams {
            category,
            prefix,
            limit,
            format,
        } => {
            inspect::streams(
                &*store,
                category.as_deref(),
                prefix.as_deref(),
                limit,
                format,
                &mut out,
            )
            .await
        }
        Command::Read {
            stream,
            from,
            backwards,
            limit,
            format,
            reveal,
        } => {
            let disclosure = Disclosure::asked(reveal, &cli.database_url, &cli.master).await?;
            inspect::read(
                &*store,
                &stream,
                from,
                backwards,
                limit,
                format,
                &disclosure,
                &mut out,
            )
            .await
        }
        Command::Tail {
            event_type,
            category,
            from,
            count,
            format,
            reveal,
        } => {
            let disclosure = Disclosure::asked(reveal, &cli.database_url, &cli.master).await?;
            inspect::tail(
                &*store,
                event_type.as_deref(),
                category.as_deref(),
                from.as_deref(),
                count,
                format,
                &disclosure,
                &mut out,
            )
            .await
        }
        Command::State {
            stream,
            at_version,
            at_time,
            reveal,
        } => {
            let disclosure = Disclosure::asked(reveal, &cli.database_url, &cli.master).await?;
            let as_of = match (at_version, at_time) {
                (Some(v), _) => AsOf::Version(v),
                (None, Some(t)) => AsOf::Time(parse_time(&t)?),
                (None, None) => AsOf::Latest,
            };
            history::state(&*store, &stream, as_of, &disclosure, &mut out).await
        }
        Command::Diff {
            stream,
            v1,
            v2,
            reveal,
        } => {
            let disclosure = Disclosure::asked(reveal, &cli.database_url, &cli.master).await?;
            history::diff(&*store, &stream, v1, v2, &disclosure, &mut out).await
        }
        Command::Audit {
            actor,
            correlation,
            event_type,
            from,
            to,
            format,
            reveal,
        } => {
            let disclosure = Disclosure::asked(reveal, &cli.database_url, &cli.master).await?;
            let filter = audit::AuditFilter {
                actor,
                correlation,
                event_type,
                from: from.as_deref().map(parse_time).transpose()?,
                to: to.as_deref().map(parse_time).transpose()?,
            };
            let n = audit::audit(&*store, &filter, format, &disclosure, &mut out).await?;
            eprintln!("umctl: {n} events");
            Ok(())
        }
        Command::Verify {
            schemas, log_only, ..
        } => {
            let report = verify::verify(&*store, schemas.as_deref(), &mut out).await?;
            if !report.problems.is_empty() {
                return Err(UmctlError::VerifyFailed(format!(
                    "{} problems in {} events of {} streams",
                    report.problems.len(),
                    report.events,
                    report.streams
                )));
            }
            if log_only {
                return Ok(());
            }
            let pool = open_read_models(&cli.database_url, Schema::MustExist).await?;
            // The live read models were built from opened events: so is their replay.
            let keys = personal::data_keys(&pool, &cli.master).await?;
            match rebuild::verify(personal::opened(store, keys), &pool, &mut out).await? {
                0 => Ok(()),
                n => Err(UmctlError::VerifyFailed(format!(
                    "{n} read models differ from a fresh replay"
                ))),
            }
        }
        Command::Rebuild { projection, all } => {
            let selected = rebuild::select(projection.as_deref(), all)?;
            let pool = open_read_models(&cli.database_url, Schema::Migrate).await?;
            let keys = personal::data_keys(&pool, &cli.master).await?;
            rebuild::rebuild(personal::opened(store, keys), &pool, selected, &mut out).await
        }
        Command::Export { from, key } => {
            let after = match from {
                Some(f) => inspect::parse_position(&f)?,
                None => commands::store::Position::START,
            };
            let keyed = if key.key.is_some() { ", keyed" } else { "" };
            let n = transfer::export(&*store, after, key.key, &mut out).await?;
            out.flush()?;
            eprintln!("umctl: exported {n} events (hash-chained{keyed})");
            Ok(())
        }
        Command::Keys { .. } | Command::Retention { .. } => {
            unreachable!("handled before the store is opened")
        }
        Command::Import { file, .. } => {
            let import = import.expect("checked above");
            let checked = import.into_store(&*store).await?;
            if !checked.chained {
                eprintln!(
                    "umctl: WARNING: {} has no hash chain; its {} events were imported on trust, unchecked",
                    file.display(),
                    checked.events
                );
            }
            eprintln!("umctl: imported {} events", checked.events);
            Ok(())
        }
    }
}

/// `verify --export FILE`: the file alone, no store.
fn verify_export(file: &Path, key: Option<ChainKey>) -> Result<(), UmctlError> {
    let f = std::fs::File::open(file)
        .map_err(|e| UmctlError::NotFound(format!("cannot open {}: {e}", file.display())))?;
    let trust = Trust {
        key,
        allow_unchained: false,
    };
    let checked = transfer::check(BufReader::new(f), &trust)?;
    let keyed = if checked.keyed { "keyed" } else { "unkeyed" };
    println!(
        "ok: {} events; the {keyed} hash chain and the trailer match, every stream is gapless",
        checked.events
    );
    Ok(())
}

/// `keys status` and `keys rotate`: the data keys are in PostgreSQL whatever the store.
async fn keys_command(
    database_url: &str,
    master: &MasterKeyArgs,
    action: &KeysAction,
) -> Result<(), UmctlError> {
    let current = keys::parse("MASTER_KEY", master.master_key.as_deref())?;
    let previous = keys::parse("MASTER_KEY_PREVIOUS", master.master_key_previous.as_deref())?;
    let pool = open_read_models(database_url, Schema::MustExist).await?;
    let mut out = std::io::stdout().lock();
    match action {
        KeysAction::Status => keys::status(&pool, current, &mut out).await,
        KeysAction::Rotate => keys::rotate(&pool, current, previous, &mut out)
            .await
            .map(|_| ()),
    }
}
