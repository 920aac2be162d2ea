//! The layers every request passes through, outermost first (see `router::app`):
//!
//! 1. [`request_id`]: the id, the tracing span, the access log line;
//! 2. [`http_metrics`]: counts and times what the layers below answer, 429s included;
//! 3. [`security`]: security headers and CORS (answers preflights itself);
//! 4. `error::render_bare_errors`: the framework's own error answers become problems;
//! 5. [`client_ip`]: who is asking;
//! 6. the body limit (`MAX_BODY_BYTES`) and a panic catcher;
//!
//! and, on `/api/v1` only, [`rate_limit`] (health probes and metric scrapes are not limited,
//! so an overloaded or attacked instance is still seen as alive), shared by every gateway
//! through PostgreSQL, with its arithmetic and in-memory copy in [`gcra`].

pub mod client_ip;
pub mod gcra;
pub mod http_metrics;
pub mod idempotency;
pub mod rate_limit;
pub mod request_id;
pub mod security;

pub use client_ip::ClientIp;
pub use rate_limit::RateLimiter;
pub use request_id::RequestId;
