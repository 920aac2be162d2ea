//! `keys status` and `keys rotate`: the data keys of crypto-shredding (ADR 0005), which
//! live in PostgreSQL wrapped by the master key, whatever the event store.
//!
//! A rotation re-wraps every data key under the new master key; the log is not touched,
//! since its envelopes are sealed with the data keys, which stay the same. Rotating away
//! from the embedded default (no `MASTER_KEY` before) also deletes the embedded key once
//! nothing depends on it, so the database no longer holds what opens its own keys.

use std::io::Write;

use commands::privacy::{DataKeys, MasterKey};
use sqlx::PgPool;

use crate::UmctlError;

fn bad_key(e: impl std::fmt::Display) -> UmctlError {
    UmctlError::BadArgument(e.to_string())
}

/// A master key given as base64 on the command line or in the environment.
pub fn parse(name: &str, text: Option<&str>) -> Result<Option<MasterKey>, UmctlError> {
    text.map(|t| MasterKey::from_base64(t).map_err(|e| bad_key(format!("{name}: {e}"))))
        .transpose()
}

async fn require_tables(pool: &PgPool) -> Result<(), UmctlError> {
    let present: bool = sqlx::query_scalar("select to_regclass('privacy.data_keys') is not null")
        .fetch_one(pool)
        .await
        .map_err(|e| UmctlError::Unreachable(e.to_string()))?;
    if present {
        Ok(())
    } else {
        Err(UmctlError::NotFound(
            "this database has no data keys table yet: start the engine once to migrate it".into(),
        ))
    }
}

/// Prints which master key is in force, how many data keys each master key wraps, and
/// how many subjects are erased.
pub async fn status(
    pool: &PgPool,
    configured: Option<MasterKey>,
    out: &mut impl Write,
) -> Result<(), UmctlError> {
    require_tables(pool).await?;
    let embedded = MasterKey::embedded_if_any(pool).await?;
    let (master, source) = match (&configured, &embedded) {
        (Some(m), _) => (Some(m.clone()), "MASTER_KEY"),
        (None, Some(e)) => (Some(e.clone()), "embedded in the database"),
        (None, None) => (None, "none yet"),
    };
    match &master {
        Some(m) => writeln!(out, "master key: {} ({source})", m.id())?,
        None => writeln!(
            out,
            "master key: none yet (made at the engine's first start)"
        )?,
    }
    if let (Some(_), Some(e)) = (&configured, &embedded) {
        writeln!(
            out,
            "embedded key {} is still in the database: `umctl keys rotate` moves its keys \
             to MASTER_KEY and deletes it",
            e.id()
        )?;
    }
    let Some(master) = master else {
        return Ok(());
    };
    let keys = DataKeys::new(pool.clone(), master.clone(), None);
    let status = keys.status().await?;
    writeln!(out, "{:<18} {:>10}  note", "wrapped by", "data keys")?;
    for (id, n) in &status.live {
        let note = if *id == master.id() {
            "in force"
        } else if embedded.as_ref().is_some_and(|e| e.id() == id) {
            "the embedded key: rotate"
        } else {
            "another key: rotate with it as MASTER_KEY_PREVIOUS"
        };
        writeln!(out, "{id:<18} {n:>10}  {note}")?;
    }
    writeln!(out, "erased subjects: {}", status.erased)?;
    Ok(())
}

/// Re-wraps every data key under `new`, from `previous` (or the embedded key); prints how
/// many, and answers it.
pub async fn rotate(
    pool: &PgPool,
    new: Option<MasterKey>,
    previous: Option<MasterKey>,
    out: &mut impl Write,
) -> Result<u64, UmctlError> {
    require_tables(pool).await?;
    let new = new.ok_or_else(|| {
        UmctlError::BadArgument(
            "keys rotate needs the new key as MASTER_KEY (and the old one as \
             MASTER_KEY_PREVIOUS, unless it is the embedded default)"
                .into(),
        )
    })?;
    let from_embedded = previous.is_none();
    let previous = match previous {
        Some(p) => Some(p),
        None => MasterKey::embedded_if_any(pool).await?,
    };
    let Some(previous) = previous.filter(|p| p.id() != new.id()) else {
        writeln!(
            out,
            "nothing to rotate: every data key is under {}",
            new.id()
        )?;
        return Ok(0);
    };
    let keys = DataKeys::new(pool.clone(), new.clone(), Some(previous.clone()));
    let n = keys.rotate().await?;
    writeln!(
        out,
        "re-wrapped {n} data keys from {} to {}",
        previous.id(),
        new.id()
    )?;
    if from_embedded && MasterKey::forget_embedded(pool).await? {
        writeln!(
            out,
            "deleted the embedded key {}: every process must now run with MASTER_KEY",
            previous.id()
        )?;
    }
    Ok(n)
}
