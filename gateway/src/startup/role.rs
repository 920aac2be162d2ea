//! What a process runs: its [`Role`] and the background tasks it was given, as
//! `/health/detailed` reports them.
//!
//! It sits at the bottom of `startup` (it imports nothing of the gateway), so the shared
//! state can carry it and the health handler can read it.

use std::net::SocketAddr;
use std::sync::Mutex;

use commands::lease::LeaseReport;
use tokio::sync::watch;

/// The part a process plays (`ultramarket <role>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything in one process, the HTTP API included.
    Serve,
    /// The HTTP API.
    Gateway,
    /// `$all` → NATS JetStream.
    Relay,
    /// The read models.
    Project,
    /// The process managers: the checkout saga, reservation and cart expiry, the notifier.
    Process,
}

impl Role {
    /// As the command line and `/health/detailed` name it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Serve => "serve",
            Role::Gateway => "gateway",
            Role::Relay => "relay",
            Role::Project => "project",
            Role::Process => "process",
        }
    }

    /// Whether the process serves the HTTP API (on `BIND`). The others serve only
    /// `/health`, `/health/detailed` and `/metrics`, on `METRICS_BIND`.
    pub fn serves_api(self) -> bool {
        matches!(self, Role::Serve | Role::Gateway)
    }

    /// Where a role without the API serves its probes when `METRICS_BIND` is not set: a
    /// port per role next to the gateway's 8080, so that every role can start on one host
    /// with its defaults.
    pub fn default_operations_addr(self) -> Option<SocketAddr> {
        let port = match self {
            Role::Serve | Role::Gateway => return None,
            Role::Relay => 8081,
            Role::Project => 8082,
            Role::Process => 8083,
        };
        Some(SocketAddr::from(([127, 0, 0, 1], port)))
    }
}

/// One background task: its name and, for a process manager, its lease.
#[derive(Debug, Clone)]
pub struct RunningTask {
    pub name: &'static str,
    /// Set for tasks run only while this copy holds their lease.
    pub lease: Option<watch::Receiver<LeaseReport>>,
}

/// What this process runs: its role and its tasks, filled in as the `with_*` steps add them.
#[derive(Debug)]
pub struct Running {
    pub role: Role,
    tasks: Mutex<Vec<RunningTask>>,
}

impl Running {
    pub fn new(role: Role) -> Self {
        Running {
            role,
            tasks: Mutex::new(Vec::new()),
        }
    }

    pub fn add(&self, task: RunningTask) {
        self.tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(task);
    }

    /// Marks the task `name` as run under a lease reporting through `report`.
    pub fn set_lease(&self, name: &str, report: watch::Receiver<LeaseReport>) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = tasks.iter_mut().rev().find(|t| t.name == name) {
            task.lease = Some(report);
        }
    }

    /// The tasks, in the order they were added.
    pub fn tasks(&self) -> Vec<RunningTask> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_without_the_api_have_ports_of_their_own() {
        let ports: Vec<_> = [Role::Relay, Role::Project, Role::Process]
            .iter()
            .map(|r| r.default_operations_addr().unwrap())
            .collect();
        let mut unique = ports.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 3, "{ports:?}");
        let bind = crate::config::Config::defaults().bind;
        assert!(!ports.contains(&bind), "none takes the gateway's {bind}");
        assert!(Role::Gateway.serves_api() && Role::Serve.serves_api());
        assert!(!Role::Process.serves_api());
    }
}
