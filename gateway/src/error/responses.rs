//! The problem answers many routes share, documented once. A route names one in its
//! `#[utoipa::path]` as `(status = 401, response = Unauthorized)`; the document then holds
//! a single `#/components/responses/Unauthorized` that every such route points at, so the
//! wording of a common refusal is written, and corrected, in one place. Refusals particular
//! to one route (`not_payable`, `sku_taken`) stay beside that route, where they say more.
//!
//! [`CommonProblems`] adds the answers any `/api/v1` operation can give whatever its
//! handler does (the rate limit, the body limit, an internal failure) to every operation.

use utoipa::openapi::path::Operation;
use utoipa::openapi::{OpenApi, Ref, RefOr};
use utoipa::{Modify, ToResponse};

use super::api::Problem;

/// 400 `malformed_json` or `invalid_content_type`.
#[derive(ToResponse)]
#[response(
    description = "Not a JSON body (`malformed_json`), or not sent as `application/json` (`invalid_content_type`)",
    content_type = "application/problem+json"
)]
pub struct NotJson(pub Problem);

/// 400 for a body or a path id that cannot be read.
#[derive(ToResponse)]
#[response(
    description = "Not a JSON body, or an id in the path that is not a UUID (`bad_request`)",
    content_type = "application/problem+json"
)]
pub struct NotJsonOrBadId(pub Problem);

/// 400 for a path id that cannot be read.
#[derive(ToResponse)]
#[response(
    description = "An id in the path that is not a UUID (`bad_request`)",
    content_type = "application/problem+json"
)]
pub struct BadId(pub Problem);

/// 400 `invalid_query`.
#[derive(ToResponse)]
#[response(
    description = "`invalid_query`: a query parameter that is unknown, repeated or malformed; `errors` names each one",
    content_type = "application/problem+json"
)]
pub struct InvalidQuery(pub Problem);

/// 401.
#[derive(ToResponse)]
#[response(
    description = "`unauthenticated`: no valid access token (none, malformed, expired, or signed by another key)",
    content_type = "application/problem+json"
)]
pub struct Unauthorized(pub Problem);

/// 403 for a route only staff (or admins) may use.
#[derive(ToResponse)]
#[response(
    description = "`forbidden`: not staff",
    content_type = "application/problem+json"
)]
pub struct NotStaff(pub Problem);

/// 403 for a route only admins may use.
#[derive(ToResponse)]
#[response(
    description = "`forbidden`: not an admin",
    content_type = "application/problem+json"
)]
pub struct NotAdmin(pub Problem);

/// 403 `forbidden` for a suspended account.
#[derive(ToResponse)]
#[response(
    description = "`forbidden`: the account is suspended",
    content_type = "application/problem+json"
)]
pub struct Suspended(pub Problem);

/// 422 `invalid_body`.
#[derive(ToResponse)]
#[response(
    description = "`invalid_body`: JSON of the wrong shape (a wrong type, a missing or unknown field); `errors` names the field",
    content_type = "application/problem+json"
)]
pub struct WrongShape(pub Problem);

/// 503 `projection_lag`.
#[derive(ToResponse)]
#[response(
    description = "`projection_lag`: the read model has not caught up with the `X-Consistency-Token` sent",
    content_type = "application/problem+json"
)]
pub struct ProjectionLag(pub Problem);

/// 503 `busy` for a route that hashes a password.
#[derive(ToResponse)]
#[response(
    description = "`busy`: every password-hashing thread is taken and `PASSWORD_HASH_QUEUE` requests already wait; `Retry-After` says when to try again",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Whole seconds to wait"))
)]
pub struct Busy(pub Problem);

/// 413 `payload_too_large`; added to every operation that takes a body.
#[derive(ToResponse)]
#[response(
    description = "`payload_too_large`: the body is larger than `MAX_BODY_BYTES`",
    content_type = "application/problem+json"
)]
pub struct PayloadTooLarge(pub Problem);

/// 429 `rate_limited`; added to every operation.
#[derive(ToResponse)]
#[response(
    description = "`rate_limited`: too many requests from this client, or `idempotency_quota_exceeded`: a new `Idempotency-Key` beyond the caller's quota of kept answers; `Retry-After` says when to try again",
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Whole seconds to wait"))
)]
pub struct RateLimited(pub Problem);

/// 500 `internal`; added to every operation.
#[derive(ToResponse)]
#[response(
    description = "`internal`: the server failed; the cause is logged under the request id, never sent",
    content_type = "application/problem+json"
)]
pub struct Internal(pub Problem);

/// Registers the shared responses as components and adds 413, 429 and 500 to each
/// `/api/v1` operation that does not already say what it answers with those statuses.
pub struct CommonProblems;

impl Modify for CommonProblems {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, response) in [
            NotJson::response(),
            NotJsonOrBadId::response(),
            BadId::response(),
            InvalidQuery::response(),
            Unauthorized::response(),
            NotStaff::response(),
            NotAdmin::response(),
            Suspended::response(),
            WrongShape::response(),
            ProjectionLag::response(),
            Busy::response(),
            PayloadTooLarge::response(),
            RateLimited::response(),
            Internal::response(),
        ] {
            components.responses.insert(name.to_owned(), response);
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/") {
                continue;
            }
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                if operation.request_body.is_some() {
                    add(operation, "413", "PayloadTooLarge");
                }
                add(operation, "429", "RateLimited");
                add(operation, "500", "Internal");
            }
        }
    }
}

fn add(operation: &mut Operation, status: &str, component: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(component)));
}
