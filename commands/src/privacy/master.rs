//! The master key, which wraps every data key (ADR 0005).
//!
//! It comes from `MASTER_KEY` (32 bytes, base64). Without it, the embedded default keeps
//! one in the database itself, made at first start, so the two-command start works and
//! every process of one deployment shares it; the caller warns at every start, since an
//! erasure is then only as good as the database's backups.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::store::StoreError;

/// A key-encrypting key and its id (the first 16 hex digits of its SHA-256), which each
/// wrapped data key records, so a rotation knows which rows are still to re-wrap.
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    key: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

/// Why a configured master key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("MASTER_KEY must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)")]
pub struct BadMasterKey;

impl MasterKey {
    pub fn from_bytes(key: [u8; 32]) -> Self {
        let digest = Sha256::digest(key);
        let id = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        MasterKey { id, key }
    }

    /// A key given as base64 (the `MASTER_KEY` setting).
    pub fn from_base64(text: &str) -> Result<Self, BadMasterKey> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| BadMasterKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| BadMasterKey)?;
        Ok(Self::from_bytes(key))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.key
    }

    /// The embedded default: the key kept in `privacy.embedded_master_key`, made by the
    /// first process to ask. Two processes starting at once agree on one.
    pub async fn embedded(pool: &PgPool) -> Result<Self, StoreError> {
        let fresh: [u8; 32] = rand::random();
        let key: Option<Vec<u8>> = sqlx::query_scalar(
            "with made as (
                 insert into privacy.embedded_master_key (only_one, key) values (true, $1)
                 on conflict (only_one) do nothing
                 returning key)
             select key from made
             union all
             select key from privacy.embedded_master_key
             limit 1",
        )
        .bind(fresh.as_slice())
        .fetch_optional(pool)
        .await
        .map_err(|e| StoreError::Unavailable(format!("the embedded master key: {e}")))?;
        let key = match key {
            Some(key) => key,
            // Another process's row, committed after this statement's snapshot: read it now.
            None => sqlx::query_scalar("select key from privacy.embedded_master_key")
                .fetch_one(pool)
                .await
                .map_err(|e| StoreError::Unavailable(format!("the embedded master key: {e}")))?,
        };
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| StoreError::Corrupt("the embedded master key is not 32 bytes".into()))?;
        Ok(Self::from_bytes(key))
    }
}

impl MasterKey {
    /// The embedded default's key if one was made, without making one (for tools that
    /// only look).
    pub async fn embedded_if_any(pool: &PgPool) -> Result<Option<Self>, StoreError> {
        let key: Option<Vec<u8>> =
            sqlx::query_scalar("select key from privacy.embedded_master_key")
                .fetch_optional(pool)
                .await
                .map_err(|e| StoreError::Unavailable(format!("the embedded master key: {e}")))?;
        key.map(|key| {
            let key: [u8; 32] = key.try_into().map_err(|_| {
                StoreError::Corrupt("the embedded master key is not 32 bytes".into())
            })?;
            Ok(Self::from_bytes(key))
        })
        .transpose()
    }

    /// Deletes the embedded default's key, once no data key is wrapped by it any more
    /// (after a rotation to a configured `MASTER_KEY`). Answers whether one was deleted.
    pub async fn forget_embedded(pool: &PgPool) -> Result<bool, StoreError> {
        let deleted = sqlx::query(
            "delete from privacy.embedded_master_key e
              where not exists (
                  select 1 from privacy.data_keys k
                   where k.wrapped is not null
                     and k.master_key_id = encode(substring(sha256(e.key) from 1 for 8), 'hex'))",
        )
        .execute(pool)
        .await
        .map_err(|e| StoreError::Unavailable(format!("the embedded master key: {e}")))?;
        Ok(deleted.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_key_is_32_bytes_of_base64_and_has_a_stable_id() {
        let text = STANDARD.encode([7u8; 32]);
        let key = MasterKey::from_base64(&text).unwrap();
        assert_eq!(key.id().len(), 16);
        assert_eq!(MasterKey::from_bytes([7u8; 32]).id(), key.id());
        assert_ne!(MasterKey::from_bytes([8u8; 32]).id(), key.id());
        assert_eq!(
            MasterKey::from_base64(&STANDARD.encode([7u8; 16])).unwrap_err(),
            BadMasterKey
        );
        assert_eq!(
            MasterKey::from_base64("not base64!").unwrap_err(),
            BadMasterKey
        );
        assert!(
            !format!("{key:?}").contains(&text),
            "Debug shows the id only"
        );
    }
}
