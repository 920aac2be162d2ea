//! Password hashing under a bound: a fixed pool of argon2id threads fed through a bounded
//! queue.
//!
//! One argon2id hash (the crate's defaults, OWASP's minimum) needs 19 MiB and tens of
//! milliseconds of CPU. With nothing bounding them, 300 parallel logins took the process
//! from 21 MB to 5.8 GB resident, and glibc kept most of it afterwards: the 19 MiB buffers
//! land in per-thread malloc arenas that are never trimmed. So hashing runs on
//! `PASSWORD_HASH_THREADS` threads of its own, each with its argon2 memory allocated once
//! and reused for every hash: resident memory for hashing is at most threads × 19 MiB,
//! whatever the load. At most `PASSWORD_HASH_QUEUE` more requests wait; beyond that the
//! caller is told at once that the server is busy (503 with `Retry-After`) rather than
//! queued without end.
//!
//! A request that gives up while its hash is queued or running does not free its place
//! early: the thread finishes the work, so the bound holds even against clients that
//! disconnect.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::error::ApiError;

/// What a busy answer asks the client to wait: a hash takes tens of milliseconds, so a
/// full queue drains within a second or two.
pub const BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// The pool. Dropping it lets its threads end once the queue is empty.
pub struct PasswordHasher {
    jobs: SyncSender<Job>,
    threads: usize,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// `threads` hashing threads (0: one per core) and at most `queue` waiting requests.
    pub fn new(threads: usize, queue: usize) -> Arc<Self> {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let (jobs, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&rx))
                .expect("the OS starts a hashing thread");
        }
        Arc::new(PasswordHasher { jobs, threads })
    }

    /// Runs `f` on a hashing thread with that thread's argon2 memory; 503 `busy` when the
    /// queue is full.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = tx.send(f(memory));
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                metrics::counter!("password_hash_busy_total").increment(1);
                return Err(ApiError::Busy {
                    retry_after: BUSY_RETRY_AFTER,
                });
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::internal("the password hashing threads are gone"))
            }
        }
        rx.await
            .map_err(|_| ApiError::internal("a password hashing thread panicked"))
    }

    /// An argon2id PHC string of `password` with a fresh salt.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move |memory| hash_with(memory, &password))
            .await?
            .map_err(ApiError::internal)
    }

    /// Whether `password` matches `hash`; a malformed hash never matches.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, ApiError> {
        self.run(move |memory| verify_with(memory, &password, &hash))
            .await
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    // Allocated on the first job, so an idle process (or a test building many
    // applications) holds none of it.
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&mut memory),
            Err(_) => return,
        }
    }
}

/// `memory` grown to `params`' need; it stays that size for the next hash.
fn blocks<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    &mut memory[..params.block_count()]
}

fn hash_with(memory: &mut Vec<Block>, password: &str) -> Result<String, String> {
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    let mut raw_salt = [0u8; 64];
    let raw_salt = salt
        .as_salt()
        .decode_b64(&mut raw_salt)
        .map_err(|e| e.to_string())?;
    let memory = blocks(memory, &params);
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        argon
            .hash_password_into_with_memory(password.as_bytes(), raw_salt, out, &mut *memory)
            .map_err(|_| argon2::password_hash::Error::Password)
    })
    .map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

fn verify_with(memory: &mut Vec<Block>, password: &str, hash: &str) -> bool {
    let Ok(phc) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(phc.algorithm),
        Params::try_from(&phc),
        phc.salt,
        phc.hash,
    ) else {
        return false;
    };
    let version = match phc.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    // A hash made with more memory than ours would grow this thread's buffer for good;
    // such a hash is not one this server writes, so it is refused rather than honoured.
    if params.block_count() > Params::DEFAULT_M_COST as usize * 4 {
        return false;
    }
    let mut raw_salt = [0u8; 64];
    let Ok(raw_salt) = salt.decode_b64(&mut raw_salt) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let memory = blocks(memory, &params);
    let computed = Output::init_with(expected.len(), |out| {
        argon
            .hash_password_into_with_memory(password.as_bytes(), raw_salt, out, &mut *memory)
            .map_err(|_| argon2::password_hash::Error::Password)
    });
    // `Output`'s equality is constant-time.
    computed.is_ok_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
    use futures::FutureExt;

    use super::*;

    #[tokio::test]
    async fn hashes_are_standard_phc_strings_both_ways() {
        let pool = PasswordHasher::new(1, 4);
        let ours = pool.hash("correct horse battery".into()).await.unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        // The crate's own verifier accepts ours, and ours accepts the crate's.
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(pool
            .verify("correct horse battery".into(), theirs.clone())
            .await
            .unwrap());
        assert!(!pool
            .verify("wrong horse battery".into(), theirs)
            .await
            .unwrap());
        assert!(!pool.verify("x".into(), "not a hash".into()).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once() {
        // One thread and room for one waiting: while one hash runs and one waits, the
        // next is refused.
        let pool = PasswordHasher::new(1, 1);
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let blocker = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move |_| {
                    started_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                })
                .await
            })
        };
        tokio::task::spawn_blocking(move || started_rx.recv().unwrap())
            .await
            .unwrap();
        // Polled once, it takes the waiting place; dropped, its job still holds it.
        assert!(pool.hash("queued password".into()).now_or_never().is_none());
        let refused = pool.hash("another long password".into()).await;
        assert!(matches!(refused, Err(ApiError::Busy { .. })), "{refused:?}");
        release_tx.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        // The queued job leaves the queue when the thread comes back for it, which may be
        // a moment after the blocker's answer: until then a new one is still refused.
        let mut accepted = pool.hash("another long password".into()).await;
        for _ in 0..500 {
            if !matches!(accepted, Err(ApiError::Busy { .. })) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            accepted = pool.hash("another long password".into()).await;
        }
        assert!(accepted.is_ok(), "{accepted:?}");
    }
}
