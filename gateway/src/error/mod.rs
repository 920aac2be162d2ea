//! The gateway's one error type. Each variant names its HTTP status, and every error leaves
//! as `application/problem+json`:
//!
//! ```json
//! {"type": "https://ultramarket.dev/problems/not_found", "title": "Not Found", "status": 404,
//!  "detail": "no such route", "code": "not_found", "errors": []}
//! ```
//!
//! `code` is the stable part clients branch on; `detail` is prose for people. Server-side
//! failures (500, and the 503s that wrap a driver error) answer a generic detail and send
//! the real one to the log, inside the request's span, so it carries the request id.
//!
//! The answers routes document are shared: [`responses`] holds one documented problem
//! response per common refusal, named in `#[utoipa::path]` as `response = ...`.
//!
//! Request bodies go through [`AppJson`], the gateway's own JSON extractor, so a body that
//! is not JSON, is too large, or does not fit the expected shape answers the same problem
//! body as every other error.

mod api;
mod json;
pub mod responses;

pub use api::{
    panic_to_problem, render_bare_errors, ApiError, FieldError, Problem, ResultExt, PROBLEM_JSON,
};
pub use json::{parse_json, AppJson};
