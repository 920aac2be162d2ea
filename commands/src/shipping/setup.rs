//! [`Carriers`]: the carriers a process ships with, and the receiver of their webhooks.

use std::sync::Arc;

use super::carrier::Carrier;
use super::receiver::TrackingReceiver;
use super::test_carrier::TestCarrier;

/// The carriers shipments may travel with, and, when a webhook secret is set, the
/// receiver of their signed tracking updates (without it, webhooks are refused).
#[derive(Clone)]
pub struct Carriers {
    pub carriers: Vec<Arc<dyn Carrier>>,
    pub webhooks: Option<Arc<TrackingReceiver>>,
}

impl Carriers {
    /// The built-in `test` carrier, with `webhooks` when they are received.
    pub fn test(webhooks: Option<Arc<TrackingReceiver>>) -> Self {
        Carriers {
            carriers: vec![Arc::new(TestCarrier)],
            webhooks,
        }
    }

    /// The carrier called `name`.
    pub fn named(&self, name: &str) -> Option<&Arc<dyn Carrier>> {
        self.carriers.iter().find(|c| c.name() == name)
    }

    /// The carriers' names, for a refusal that lists them.
    pub fn names(&self) -> String {
        self.carriers
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
