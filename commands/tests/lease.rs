//! The process managers' lease against a real PostgreSQL: never two runners of one manager
//! at once, and a standby takes over when the holder stops or loses its session.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use commands::lease::{Lease, LeaseReport, LeaseState};
use sqlx::PgPool;
use tokio::sync::watch;

const PATIENCE: Duration = Duration::from_secs(30);

/// How many managers run now, and the most that ever ran at once.
#[derive(Default)]
struct Runners {
    now: AtomicUsize,
    most: AtomicUsize,
}

/// A copy of a process: a lease on `name` whose manager counts itself in `runners` while
/// it runs.
struct Copy {
    report: watch::Receiver<LeaseReport>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), String>>,
}

fn start(pool: &PgPool, name: &str, runners: &Arc<Runners>) -> Copy {
    let lease = Lease::new(pool, name);
    let report = lease.report();
    let (stop, stopped) = watch::channel(false);
    let runners = runners.clone();
    let task = tokio::spawn(lease.run(
        move |mut term: watch::Receiver<bool>| {
            let runners = runners.clone();
            async move {
                let now = runners.now.fetch_add(1, Ordering::SeqCst) + 1;
                runners.most.fetch_max(now, Ordering::SeqCst);
                let _ = term.wait_for(|s| *s).await;
                runners.now.fetch_sub(1, Ordering::SeqCst);
                Ok::<(), String>(())
            }
        },
        stopped,
    ));
    Copy { report, stop, task }
}

fn holds(copy: &Copy) -> bool {
    matches!(copy.report.borrow().state, LeaseState::Held { .. })
}

async fn until(what: &str, mut probe: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !probe() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[sqlx::test]
async fn one_copy_runs_a_manager_and_a_standby_takes_over_when_it_stops(pool: PgPool) {
    let runners = Arc::new(Runners::default());
    let first = start(&pool, "checkout saga", &runners);
    until("the first copy holds the lease", || holds(&first)).await;
    let second = start(&pool, "checkout saga", &runners);
    // Another manager's lease is its own: it runs beside the first.
    let other_runners = Arc::new(Runners::default());
    let other = start(&pool, "reservation expiry", &other_runners);
    until("another manager's lease is taken at once", || holds(&other)).await;

    // Several polls later the second copy still stands by and has never run the manager.
    tokio::time::sleep(commands::lease::POLL_EVERY * 4).await;
    assert!(holds(&first));
    assert_eq!(second.report.borrow().state, LeaseState::Waiting);
    assert_eq!(second.report.borrow().terms, 0);
    assert_eq!(runners.now.load(Ordering::SeqCst), 1);

    // The holder stops: its manager ends, and the standby takes over.
    first.stop.send(true).unwrap();
    first.task.await.unwrap().unwrap();
    until("the standby takes over", || holds(&second)).await;
    until("the standby's manager runs", || {
        runners.now.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(second.report.borrow().terms, 1);
    assert_eq!(runners.most.load(Ordering::SeqCst), 1, "never two at once");

    for copy in [second, other] {
        copy.stop.send(true).unwrap();
        copy.task.await.unwrap().unwrap();
    }
    assert_eq!(runners.now.load(Ordering::SeqCst), 0);
}

#[sqlx::test]
async fn a_holder_whose_session_dies_stops_before_the_standby_starts(pool: PgPool) {
    let runners = Arc::new(Runners::default());
    let first = start(&pool, "checkout saga", &runners);
    until("the first copy holds the lease", || holds(&first)).await;
    let second = start(&pool, "checkout saga", &runners);
    tokio::time::sleep(commands::lease::POLL_EVERY * 2).await;

    // The server ends the holder's session under it (a restart, an operator): the lock is
    // free at once, while the holder learns it only at its next ping.
    let ended: i64 = sqlx::query_scalar(
        "select count(*) from (select pg_terminate_backend(l.pid, 5000)
           from pg_locks l
          where l.locktype = 'advisory' and l.database = (select oid from pg_database
                                                            where datname = current_database())
            and l.granted) t",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ended, 1, "one session held the lease");

    until("the first copy stands by", || !holds(&first)).await;
    until("the lease runs again in one copy", || {
        holds(&first) || holds(&second)
    })
    .await;
    until("its manager runs", || {
        runners.now.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(
        runners.most.load(Ordering::SeqCst),
        1,
        "the old holder stopped before the new one started"
    );
    assert!(!(holds(&first) && holds(&second)));

    for copy in [first, second] {
        copy.stop.send(true).unwrap();
        copy.task.await.unwrap().unwrap();
    }
}
