//! The payment provider's side of the API: `POST /payments/webhook`, where the provider
//! tells the engine that a charge was confirmed or failed after the pay request answered.
//! No user token: the body's HMAC signature (`Payment-Signature`, with
//! `PAYMENT_WEBHOOK_SECRET`) authenticates it, the signed timestamp bounds its age, and the
//! replay cache refuses a signature seen before. `commands::orders::receive_payment_webhook`
//! does all three, then records the answer on the order's payment.
//!
//! Also here: [`from_config`], the provider `PAYMENT_PROVIDER` names and the receiver,
//! built once at start.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use commands::handler::Actor;
use commands::orders::{PaymentWebhookError, WebhookOutcome};
use commands::payment::{PaymentProvider, Payments, TestProvider, WebhookError, WebhookReceiver};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::config::{Config, PaymentProviderName};
use crate::error::{ApiError, FieldError, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

/// The header that carries the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "payment-signature";

pub fn router() -> Router<AppState> {
    Router::new().route("/payments/webhook", post(webhook))
}

#[derive(OpenApi)]
#[openapi(
    paths(webhook),
    components(schemas(WebhookAnswer)),
    tags((name = "payments", description = "The payment provider's signed webhooks"))
)]
pub struct PaymentsApi;

/// The provider `PAYMENT_PROVIDER` names and, with `PAYMENT_WEBHOOK_SECRET`, the webhook
/// receiver. `warn`: say at start that the `test` provider moves no money, so a shop
/// deployed without choosing a provider says so in its first lines of log.
pub fn from_config(config: &Config, pool: &sqlx::PgPool, warn: bool) -> Payments {
    let provider: Arc<dyn PaymentProvider> = match config.payment_provider {
        PaymentProviderName::Test => {
            if warn {
                tracing::warn!(
                    "PAYMENT_PROVIDER=test: payments are simulated (tok_visa captures) and no \
                     money moves; set PAYMENT_PROVIDER for a real provider"
                );
            }
            Arc::new(TestProvider::new(pool.clone()))
        }
    };
    let webhooks = config.payment_webhook_secret.as_ref().map(|secret| {
        Arc::new(WebhookReceiver::new(
            secret.expose().as_bytes().to_vec(),
            config.payment_webhook_tolerance,
            pool.clone(),
        ))
    });
    Payments { provider, webhooks }
}

/// What a webhook came to.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    /// `recorded` (the order's payment holds the event, now or from before) or `ignored`
    /// (a type the engine does not act on).
    pub status: &'static str,
    pub order_id: Option<Uuid>,
    /// Whether the event was a capture.
    pub captured: Option<bool>,
}

fn unauthorized(code: &str, detail: String) -> Response {
    Problem::new(StatusCode::UNAUTHORIZED, code, detail).into_response()
}

fn refusal(e: PaymentWebhookError) -> Response {
    let detail = e.to_string();
    match e {
        PaymentWebhookError::Signature(w) => match w {
            WebhookError::Malformed => {
                ApiError::bad_request("webhook_signature_malformed", detail).into_response()
            }
            WebhookError::BadSignature => unauthorized("webhook_signature_invalid", detail),
            WebhookError::Stale(_) => unauthorized("webhook_timestamp_stale", detail),
            WebhookError::Future(_) => unauthorized("webhook_timestamp_future", detail),
            WebhookError::Replayed => unauthorized("webhook_replayed", detail),
        },
        PaymentWebhookError::Malformed(_) => {
            ApiError::bad_request("webhook_malformed", detail).into_response()
        }
        PaymentWebhookError::UnknownOrder => ApiError::NotFound(detail).into_response(),
        PaymentWebhookError::NotPayable(_) => {
            ApiError::conflict("not_payable", detail).into_response()
        }
        PaymentWebhookError::AmountMismatch { .. } => ApiError::UnprocessableEntity {
            code: "payment_mismatch",
            detail: detail.clone(),
            errors: vec![FieldError::new("amount", detail)],
        }
        .into_response(),
        PaymentWebhookError::Failed(cause) => ApiError::internal(cause).into_response(),
    }
}

/// The provider's word on a charge: `payment.captured` (the order is then paid) or
/// `payment.failed` (a failed attempt; the order stays payable). Other event types are
/// acknowledged and ignored.
#[utoipa::path(
    post,
    path = "/api/v1/payments/webhook",
    tag = "payments",
    params(("Payment-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with PAYMENT_WEBHOOK_SECRET>`")),
    request_body(content = String, content_type = "application/json", description = "The provider's event: `{\"id\": \"evt_1\", \"type\": \"payment.captured\", \"order_id\": \"…\", \"attempt\": 1, \"amount\": {\"amount\": 1250, \"currency\": \"USD\"}, \"reference\": \"ch_1\"}`; `payment.failed` has `code` and `message` instead of `reference`"),
    responses(
        (status = 200, description = "Recorded (or recorded before), or ignored", body = WebhookAnswer),
        (status = 400, description = "No or a malformed signature header (`webhook_signature_malformed`), or a signed body that is not a payment event (`webhook_malformed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`webhook_signature_invalid`, `webhook_timestamp_stale` (older than PAYMENT_WEBHOOK_TOLERANCE), `webhook_timestamp_future` (ahead of the server's clock by more than 30 s) or `webhook_replayed` (this signature was received before)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The order is not awaiting payment (`not_payable`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The amount is not the order's total (`payment_mismatch`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "PAYMENT_WEBHOOK_SECRET is not set (`webhook_not_configured`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn webhook(
    State(state): State<AppState>,
    request: RequestId,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAnswer>, Response> {
    let Some(receiver) = state.payments.webhooks.as_deref() else {
        return Err(ApiError::ServiceUnavailable {
            code: "webhook_not_configured",
            detail: "payment webhooks are not configured on this server".into(),
        }
        .into_response());
    };
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let actor = Actor {
        user_id: None,
        role: "payment_provider".into(),
    };
    let outcome = commands::orders::receive_payment_webhook(
        &state.handlers,
        receiver,
        state.payments.provider.name(),
        signature,
        &body,
        chrono::Utc::now(),
        request.command_meta(actor, &ip),
    )
    .await
    .map_err(refusal)?;
    Ok(Json(match outcome {
        WebhookOutcome::Recorded { order_id, captured } => WebhookAnswer {
            status: "recorded",
            order_id: Some(order_id),
            captured: Some(captured),
        },
        WebhookOutcome::Ignored => WebhookAnswer {
            status: "ignored",
            order_id: None,
            captured: None,
        },
    }))
}
