-- `Idempotency-Key`: the first answer to a command, kept so a retry with the same key is
-- answered the same way and appends nothing. Session state of the HTTP API, not a business
-- fact, so a table and not events.
--
-- `scope` keeps one client's keys apart from another's (`user:<id>`, or `ip:<address>` for
-- anonymous calls). `fingerprint` is a SHA-256 of the method, path and body: the same key
-- with another request is refused. A row with a null `status` is a request still being
-- answered; a concurrent duplicate is refused with 409 until it is done. 5xx answers are
-- never kept: the row is deleted so the client may retry.
create schema if not exists idempotency;

create table idempotency.responses (
    scope        text not null,
    idempotency_key text not null,
    fingerprint  bytea not null,
    status       smallint,
    -- [[name, value], ...] of the headers worth replaying (Location, X-Consistency-Token,
    -- Content-Type, ...).
    headers      jsonb,
    body         bytea,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null,
    primary key (scope, idempotency_key)
);

create index responses_expires_idx on idempotency.responses (expires_at);
