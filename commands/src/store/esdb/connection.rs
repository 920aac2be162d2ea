//! The client the adapter talks through, replaced when its connection task has ended,
//! and the reads in progress over it.
//!
//! # The rustls trap
//!
//! `eventstore` 4.0.0 installs a process-wide rustls crypto provider (aws-lc-rs) with `expect`
//! when its first client starts, and panics if another crate installed one before. This code
//! never installs one, and nothing else in the engine does: sqlx is built without TLS, and
//! async-nats asks rustls for the process default rather than installing its own (in this
//! workspace rustls has both the ring and aws-lc-rs features on, so rustls cannot pick one for
//! it either). So we keep `eventstore`, the client the design names, and `tests/esdb_coexist.rs`
//! starts the adapter beside a sqlx pool to prove nothing panics. The panic would happen in
//! the crate's connection task, not in the caller; the store would then only ever answer
//! `Unavailable`. The crate also unwraps its TLS files, so `connect` checks that they open.

use std::sync::Mutex;

use eventstore::{
    Client, ClientSettings, ReadAllOptions, ReadStream, ReadStreamOptions, ResolvedEvent,
};

use crate::store::StoreError;

/// The crate unwraps these files inside its connection task (even with `tls=false`); a
/// missing one would kill the task on every attempt, so refuse it here with the setting named.
fn check_tls_files(settings: &ClientSettings) -> Result<(), StoreError> {
    let mut files: Vec<&String> = settings.tls_ca_file().into_iter().collect();
    if let Some((cert, key)) = settings.user_certificate() {
        files.extend([cert, key]);
    }
    for file in files {
        std::fs::File::open(file).map_err(|e| StoreError::InvalidInput {
            field: "EVENTSTORE_URL",
            reason: format!("cannot open TLS file {file:?}: {e}"),
        })?;
    }
    Ok(())
}

fn new_client(settings: &ClientSettings) -> Result<Client, StoreError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|e| {
        StoreError::Unavailable(format!(
            "the EventStoreDB client needs a Tokio runtime: {e}"
        ))
    })?;
    Client::with_runtime_handle(runtime, settings.clone())
        .map_err(|e| StoreError::Unavailable(format!("EventStoreDB client: {e}")))
}

pub(super) struct Connection {
    settings: ClientSettings,
    current: Mutex<Current>,
}

/// The client in use; `generation` tells a failed client from its replacement.
#[derive(Clone)]
pub(super) struct Current {
    pub(super) generation: u64,
    pub(super) client: Client,
}

impl Connection {
    /// Checks `settings`' TLS files and starts a client; the connection itself opens on
    /// first use.
    pub(super) fn new(settings: ClientSettings) -> Result<Self, StoreError> {
        check_tls_files(&settings)?;
        let client = new_client(&settings)?;
        Ok(Connection {
            settings,
            current: Mutex::new(Current {
                generation: 0,
                client,
            }),
        })
    }

    pub(super) fn current(&self) -> Current {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Maps a failure of the client of `generation`, replacing that client when its
    /// connection task has ended.
    pub(super) fn unavailable(&self, generation: u64, e: eventstore::Error) -> StoreError {
        if matches!(
            e,
            eventstore::Error::ConnectionClosed | eventstore::Error::GrpcConnectionError(_)
        ) {
            self.renew(generation);
        }
        StoreError::Unavailable(format!("EventStoreDB: {e}"))
    }

    fn renew(&self, generation: u64) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.generation != generation {
            // Another caller already replaced it.
            return;
        }
        match new_client(&self.settings) {
            Ok(client) => {
                current.client = client;
                current.generation += 1;
                tracing::debug!("EventStoreDB client restarted after its connection task ended");
            }
            Err(e) => tracing::warn!(error = %e, "could not restart the EventStoreDB client"),
        }
    }

    pub(super) async fn read_stream(
        &self,
        stream_id: &str,
        options: &ReadStreamOptions,
    ) -> Result<Reader<'_>, StoreError> {
        let Current { generation, client } = self.current();
        match client.read_stream(stream_id, options).await {
            Ok(read) => Ok(Reader::new(self, generation, Some(read))),
            Err(eventstore::Error::ResourceNotFound | eventstore::Error::ResourceDeleted) => {
                Ok(Reader::new(self, generation, None))
            }
            Err(e) => Err(self.unavailable(generation, e)),
        }
    }

    pub(super) async fn read_all(
        &self,
        options: &ReadAllOptions,
    ) -> Result<Reader<'_>, StoreError> {
        let Current { generation, client } = self.current();
        match client.read_all(options).await {
            Ok(read) => Ok(Reader::new(self, generation, Some(read))),
            Err(e) => Err(self.unavailable(generation, e)),
        }
    }
}

/// One read in progress. A stream that does not exist (or was deleted) reads as empty.
pub(super) struct Reader<'a> {
    conn: &'a Connection,
    generation: u64,
    read: Option<ReadStream>,
}

impl<'a> Reader<'a> {
    fn new(conn: &'a Connection, generation: u64, read: Option<ReadStream>) -> Self {
        Reader {
            conn,
            generation,
            read,
        }
    }

    pub(super) async fn next(&mut self) -> Result<Option<ResolvedEvent>, StoreError> {
        let Some(read) = self.read.as_mut() else {
            return Ok(None);
        };
        match read.next().await {
            Ok(Some(event)) => Ok(Some(event)),
            // The server says "not found" in the stream of answers, not when the read opens.
            Ok(None)
            | Err(eventstore::Error::ResourceNotFound | eventstore::Error::ResourceDeleted) => {
                self.read = None;
                Ok(None)
            }
            Err(e) => {
                self.read = None;
                Err(self.conn.unavailable(self.generation, e))
            }
        }
    }
}
