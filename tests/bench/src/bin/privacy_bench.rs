//! `privacy-bench`: what sealing personal data costs (issue 20, ADR 0005): append and
//! rebuild rates with encryption on and off, side by side.
//!
//! ```sh
//! cargo run --release -p bench --bin privacy-bench
//! ```
//!
//! Two databases of its own, one written plain and one through the sealing store
//! (`commands::privacy::Sealed`), filled in alternating rounds by the same writers:
//!
//! 1. Registrations: one `UserRegistered` per new person (an e-mail and two names sealed,
//!    and the client's address and agent in the metadata). Sealed, each costs a data key
//!    made and stored: the worst case.
//! 2. Registrations as `commands::accounts` writes them: the password hash kept, then
//!    `UserRegistered`; sealed, the key is made while the hash is kept.
//! 3. Known people: an `AddressAdded` for each of them (an address and a label sealed, and
//!    the metadata), whose key is cached by then: the usual case of a shop's traffic.
//! 4. Rebuild of the `users` read model from each log, alternating: sealed, every event is
//!    opened on the way, the keys fetched a page at a time.
//!
//! It works in databases of its own, created and dropped here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bench::scratch::with_scratch_database;
use chrono::Utc;
use clap::Parser;
use commands::accounts::Credentials;
use commands::database::MIGRATOR;
use commands::privacy::{DataKeys, Sealed};
use commands::store::postgres::PgEventStore;
use commands::store::{EventStore, ExpectedVersion, NewEvent};
use domain::aggregate::DomainEvent;
use domain::id::{AddressId, CredentialId, UserId};
use domain::user::{Role, UserEvent};
use domain::value::{Address, Email};
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Parser)]
struct Args {
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// People registered per round (each then adds an address).
    #[arg(long, default_value_t = 4_000)]
    people: usize,
    /// Rounds of each, alternating plain and sealed.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Concurrent writers.
    #[arg(long, default_value_t = 16)]
    writers: usize,
}

/// A password hash's shape; its value does not matter here.
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hzYWx0$YmVuY2hoYXNoYmVuY2hoYXNoYmVuY2g";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server: PgConnectOptions = args.database_url.parse().context("DATABASE_URL")?;
    let inner = server.clone();
    with_scratch_database(&server, "privacy_bench_plain", |plain| async move {
        with_scratch_database(&inner, "privacy_bench_sealed", |sealed| async move {
            run(&args, plain, sealed).await
        })
        .await
    })
    .await
}

struct Log {
    pool: PgPool,
    store: Arc<dyn EventStore>,
    /// The store the writers append through: the log itself, or the sealing one over it.
    writer: Arc<dyn EventStore>,
    /// The sealing store's keys.
    keys: Option<Arc<DataKeys>>,
    credentials: Credentials,
}

async fn open(options: PgConnectOptions, sealed: bool) -> anyhow::Result<Log> {
    let pool = commands::database::pool_options()
        .max_connections(32)
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await?;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    let keys = match sealed {
        true => Some(Arc::new(DataKeys::start(pool.clone(), None, None).await?)),
        false => None,
    };
    let writer = match &keys {
        Some(keys) => Arc::new(Sealed::new(store.clone(), keys.clone())) as Arc<dyn EventStore>,
        None => store.clone(),
    };
    Ok(Log {
        credentials: Credentials::new(pool.clone()),
        pool,
        store,
        writer,
        keys,
    })
}

fn metadata(person: Uuid) -> serde_json::Value {
    json!({
        "command_id": Uuid::new_v4(), "correlation_id": Uuid::new_v4(),
        "causation_id": Uuid::new_v4(), "actor_id": person, "actor_role": "customer",
        "occurred_at": Utc::now(), "schema_version": 2,
        "client_ip": "203.0.113.9", "user_agent": "Mozilla/5.0 (bench)",
    })
}

fn registered(person: Uuid) -> anyhow::Result<NewEvent> {
    let e = UserEvent::UserRegistered {
        user_id: UserId::new(person),
        email: Email::parse(&format!("p{}@bench.example.com", person.simple()))?,
        credential: CredentialId::new(Uuid::new_v4()),
        first_name: Some("Bench".into()),
        last_name: Some("Person".into()),
        role: Role::Customer,
        at: Utc::now(),
    };
    Ok(NewEvent {
        id: Uuid::new_v4(),
        event_type: e.event_type().into(),
        schema_version: e.schema_version(),
        data: e.to_data(),
        metadata: metadata(person),
    })
}

fn address_added(person: Uuid) -> anyhow::Result<NewEvent> {
    let address: Address = serde_json::from_value(json!({
        "name": "Bench Person", "line1": "1 Bench Street", "city": "Benchville",
        "postal_code": "B3 NCH", "country": "GB",
    }))?;
    let e = UserEvent::AddressAdded {
        address_id: AddressId::new(Uuid::new_v4()),
        label: Some("home".into()),
        address,
    };
    Ok(NewEvent {
        id: Uuid::new_v4(),
        event_type: e.event_type().into(),
        schema_version: e.schema_version(),
        data: e.to_data(),
        metadata: metadata(person),
    })
}

/// What each writer does per person.
#[derive(Clone, Copy, PartialEq)]
enum Step {
    /// `UserRegistered` alone.
    Register,
    /// As the registration use case: the password hash kept (and, sealed, the key made
    /// alongside), then `UserRegistered`.
    RegisterAsTheUseCase,
    /// `AddressAdded` to a registered person.
    AddAddress,
}

/// Appends one event per person, `writers` at a time; events per second.
async fn append(log: &Log, people: &[Uuid], writers: usize, step: Step) -> anyhow::Result<f64> {
    let started = Instant::now();
    let chunks: Vec<Vec<Uuid>> = people
        .chunks(people.len().div_ceil(writers))
        .map(<[Uuid]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let writer = log.writer.clone();
        let (keys, credentials) = (log.keys.clone(), log.credentials.clone());
        tasks.push(tokio::spawn(async move {
            for person in chunk {
                let stream = format!("user-{person}");
                if step == Step::RegisterAsTheUseCase {
                    let keep = credentials.keep(person, HASH);
                    match &keys {
                        Some(keys) => {
                            let (kept, made) = tokio::join!(keep, keys.for_sealing(person));
                            kept?;
                            made?;
                        }
                        None => {
                            keep.await?;
                        }
                    }
                }
                let (expected, event) = match step {
                    Step::Register | Step::RegisterAsTheUseCase => {
                        (ExpectedVersion::NoStream, registered(person)?)
                    }
                    Step::AddAddress => (ExpectedVersion::Exact(0), address_added(person)?),
                };
                writer.append(&stream, expected, vec![event]).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(people.len() as f64 / started.elapsed().as_secs_f64())
}

async fn rebuild(log: &Log, sealed: bool) -> anyhow::Result<(u64, Duration)> {
    let store = if sealed {
        log.writer.clone()
    } else {
        log.store.clone()
    };
    let users = projections::by_name("users").context("the users read model")?;
    let report = projections::rebuild::rebuild(store, &log.pool, users, &mut |_| {}).await?;
    Ok((report.events, report.elapsed))
}

async fn run(args: &Args, plain: PgConnectOptions, sealed: PgConnectOptions) -> anyhow::Result<()> {
    let logs = [open(plain, false).await?, open(sealed, true).await?];
    let names = ["plain", "sealed"];
    let mut rates: [[Vec<f64>; 3]; 2] = Default::default();
    for round in 0..args.rounds {
        // Alternating which goes first, so neither always meets a warmer machine.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        let people: Vec<Uuid> = (0..args.people).map(|_| Uuid::new_v4()).collect();
        let others: Vec<Uuid> = (0..args.people).map(|_| Uuid::new_v4()).collect();
        for (i, (step, who)) in [
            (Step::Register, &people),
            (Step::RegisterAsTheUseCase, &others),
            (Step::AddAddress, &people),
        ]
        .into_iter()
        .enumerate()
        {
            for &which in &order {
                rates[which][i].push(append(&logs[which], who, args.writers, step).await?);
            }
        }
        eprintln!("round {} of {} appended", round + 1, args.rounds);
    }
    println!(
        "| append ({} writers) | plain (events/s) | sealed (events/s) | sealed ÷ plain |",
        args.writers
    );
    println!("| --- | --- | --- | --- |");
    for (i, what) in [
        "registrations: `UserRegistered` alone, a key made for each",
        "registrations as the use case writes them: the hash kept, then the event (sealed: the key made alongside)",
        "known people: `AddressAdded`, the key cached",
    ]
    .iter()
    .enumerate()
    {
        let (p, s) = (median(&rates[0][i]), median(&rates[1][i]));
        println!("| {what} | {p:.0} | {s:.0} | {:.2} |", s / p);
    }
    let mut rebuilds = [Vec::new(), Vec::new()];
    let mut events = 0;
    for round in 0..args.rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let (n, took) = rebuild(&logs[which], which == 1).await?;
            events = n;
            rebuilds[which].push(n as f64 / took.as_secs_f64());
            eprintln!(
                "rebuilt users from the {} log: {n} events in {took:?}",
                names[which]
            );
        }
    }
    let (p, s) = (median(&rebuilds[0]), median(&rebuilds[1]));
    println!();
    println!("| rebuild of `users` ({events} events) | plain (events/s) | sealed (events/s) | sealed ÷ plain |");
    println!("| --- | --- | --- | --- |");
    println!(
        "| median of {} | {p:.0} | {s:.0} | {:.2} |",
        args.rounds,
        s / p
    );
    Ok(())
}

fn median(xs: &[f64]) -> f64 {
    let mut xs = xs.to_vec();
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}
