//! A split deployment: each role of the engine as an OS process of its own (`ultramarket
//! gateway`, `relay`, `project`, `process`), all on one database and, when asked, one NATS
//! JetStream stream, as the README's scale-out section runs them.
//!
//! The [`Deployment`] owns the database and the stream (dropped and deleted with it); each
//! role is a [`Server`] on them, killed when dropped.

use uuid::Uuid;

use crate::{drop_database, postgres_server, Server};

/// The NATS server the tests use (`NATS_TEST_URL`).
pub fn nats_url() -> String {
    std::env::var("NATS_TEST_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// A database, and a JetStream stream of its own when built [`Deployment::with_nats`],
/// shared by the roles started on it.
pub struct Deployment {
    database: String,
    pub database_url: String,
    /// `--nats-url`, `--nats-stream` and `--nats-subject-prefix`, when NATS is used.
    nats: Option<(String, String, String)>,
}

impl Deployment {
    /// Roles that follow the store's `$all` in process (no NATS).
    pub fn embedded() -> Deployment {
        let database = format!("e2e_{}", Uuid::new_v4().simple());
        Deployment {
            database_url: format!("{}/{database}", postgres_server()),
            database,
            nats: None,
        }
    }

    /// Roles that pass events through NATS JetStream: a stream and subjects no other test
    /// uses.
    pub fn with_nats() -> Deployment {
        let mut deployment = Self::embedded();
        let unique = Uuid::new_v4().simple().to_string();
        deployment.nats = Some((nats_url(), format!("E2E_{unique}"), format!("e2e{unique}")));
        deployment
    }

    /// Starts `role` with `extra` flags on the deployment, each on a free port (`BIND` and
    /// `METRICS_BIND` at port 0), and waits for its `/health`.
    pub async fn start(&self, role: &str, extra: &[&str]) -> Server {
        let mut args = vec!["--bind", "127.0.0.1:0", "--metrics-bind", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        self.start_on_default_ports(role, &args).await
    }

    /// As [`Deployment::start`], with the role's own default ports unless `extra` says
    /// otherwise.
    pub async fn start_on_default_ports(&self, role: &str, extra: &[&str]) -> Server {
        let mut args = vec![role];
        if let Some((url, stream, prefix)) = &self.nats {
            args.extend([
                "--nats-url",
                url,
                "--nats-stream",
                stream,
                "--nats-subject-prefix",
                prefix,
            ]);
        }
        args.extend_from_slice(extra);
        Server::spawn(&self.database_url, None, &args).await
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        drop_database(&self.database);
        if let Some((url, stream, _)) = self.nats.clone() {
            // From a thread with a runtime of its own, as the database is dropped.
            let deleted = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                rt.block_on(async {
                    let client = async_nats::connect(&url).await.map_err(|e| e.to_string())?;
                    async_nats::jetstream::new(client)
                        .delete_stream(&stream)
                        .await
                        .map_err(|e| e.to_string())
                        .map(drop)
                })
            })
            .join();
            if !matches!(deleted, Ok(Ok(()))) {
                eprintln!("could not delete the test's JetStream stream: {deleted:?}");
            }
        }
    }
}
