//! Password hashes, kept in the accounts context's own table (`accounts.credentials`) rather
//! than in the log, which NATS, exports and every reader of `$all` carry.
//!
//! A hash is written first, as a row no event names yet; the account's event that names it
//! (`UserRegistered`, `PasswordChanged`) is what puts it in force. So the table and the log
//! never disagree about which password is valid, whatever fails between the two writes: a
//! row without its event is inert, and is dropped when its command is refused, or with
//! the account's older rows once a newer credential is in force.
//!
//! Events of schema v1 carried the hash. Their upcaster names it by an id derived from it
//! (`domain::user::legacy_credential`); the first time such an account signs in,
//! [`Credentials::hash_of`] finds no row under that id, reads the v1 event from the
//! stream, and copies the hash in. Nothing has to be run by hand when an older log is
//! opened.

use domain::id::CredentialId;
use domain::user::{legacy_credential, legacy_hash, Account};
use sqlx::PgPool;
use uuid::Uuid;

use crate::accounts::account;
use crate::store::{Direction, EventStore, ReadFrom, StoreError};

/// Most events of one user's stream read at a time when looking for a v1 hash.
const PAGE: usize = 500;

/// The credentials table.
#[derive(Clone)]
pub struct Credentials {
    pool: PgPool,
}

fn db(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(format!("credentials: {e}"))
}

impl Credentials {
    pub fn new(pool: PgPool) -> Self {
        Credentials { pool }
    }

    /// Keeps `password_hash` for `user`, not yet in force: an event must name it.
    pub async fn keep(&self, user: Uuid, password_hash: &str) -> Result<CredentialId, StoreError> {
        let id = CredentialId::new(Uuid::new_v4());
        self.keep_as(id, user, password_hash).await?;
        Ok(id)
    }

    /// Keeps `password_hash` under an id the caller derived (a retried bootstrap). A row
    /// already under `id` stays as it is.
    pub async fn keep_as(
        &self,
        id: CredentialId,
        user: Uuid,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        if password_hash.is_empty() {
            return Err(StoreError::InvalidInput {
                field: "password_hash",
                reason: "a credential needs a hash".into(),
            });
        }
        sqlx::query(
            "insert into accounts.credentials (credential_id, user_id, password_hash)
             values ($1, $2, $3) on conflict (credential_id) do nothing",
        )
        .bind(id.as_uuid())
        .bind(user)
        .bind(password_hash)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    /// Drops a credential whose command was refused or failed. A row left behind (the
    /// database gone at that moment) is inert, and goes with the next password change.
    pub async fn discard(&self, user: Uuid, id: CredentialId) {
        let dropped = sqlx::query(
            "delete from accounts.credentials where credential_id = $1 and user_id = $2",
        )
        .bind(id.as_uuid())
        .bind(user)
        .execute(&self.pool)
        .await;
        if let Err(e) = dropped {
            tracing::warn!(%user, error = %e, "an unused credential stays in the table");
        }
    }

    /// Deletes every password hash of `user` (an erased account signs in no more).
    pub async fn erase(&self, user: Uuid) -> Result<u64, StoreError> {
        let deleted = sqlx::query("delete from accounts.credentials where user_id = $1")
            .bind(user)
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("credentials: {e}")))?;
        Ok(deleted.rows_affected())
    }

    /// Once `current` is in force, the account's other rows are dead weight (and old
    /// hashes are worth nothing to keep).
    pub async fn retire_all_but(&self, user: Uuid, current: CredentialId) {
        let retired = sqlx::query(
            "delete from accounts.credentials where user_id = $1 and credential_id <> $2",
        )
        .bind(user)
        .bind(current.as_uuid())
        .execute(&self.pool)
        .await;
        if let Err(e) = retired {
            tracing::warn!(%user, error = %e, "older credentials stay in the table");
        }
    }

    /// The hash in force for `account`: the row its events name, copied first from the
    /// stream's v1 event when the account predates the table. `None` when neither holds
    /// it (a row lost with a restored database): the owner resets the password.
    pub async fn hash_of(
        &self,
        store: &dyn EventStore,
        account: &Account,
    ) -> Result<Option<String>, StoreError> {
        let user = account.user_id.as_uuid();
        let found: Option<String> = sqlx::query_scalar(
            "select password_hash from accounts.credentials
              where credential_id = $1 and user_id = $2",
        )
        .bind(account.credential.as_uuid())
        .bind(user)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        if found.is_some() {
            return Ok(found);
        }
        let Some(hash) = self.legacy(store, account).await? else {
            return Ok(None);
        };
        sqlx::query(
            "insert into accounts.credentials (credential_id, user_id, password_hash)
             values ($1, $2, $3) on conflict (credential_id) do nothing",
        )
        .bind(account.credential.as_uuid())
        .bind(user)
        .bind(&hash)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        tracing::info!(%user, "a v1 credential was copied from the log into the table");
        Ok(Some(hash))
    }

    /// The hash of the v1 event whose derived id `account` names, if any.
    async fn legacy(
        &self,
        store: &dyn EventStore,
        account: &Account,
    ) -> Result<Option<String>, StoreError> {
        let stream = account::stream(account.user_id.as_uuid());
        let mut from = 0;
        loop {
            let page = store
                .read_stream(&stream, ReadFrom::Revision(from), Direction::Forwards, PAGE)
                .await?;
            let n = page.len();
            for e in page {
                from = e.revision + 1;
                if let Some(hash) = legacy_hash(&e.event_type, e.schema_version, &e.data) {
                    if legacy_credential(&hash) == account.credential {
                        return Ok(Some(hash));
                    }
                }
            }
            if n < PAGE {
                return Ok(None);
            }
        }
    }
}
