-- The `audit` read model: one row per event of `$all`, every category, in the shape of the
-- seed's `audit_logs` (actor, action, resource, details, ip address, user agent, time) plus
-- where the event sits in the log. Names are unqualified: the projection runtime creates
-- them in the schema `audit`, or in its shadow `audit__rebuild` during a rebuild.
--
-- Rows are inserted, keyed by the event id, so the table is the log itself seen through the
-- metadata every event carries (invariant 9), with secrets taken out of `details` (see
-- `projections/src/audit.rs`). The one update is retention's, which nulls a row's client
-- address and browser once they age out (`projections/src/retention.rs`).

create table audit_logs (
    event_id         uuid primary key,
    -- Who: the user behind the command (null when the engine acted on its own) and the
    -- role they acted in (`customer`, `admin`, `system`, ...).
    user_id          uuid,
    role             text not null,
    -- What: the event type, e.g. `OrderPlaced`.
    action           text not null,
    -- On what: the stream's category (`order`) and the rest of its id (`<uuid>`, or the
    -- SKU for `inventory`).
    resource         text not null,
    resource_id      text not null,
    -- The event's data with secrets replaced by "[redacted]".
    details          jsonb not null,
    -- The client's address and browser, null once older than RETENTION_CLIENT_DATA_DAYS
    -- (by `occurred_at`, else `created_at`): the projection does not write them for an
    -- older event and the retention pass clears them as rows age.
    ip_address       inet,
    user_agent       text,
    -- When the store recorded the event, and when the command said it happened.
    created_at       timestamptz not null,
    occurred_at      timestamptz,
    -- The request or business flow, the command or event that caused this one, the command.
    -- The correlation id is the server's own; `client_request_id` is the `X-Request-Id` the
    -- client sent, kept apart so a client cannot join its events to another's trail.
    correlation_id   uuid,
    causation_id     uuid,
    command_id       uuid,
    client_request_id text,
    stream_id        text not null,
    stream_version   bigint not null,
    schema_version   integer not null,
    commit_position  bigint not null,
    prepare_position bigint not null
);

create index audit_logs_actor_idx on audit_logs (user_id, created_at desc);
create index audit_logs_correlation_idx on audit_logs (correlation_id, commit_position, prepare_position);
create index audit_logs_client_request_idx on audit_logs (client_request_id) where client_request_id is not null;
create index audit_logs_resource_idx on audit_logs (resource, resource_id, created_at desc);
create index audit_logs_action_idx on audit_logs (action, created_at desc);
create index audit_logs_time_idx on audit_logs (created_at desc);

-- The rows whose client data the retention pass has still to clear, by the time it compares.
create index audit_logs_client_data_idx on audit_logs ((coalesce(occurred_at, created_at)))
    where ip_address is not null or user_agent is not null;
