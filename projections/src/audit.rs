//! The `audit` read model: every event of `$all`, whatever its category, as one row of
//! `audit_logs` (the seed's shape: actor, action, resource, details, ip address, user
//! agent, time), plus its correlation and causation ids and where it sits in the log.
//!
//! The actor, the client's address and the ids (the server's correlation id, and the
//! client's own request id beside it) come from the metadata the command handler writes
//! into every event (invariant 9, `CommandMeta::metadata`); `details` is the event's
//! data with secrets taken out by [`redact`], because auditors read this table far more
//! widely than anyone reads the store.
//!
//! The client's address and browser are written only while the [`Retention`] policy keeps
//! them (by the event's own time, so a rebuild or an imported log writes the same), and
//! `crate::retention::pass` clears them from rows that age out later.

use std::net::{IpAddr, SocketAddr};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commands::privacy::erased_subject;
use commands::store::RecordedEvent;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::retention::Retention;
use crate::runtime::projection::{Projection, ProjectionError};

/// What a redacted value is replaced with: the key stays, so an auditor still sees that a
/// password was changed, only not to what.
pub const REDACTED: &str = "[redacted]";

/// What a declared personal field's value is replaced with (ADR 0005): an auditor sees that
/// an address was changed, and whose; the value is the person's, and goes with them.
pub const PERSONAL: &str = "[personal data]";

/// The `audit` read model, keeping client data as long as its policy says.
#[derive(Debug, Default, Clone, Copy)]
pub struct AuditProjection {
    retention: Retention,
}

impl AuditProjection {
    pub fn new(retention: Retention) -> Self {
        AuditProjection { retention }
    }
}

/// Parts of a key name that mark its value as a secret (matched in lower case, `-` read as
/// `_`): `password_hash`, `reset_token`, `client_secret`, `Authorization`, ...
const SECRET_KEY_PARTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "credential",
    "private_key",
    "session",
    "card_number",
];

/// Key names that are secrets only when they are the whole name (as parts they would hit
/// innocent names like `company` or `spinner`).
const SECRET_KEYS: &[&str] = &["pan", "pin", "cvv", "cvc", "otp"];

/// Prefixes of strings that are credentials whatever key holds them: password hashes
/// (argon2, bcrypt, scrypt, pbkdf2), HTTP credentials and payment providers' tokens and keys.
const SECRET_VALUE_PREFIXES: &[&str] = &[
    "$argon2", "$2a$", "$2b$", "$2y$", "$scrypt$", "$pbkdf2", "tok_", "sk_live_", "sk_test_",
    "rk_live_", "rk_test_", "whsec_",
];

fn secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase().replace('-', "_");
    SECRET_KEYS.contains(&key.as_str()) || SECRET_KEY_PARTS.iter().any(|p| key.contains(p))
}

fn secret_value(s: &str) -> bool {
    let starts = |p: &str| {
        s.as_bytes()
            .get(..p.len())
            .is_some_and(|b| b.eq_ignore_ascii_case(p.as_bytes()))
    };
    if starts("bearer ") || starts("basic ") {
        return true;
    }
    if SECRET_VALUE_PREFIXES.iter().any(|p| s.starts_with(p)) {
        return true;
    }
    // A JSON Web Token: three base64url parts, the header always opening with `{"`.
    s.starts_with("eyJ")
        && s.split('.').count() == 3
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='))
}

/// Replaces every secret in `value` with [`REDACTED`], in place: the values of keys that
/// name a secret ([`SECRET_KEY_PARTS`], [`SECRET_KEYS`]), strings shaped like a credential
/// (a password hash, a bearer token, a JWT, a payment token or API key), and the `key` of a
/// uniqueness claim whose `kind` names a secret (a claimed reset token, say).
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let secret_claim = map
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(secret_key);
            for (k, v) in map.iter_mut() {
                if (secret_key(k) || (secret_claim && k == "key")) && !v.is_null() {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::String(s) if secret_value(s) => *s = REDACTED.to_owned(),
        _ => {}
    }
}

fn meta_str<'a>(event: &'a RecordedEvent, key: &str) -> Option<&'a str> {
    event.metadata.get(key).and_then(Value::as_str)
}

fn meta_uuid(event: &RecordedEvent, key: &str) -> Option<Uuid> {
    meta_str(event, key).and_then(|s| Uuid::parse_str(s).ok())
}

/// The client's address as PostgreSQL's `inet` takes it; a value that is not an address
/// (or carries a port) must not make the event poison, so it is normalised or dropped.
fn client_ip(event: &RecordedEvent) -> Option<String> {
    let raw = meta_str(event, "client_ip")?.trim();
    raw.parse::<IpAddr>()
        .or_else(|_| raw.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_string())
}

#[async_trait]
impl Projection for AuditProjection {
    fn name(&self) -> &'static str {
        "audit"
    }

    fn schema(&self) -> &'static str {
        "audit"
    }

    fn tables(&self) -> &'static str {
        include_str!("../../schemas/read-models/audit.sql")
    }

    fn store_local_columns(&self) -> &'static [&'static str] {
        &["created_at", "commit_position", "prepare_position"]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        self.apply_batch(tx, &[event]).await
    }

    /// One row per event, the whole batch in one statement over arrays.
    async fn apply_batch(
        &self,
        tx: &mut PgConnection,
        events: &[&RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let now = Utc::now();
        let rows: Vec<Row> = events
            .iter()
            .map(|e| Row::of(e, self.retention, now))
            .collect();
        macro_rules! col {
            ($f:expr) => {
                rows.iter().map($f).collect::<Vec<_>>()
            };
        }
        sqlx::query(
            "insert into audit_logs (event_id, user_id, role, action, resource, resource_id,
                 details, ip_address, user_agent, created_at, occurred_at, correlation_id,
                 causation_id, command_id, client_request_id, stream_id, stream_version,
                 schema_version, commit_position, prepare_position)
             select event_id, user_id, role, action, resource, resource_id, details,
                    ip_address::inet, user_agent, created_at, occurred_at, correlation_id,
                    causation_id, command_id, client_request_id, stream_id, stream_version,
                    schema_version, commit_position, prepare_position
               from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                    $6::text[], $7::jsonb[], $8::text[], $9::text[], $10::timestamptz[],
                    $11::timestamptz[], $12::uuid[], $13::uuid[], $14::uuid[], $15::text[],
                    $16::text[], $17::int8[], $18::int4[], $19::int8[], $20::int8[])
                 as t(event_id, user_id, role, action, resource, resource_id, details,
                      ip_address, user_agent, created_at, occurred_at, correlation_id,
                      causation_id, command_id, client_request_id, stream_id, stream_version,
                      schema_version, commit_position, prepare_position)
             on conflict (event_id) do nothing",
        )
        .bind(col!(|r| r.event.id))
        .bind(col!(|r| meta_uuid(r.event, "actor_id")))
        .bind(col!(|r| r.role.to_owned()))
        .bind(col!(|r| r.event.event_type.clone()))
        .bind(col!(|r| r.resource.to_owned()))
        .bind(col!(|r| r.resource_id.to_owned()))
        .bind(col!(|r| r.details.clone()))
        .bind(col!(|r| client_ip(r.event).filter(|_| r.client_data_kept)))
        .bind(col!(|r| meta_str(r.event, "user_agent")
            .filter(|_| r.client_data_kept)
            .map(str::to_owned)))
        .bind(col!(|r| r.event.recorded_at))
        .bind(col!(|r| r.occurred_at))
        .bind(col!(|r| meta_uuid(r.event, "correlation_id")))
        .bind(col!(|r| meta_uuid(r.event, "causation_id")))
        .bind(col!(|r| meta_uuid(r.event, "command_id")))
        .bind(col!(
            |r| meta_str(r.event, "client_request_id").map(str::to_owned)
        ))
        .bind(col!(|r| r.event.stream_id.clone()))
        .bind(col!(|r| r.event.revision as i64))
        .bind(col!(|r| r.event.schema_version as i32))
        .bind(col!(|r| r.event.position.commit as i64))
        .bind(col!(|r| r.event.position.prepare as i64))
        .execute(&mut *tx)
        .await?;
        let erased: Vec<Uuid> = events.iter().filter_map(|e| erased_subject(e)).collect();
        if !erased.is_empty() {
            // The rows whose address and agent were sealed with the person's key (their
            // own requests, and the anonymous ones on their own stream), as a replay
            // reads them once it is gone.
            sqlx::query(
                "update audit_logs set ip_address = null, user_agent = null
                  where user_id = any($1)
                     or (user_id is null and stream_id = any($2))",
            )
            .bind(&erased)
            .bind(
                erased
                    .iter()
                    .flat_map(|id| {
                        domain::privacy::PERSONS_STREAMS.map(|category| format!("{category}-{id}"))
                    })
                    .collect::<Vec<_>>(),
            )
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}

/// What one event's row needs beyond its own fields.
struct Row<'a> {
    event: &'a RecordedEvent,
    role: &'a str,
    resource: &'a str,
    resource_id: &'a str,
    details: serde_json::Value,
    occurred_at: Option<DateTime<Utc>>,
    /// Whether the policy still keeps the client's address and browser.
    client_data_kept: bool,
}

impl<'a> Row<'a> {
    fn of(event: &'a RecordedEvent, retention: Retention, now: DateTime<Utc>) -> Self {
        let (resource, resource_id) = (event.category(), event.stream_key());
        let mut details = event.data.clone();
        redact(&mut details);
        for field in domain::privacy::declared(resource, &event.event_type) {
            if let Some(v) = details.get_mut(&field.name).filter(|v| !v.is_null()) {
                *v = serde_json::Value::String(PERSONAL.to_owned());
            }
        }
        let occurred_at = meta_str(event, "occurred_at")
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc));
        // The time the pass compares as well (`coalesce(occurred_at, created_at)`): the
        // command's own, which an export carries, before the store's.
        let at = occurred_at.unwrap_or(event.recorded_at);
        Row {
            event,
            // Events appended outside the command handler may lack an actor; say so rather
            // than pretend the engine did it.
            role: meta_str(event, "actor_role").unwrap_or("unknown"),
            resource,
            resource_id,
            details,
            occurred_at,
            client_data_kept: retention.keeps_client_data(at, now),
        }
    }
}
