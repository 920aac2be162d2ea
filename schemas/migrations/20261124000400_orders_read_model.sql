-- The projection runtime's bookkeeping. Each read model's own tables are not migrations:
-- they live in `schemas/read-models/<name>.sql`, and the runtime creates them in the read
-- model's schema (or in a shadow schema during a rebuild, then swaps it in).
create schema if not exists projections;

-- How far in $all each projection has applied events; advanced in the same transaction as
-- the rows it covers, so a projection applies every event exactly once. `<name>#rebuild`
-- rows follow a rebuild into its shadow schema.
create table projections.checkpoints (
    projection       text primary key,
    commit_position  bigint not null,
    prepare_position bigint not null,
    events_applied   bigint not null default 0,
    -- md5 of the DDL the read model's tables were created with: when the code's DDL
    -- differs, the runtime rebuilds the read model before following $all.
    tables_md5       text,
    -- recorded_at of the last event applied.
    last_event_at    timestamptz,
    updated_at       timestamptz not null default now()
);

-- Poison events: ones a projection failed to apply the same way on every attempt. Parked
-- with the error and skipped, so they do not block the events after them.
create table projections.parked (
    projection       text not null,
    event_id         uuid not null,
    stream_id        text not null,
    event_type       text not null,
    commit_position  bigint not null,
    prepare_position bigint not null,
    error            text not null,
    attempts         integer not null,
    parked_at        timestamptz not null default now(),
    primary key (projection, event_id)
);

-- Lag per projection, refreshed every few seconds by the runtime's monitor.
create table projections.status (
    projection   text primary key,
    lag_events   bigint not null,
    -- How long the oldest event not yet applied has waited; 0 when caught up.
    lag_seconds  double precision not null,
    parked       bigint not null,
    checked_at   timestamptz not null default now()
);
