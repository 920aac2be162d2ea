//! The carriers' side of the API: `POST /shipping/webhooks/{carrier}`, where a carrier
//! tells the engine where a parcel is. No user token: the body's HMAC signature
//! (`Carrier-Signature`, with `SHIPPING_WEBHOOK_SECRET`) authenticates it, the signed
//! timestamp bounds its age, and the replay cache refuses a webhook id seen before.
//! `commands::shipping::receive_tracking_webhook` does all three, then records the update
//! with the carrier as its actor.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use commands::handler::Actor;
use commands::shipping::ShippingUseError;
use commands::webhook::WebhookError;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::views::carriers;
use crate::error::{ApiError, Problem};
use crate::middleware::{ClientIp, RequestId};
use crate::state::AppState;

/// The header that carries the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "carrier-signature";

pub fn router() -> Router<AppState> {
    Router::new().route("/shipping/webhooks/{carrier}", post(webhook))
}

/// What a carrier's update came to.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    /// Whether the update moved the shipment's status (a late or repeated one does not).
    pub moved: bool,
    pub shipment_id: Uuid,
    /// The shipment's status after the update.
    pub shipment_status: String,
    /// `recorded`.
    pub status: &'static str,
}

/// A refused webhook: each signature failure is a 401 with its own code, as the payment
/// provider's are; the rest read as everywhere else.
fn refusal(e: ShippingUseError) -> Response {
    let detail = e.to_string();
    let unauthorized =
        |code: &str| Problem::new(StatusCode::UNAUTHORIZED, code, detail.clone()).into_response();
    match e {
        ShippingUseError::Signature(WebhookError::BadSignature) => {
            unauthorized("webhook_signature_invalid")
        }
        ShippingUseError::Signature(WebhookError::Stale(_)) => {
            unauthorized("webhook_timestamp_stale")
        }
        ShippingUseError::Signature(WebhookError::Future(_)) => {
            unauthorized("webhook_timestamp_future")
        }
        ShippingUseError::Signature(WebhookError::Replayed) => unauthorized("webhook_replayed"),
        other => ApiError::from(other).into_response(),
    }
}

/// A carrier's tracking update: `{"id", "type": "tracking.updated", "shipment_id",
/// "tracking_number", "status", "description", "location", "occurred_at"}` for the `test`
/// carrier. Recorded once per webhook id in the shipment's timeline, with the carrier as
/// the actor; a status further on moves the shipment (and its order) forward, a late or
/// unknown one is kept in the timeline only.
#[utoipa::path(
    post,
    path = "/api/v1/shipping/webhooks/{carrier}",
    tag = "shipping",
    params(
        ("carrier" = String, Path, description = "The carrier: `test`"),
        ("Carrier-Signature" = String, Header, description = "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with SHIPPING_WEBHOOK_SECRET>`"),
    ),
    request_body(content = String, content_type = "application/json", description = "The carrier's update"),
    responses(
        (status = 200, description = "Recorded (or recorded before)", body = WebhookAnswer),
        (status = 400, description = "No or a malformed signature header (`webhook_signature_malformed`), or a signed body that is not the carrier's update or names another parcel (`webhook_malformed`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`webhook_signature_invalid`, `webhook_timestamp_stale` (older than SHIPPING_WEBHOOK_TOLERANCE), `webhook_timestamp_future` (ahead of the server's clock by more than 30 s) or `webhook_replayed` (this webhook id was received before)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such carrier, or no such shipment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`stock_not_reserved` or `invalid_status`: the order could not follow", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`wrong_carrier`: the shipment travels with another carrier; or an update the rules refuse (`validation_failed`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "SHIPPING_WEBHOOK_SECRET is not set (`webhook_not_configured`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn webhook(
    State(state): State<AppState>,
    request: RequestId,
    ip: ClientIp,
    Path(carrier): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAnswer>, Response> {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let actor = Actor {
        user_id: None,
        role: "carrier".into(),
    };
    let outcome = commands::shipping::receive_tracking_webhook(
        &state.handlers,
        &carriers(&state),
        &carrier,
        signature,
        &body,
        chrono::Utc::now(),
        request.command_meta(actor, &ip),
    )
    .await
    .map_err(refusal)?;
    Ok(Json(WebhookAnswer {
        moved: outcome.moved,
        shipment_id: outcome.shipment.shipment.shipment_id.as_uuid(),
        shipment_status: outcome.shipment.shipment.status.as_str().into(),
        status: "recorded",
    }))
}
