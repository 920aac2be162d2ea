//! `rebuild` and the read-model half of `verify`: both replay a projection from the store,
//! showing progress as a bar on a terminal and as plain lines otherwise.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use commands::store::EventStore;
use indicatif::{ProgressBar, ProgressStyle};
use projections::rebuild::Progress;
use projections::Projection;
use sqlx::PgPool;

use crate::UmctlError;

/// The projections a command names: one by name, or all of them.
pub fn select(name: Option<&str>, all: bool) -> Result<Vec<Arc<dyn Projection>>, UmctlError> {
    let known = || {
        projections::all()
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (name, all) {
        (Some(_), true) => Err(UmctlError::BadArgument(
            "name a projection or pass --all, not both".into(),
        )),
        (None, false) => Err(UmctlError::BadArgument(format!(
            "name a projection ({}) or pass --all",
            known()
        ))),
        (None, true) => Ok(projections::all()),
        (Some(n), false) => projections::by_name(n).map(|p| vec![p]).ok_or_else(|| {
            UmctlError::NotFound(format!(
                "no projection called {n:?}; there are: {}",
                known()
            ))
        }),
    }
}

/// Progress of one replay: a bar with rate and ETA on a terminal, a line every two
/// seconds elsewhere (logs, CI).
pub struct Reporter {
    name: &'static str,
    bar: Option<ProgressBar>,
    last_line: Instant,
}

impl Reporter {
    pub fn new(name: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>12} [{bar:30}] {percent:>3}% {msg} eta {eta}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(name);
            bar
        });
        Reporter {
            name,
            bar,
            last_line: Instant::now(),
        }
    }

    pub fn update(&mut self, p: &Progress) {
        // $all positions grow with the log in both stores (PostgreSQL's event sequence,
        // EventStoreDB's log offset), so the head's share of them measures the work.
        let rate = p.events as f64 / p.elapsed.as_secs_f64().max(1e-3);
        let done = p.position.prepare.min(p.head.prepare);
        match &self.bar {
            Some(bar) => {
                bar.set_length(p.head.prepare.max(1));
                bar.set_position(done);
                bar.set_message(format!("{} events, {rate:.0} events/s", p.events));
            }
            None if self.last_line.elapsed() >= Duration::from_secs(2) => {
                let pct = 100.0 * done as f64 / p.head.prepare.max(1) as f64;
                eprintln!(
                    "umctl: {}: {} events, {rate:.0} events/s, {pct:.0}%",
                    self.name, p.events
                );
                self.last_line = Instant::now();
            }
            None => {}
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Rebuilds each projection in turn (into a shadow schema, swapped in when complete).
pub async fn rebuild(
    store: Arc<dyn EventStore>,
    pool: &PgPool,
    selected: Vec<Arc<dyn Projection>>,
    out: &mut impl Write,
) -> Result<(), UmctlError> {
    for projection in selected {
        let name = projection.name();
        let mut reporter = Reporter::new(name);
        let report = projections::rebuild::rebuild(store.clone(), pool, projection, &mut |p| {
            reporter.update(p)
        })
        .await
        .map_err(|e| UmctlError::Failed(format!("rebuilding {name}: {e}")))?;
        reporter.finish();
        writeln!(
            out,
            "{name}: rebuilt from {} events in {:.1}s ({:.0} events/s), swapped in at {}",
            report.events,
            report.elapsed.as_secs_f64(),
            report.events_per_second(),
            report.position
        )?;
    }
    Ok(())
}

/// Replays each read model into a scratch schema and compares it with the live tables.
/// Prints each table's checksums; answers how many read models differ.
pub async fn verify(
    store: Arc<dyn EventStore>,
    pool: &PgPool,
    out: &mut impl Write,
) -> Result<usize, UmctlError> {
    let mut differing = 0;
    for projection in projections::all() {
        let name = projection.name();
        let mut reporter = Reporter::new(name);
        let check = projections::rebuild::verify(store.clone(), pool, projection, &mut |p| {
            reporter.update(p)
        })
        .await
        .map_err(|e| UmctlError::Failed(format!("replaying {name}: {e}")))?;
        reporter.finish();
        let verdict = match (&check.live, check.matches()) {
            (None, _) => "no live tables here; replay checksums",
            (Some(_), true) => "live tables match a fresh replay",
            (Some(_), false) => "LIVE TABLES DIFFER from a fresh replay",
        };
        writeln!(out, "read model {name} at {}: {verdict}", check.position)?;
        for (i, t) in check.replayed.iter().enumerate() {
            let live = check.live.as_ref().and_then(|l| l.get(i));
            let mark = match live {
                Some(l) if l == t => "",
                Some(_) => "  <- differs",
                None => "",
            };
            writeln!(
                out,
                "  {name}.{:<24} {:>9} rows  checksum {}{mark}",
                t.table, t.rows, t.portable_md5
            )?;
        }
        if !check.matches() {
            differing += 1;
        }
    }
    Ok(differing)
}
