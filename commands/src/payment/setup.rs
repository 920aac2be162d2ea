//! [`Payments`]: how a process takes money, built once at start from its settings.

use std::sync::Arc;

use super::provider::PaymentProvider;
use super::webhook::WebhookReceiver;

/// The provider a process charges through (`PAYMENT_PROVIDER`), and its webhook receiver
/// when `PAYMENT_WEBHOOK_SECRET` is set (without it, webhooks are refused).
#[derive(Clone)]
pub struct Payments {
    pub provider: Arc<dyn PaymentProvider>,
    pub webhooks: Option<Arc<WebhookReceiver>>,
}
