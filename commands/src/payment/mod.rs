//! Taking money: the [`PaymentProvider`] port, the built-in `test` provider, charging an
//! order and recording the provider's answer, and HMAC-signed provider webhooks.
//!
//! The provider is called outside the domain and its answer handed to `decide` inside the
//! `Charge` command, so the payment stream records what the provider said and a replay
//! never calls it again. The saga turns `PaymentCaptured` into the order's `MarkPaid`.
//!
//! # Layout
//!
//! - [`provider`]: the port, and the idempotency key of a charge (the order and the
//!   attempt: two requests that race to pay one order ask the provider with one key).
//! - [`test_provider`]: the `test` provider, with its ledger of charges in PostgreSQL.
//! - [`charge`]: paying an order through a provider, and recording an answer that arrives
//!   later (a webhook), on the order's payment stream.
//! - [`setup`]: [`Payments`], a process's provider and webhook receiver.
//! - [`webhook`]: the signature of webhooks (timestamp window, no future timestamps) and
//!   the replay cache.

pub mod charge;
pub mod provider;
pub mod setup;
pub mod test_provider;
pub mod webhook;

pub use charge::{pay_order, record_answer, Answer, PayError, PayOutcome};
pub use provider::{idempotency_key, PaymentProvider, ProviderError};
pub use setup::Payments;
pub use test_provider::TestProvider;
pub use webhook::{ReplayCache, ReplayError, WebhookError, WebhookReceiver, WebhookSigner};
