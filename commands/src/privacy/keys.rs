//! Data keys: one per data subject, made on first use, kept wrapped by the master key in
//! `privacy.data_keys`, cached unwrapped in memory, and destroyed by an erasure (ADR 0005).
//!
//! An erased subject keeps a tombstone row (no wrapped key, the time of erasure), so no key
//! is ever made for it again: personal data recorded about it afterwards (an old order's
//! saga, say) is recorded as erased, not sealed under a key nobody will destroy.
//!
//! Another process learns of an erasure when it reads the erasure's event (its reads of
//! the log forget the key then, `fields::notice_erasure`) or when its cached key expires
//! ([`CACHE_TTL`]), whichever comes first; the event also makes every read model drop
//! what it holds (issue 20).

use std::time::Duration;

use moka::sync::Cache;
use sqlx::PgPool;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::cipher::{unwrap, wrap, DataKey};
use super::master::MasterKey;
use crate::store::StoreError;

/// The subject whose data key is the lookup key (`lookup`, the keyed HMAC naming
/// uniqueness claims): a version 8 UUID, so no user id (v4, or v5 for the bootstrap admin)
/// can ever be it. Its key is never erased.
pub const LOOKUP_SUBJECT: Uuid = Uuid::from_u128(0x0000_0000_0000_8000_8000_6c6f_6f6b_7570);

/// How long an unwrapped key is kept in memory.
pub const CACHE_TTL: Duration = Duration::from_secs(30);
/// Subjects whose keys are kept in memory: a rebuild touches each once per pass.
const CACHE_CAPACITY: u64 = 200_000;

#[derive(Clone)]
enum Known {
    Key(DataKey),
    Erased,
}

/// How many keys there are, by master key, and how many subjects were erased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyStatus {
    /// `(master key id, live data keys it wraps)`, most first.
    pub live: Vec<(String, i64)>,
    pub erased: i64,
}

pub struct DataKeys {
    pool: PgPool,
    master: MasterKey,
    /// The master key before a rotation: rows it still wraps open with it until
    /// [`DataKeys::rotate`] has re-wrapped them.
    previous: Option<MasterKey>,
    cache: Cache<Uuid, Known>,
    /// Keys asked to be made, waiting for the next writer (see [`DataKeys::made`]).
    waiting: std::sync::Mutex<Vec<Request>>,
    maker: tokio::sync::Mutex<()>,
}

/// A key asked to be made, and where its row goes.
type Request = (Uuid, oneshot::Sender<Result<Known, StoreError>>);

fn db(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(format!("data keys: {e}"))
}

impl DataKeys {
    pub fn new(pool: PgPool, master: MasterKey, previous: Option<MasterKey>) -> Self {
        DataKeys {
            pool,
            master,
            previous,
            cache: Cache::builder()
                .max_capacity(CACHE_CAPACITY)
                .time_to_live(CACHE_TTL)
                .build(),
            waiting: std::sync::Mutex::default(),
            maker: tokio::sync::Mutex::default(),
        }
    }

    /// The keys of a process: under `configured` (`MASTER_KEY`) when given, else under the
    /// embedded default, made at the first start (the caller warns about that).
    pub async fn start(
        pool: PgPool,
        configured: Option<MasterKey>,
        previous: Option<MasterKey>,
    ) -> Result<Self, StoreError> {
        let master = match configured {
            Some(master) => master,
            None => MasterKey::embedded(&pool).await?,
        };
        Ok(Self::new(pool, master, previous))
    }

    /// The master key new data keys are wrapped with.
    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    /// The key that seals `subject`'s new personal data, made on first use; `None` once
    /// the subject is erased.
    pub async fn for_sealing(&self, subject: Uuid) -> Result<Option<DataKey>, StoreError> {
        if let Some(known) = self.cache.get(&subject) {
            return Ok(match known {
                Known::Key(key) => Some(key),
                Known::Erased => None,
            });
        }
        let known = self.made(subject).await?;
        Ok(match known {
            Known::Key(key) => Some(key),
            Known::Erased => None,
        })
    }

    /// `subject`'s row, made if missing. Keys made at the same moment (a burst of
    /// registrations) are written together: whoever takes the maker's lock writes every
    /// request waiting, in one statement and one commit, so a registration costs a
    /// fraction of a round trip more rather than one (group commit).
    async fn made(&self, subject: Uuid) -> Result<Known, StoreError> {
        let (tx, mut rx) = oneshot::channel();
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((subject, tx));
        let stopped = || Err(StoreError::Unavailable("the key maker stopped".into()));
        let maker = tokio::select! {
            // Another holder took it along.
            answer = &mut rx => return answer.unwrap_or_else(|_| stopped()),
            maker = self.maker.lock() => maker,
        };
        if let Ok(answer) = rx.try_recv() {
            return answer;
        }
        let batch = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|e| e.into_inner()));
        let result = self.make(batch.iter().map(|(s, _)| *s).collect()).await;
        drop(maker);
        for (subject, tx) in batch {
            let answer = match &result {
                Ok(rows) => match rows.iter().find(|(s, _)| *s == subject) {
                    Some((_, known)) => Ok(known.clone()),
                    None => Err(StoreError::Unavailable(format!(
                        "the data key of {subject} was not made"
                    ))),
                },
                Err(e) => Err(StoreError::Unavailable(e.to_string())),
            };
            let _ = tx.send(answer);
        }
        rx.await.unwrap_or_else(|_| stopped())
    }

    /// Makes the rows of `subjects` that are missing, and answers each one's, caching them.
    async fn make(&self, mut subjects: Vec<Uuid>) -> Result<Vec<(Uuid, Known)>, StoreError> {
        subjects.sort_unstable();
        subjects.dedup();
        let wrapped: Vec<Vec<u8>> = subjects
            .iter()
            .map(|s| wrap(self.master.bytes(), *s, &DataKey::generate()))
            .collect();
        // The insert's rows where it made them, the table's where they were there (a key
        // made before, or the tombstone of an erasure).
        let rows: Vec<(Uuid, Option<String>, Option<Vec<u8>>)> = sqlx::query_as(
            "with input as (
                 select * from unnest($1::uuid[], $2::bytea[]) as t(subject_id, wrapped)),
             made as (
                 insert into privacy.data_keys (subject_id, master_key_id, wrapped)
                 select subject_id, $3, wrapped from input
                 on conflict (subject_id) do nothing
                 returning subject_id, master_key_id, wrapped)
             select subject_id, master_key_id, wrapped from made
             union all
             select k.subject_id, k.master_key_id, k.wrapped
               from privacy.data_keys k join input using (subject_id)",
        )
        .bind(&subjects)
        .bind(&wrapped)
        .bind(self.master.id())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let mut known = Vec::with_capacity(subjects.len());
        for (subject, master_id, wrapped) in rows {
            let k = self.unwrapped(subject, master_id.as_deref(), wrapped)?;
            self.cache.insert(subject, k.clone());
            known.push((subject, k));
        }
        // A row another process made after this statement's snapshot was taken: read it.
        for subject in subjects {
            if known.iter().any(|(s, _)| *s == subject) {
                continue;
            }
            match self.known(subject).await? {
                Some(k) => known.push((subject, k)),
                None => {
                    return Err(StoreError::Corrupt(format!(
                        "the data key of {subject} vanished as it was made"
                    )))
                }
            }
        }
        Ok(known)
    }

    /// The key that opens `subject`'s personal data; `None` when erased or never made.
    pub async fn for_opening(&self, subject: Uuid) -> Result<Option<DataKey>, StoreError> {
        Ok(match self.known(subject).await? {
            Some(Known::Key(key)) => Some(key),
            Some(Known::Erased) | None => None,
        })
    }

    /// What the table says of `subject`, through the cache. A subject without a row is
    /// not cached: its key may be made at any moment.
    async fn known(&self, subject: Uuid) -> Result<Option<Known>, StoreError> {
        if let Some(known) = self.cache.get(&subject) {
            return Ok(Some(known));
        }
        let row: Option<(Option<String>, Option<Vec<u8>>)> = sqlx::query_as(
            "select master_key_id, wrapped from privacy.data_keys where subject_id = $1",
        )
        .bind(subject)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        let Some((master_id, wrapped)) = row else {
            return Ok(None);
        };
        let known = self.unwrapped(subject, master_id.as_deref(), wrapped)?;
        self.cache.insert(subject, known.clone());
        Ok(Some(known))
    }

    /// Drops what the cache holds of `subject`: the next use reads the table.
    pub fn forget(&self, subject: Uuid) {
        self.cache.invalidate(&subject);
    }

    /// Fetches into the cache, in one query, the keys of those `subjects` it lacks.
    pub async fn preload(&self, subjects: &[Uuid]) -> Result<(), StoreError> {
        let mut missing: Vec<Uuid> = subjects
            .iter()
            .copied()
            .filter(|s| !self.cache.contains_key(s))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        let rows: Vec<(Uuid, Option<String>, Option<Vec<u8>>)> = sqlx::query_as(
            "select subject_id, master_key_id, wrapped from privacy.data_keys
              where subject_id = any($1)",
        )
        .bind(&missing)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        for (subject, master_id, wrapped) in rows {
            let known = self.unwrapped(subject, master_id.as_deref(), wrapped)?;
            self.cache.insert(subject, known);
        }
        Ok(())
    }

    fn unwrapped(
        &self,
        subject: Uuid,
        master_id: Option<&str>,
        wrapped: Option<Vec<u8>>,
    ) -> Result<Known, StoreError> {
        Ok(match wrapped {
            None => Known::Erased,
            Some(wrapped) => {
                let kek = self.kek(master_id, subject)?;
                Known::Key(
                    unwrap(kek, subject, &wrapped).map_err(|e| {
                        StoreError::Corrupt(format!("the data key of {subject}: {e}"))
                    })?,
                )
            }
        })
    }

    fn kek(&self, master_id: Option<&str>, subject: Uuid) -> Result<&[u8; 32], StoreError> {
        let previous = self.previous.as_ref().filter(|p| Some(p.id()) == master_id);
        if Some(self.master.id()) == master_id {
            Ok(self.master.bytes())
        } else if let Some(previous) = previous {
            Ok(previous.bytes())
        } else {
            Err(StoreError::Corrupt(format!(
                "the data key of {subject} is wrapped by master key {}, which is neither \
                 MASTER_KEY ({}) nor MASTER_KEY_PREVIOUS",
                master_id.unwrap_or("?"),
                self.master.id()
            )))
        }
    }

    /// Destroys `subject`'s key, leaving a tombstone. Answers whether a live key was
    /// destroyed (`false`: already erased, or never made, which now can never happen).
    /// The lookup key's subject is refused: every uniqueness claim is named with it.
    pub async fn erase(&self, subject: Uuid) -> Result<bool, StoreError> {
        if subject == LOOKUP_SUBJECT {
            return Err(StoreError::InvalidInput {
                field: "subject",
                reason: "the lookup key names every uniqueness claim and is never erased".into(),
            });
        }
        let mut tx = self.pool.begin().await.map_err(db)?;
        let live: Option<bool> = sqlx::query_scalar(
            "select wrapped is not null from privacy.data_keys where subject_id = $1 for update",
        )
        .bind(subject)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "insert into privacy.data_keys (subject_id, master_key_id, wrapped, erased_at)
             values ($1, null, null, now())
             on conflict (subject_id) do update
                set master_key_id = null, wrapped = null,
                    erased_at = coalesce(privacy.data_keys.erased_at, now())",
        )
        .bind(subject)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        self.cache.insert(subject, Known::Erased);
        Ok(live == Some(true))
    }

    /// Re-wraps every data key still under `MASTER_KEY_PREVIOUS` with `MASTER_KEY`;
    /// answers how many. The log is not touched: its envelopes are sealed with the data
    /// keys, which do not change.
    pub async fn rotate(&self) -> Result<u64, StoreError> {
        let Some(previous) = &self.previous else {
            return Ok(0);
        };
        let mut rewrapped = 0;
        loop {
            let mut tx = self.pool.begin().await.map_err(db)?;
            let rows: Vec<(Uuid, Vec<u8>)> = sqlx::query_as(
                "select subject_id, wrapped from privacy.data_keys
                  where master_key_id = $1 and wrapped is not null
                  limit 500 for update skip locked",
            )
            .bind(previous.id())
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
            if rows.is_empty() {
                tx.commit().await.map_err(db)?;
                return Ok(rewrapped);
            }
            for (subject, wrapped) in rows {
                let key = unwrap(previous.bytes(), subject, &wrapped)
                    .map_err(|e| StoreError::Corrupt(format!("the data key of {subject}: {e}")))?;
                sqlx::query(
                    "update privacy.data_keys set master_key_id = $2, wrapped = $3
                      where subject_id = $1",
                )
                .bind(subject)
                .bind(self.master.id())
                .bind(wrap(self.master.bytes(), subject, &key))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                rewrapped += 1;
            }
            tx.commit().await.map_err(db)?;
        }
    }

    /// How many keys each master key wraps, and how many subjects are erased.
    pub async fn status(&self) -> Result<KeyStatus, StoreError> {
        let live: Vec<(String, i64)> = sqlx::query_as(
            "select master_key_id, count(*) from privacy.data_keys
              where wrapped is not null group by master_key_id order by 2 desc, 1",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let erased: i64 =
            sqlx::query_scalar("select count(*) from privacy.data_keys where wrapped is null")
                .fetch_one(&self.pool)
                .await
                .map_err(db)?;
        Ok(KeyStatus { live, erased })
    }
}
