-- The console's operations pages (issue 25): parked events acted on by staff, every action
-- audited, the trend of each read model's lag, and rebuilds started from the console.

-- A parked event's own id, for the routes that act on it (`/admin/parked/{id}/retry`): the
-- key (projection, event id) is two values, and one event may be parked by several read
-- models.
alter table projections.parked
    add column parked_id uuid not null default gen_random_uuid();
create unique index parked_parked_id_idx on projections.parked (parked_id);

-- What staff did with parked events: who, when, why, and what came of it. Written in the
-- same transaction as the action itself, so an action is never done unrecorded.
create table projections.parked_actions (
    action_id        uuid primary key default gen_random_uuid(),
    parked_id        uuid not null,
    projection       text not null,
    event_id         uuid not null,
    stream_id        text not null,
    event_type       text not null,
    -- retry, skip or discard
    action           text not null check (action in ('retry', 'skip', 'discard')),
    -- applied or failed (a retry), skipped, discarded
    outcome          text not null check (outcome in ('applied', 'failed', 'skipped', 'discarded')),
    -- What the read model said when a retry failed again.
    error            text,
    reason           text not null,
    actor_id         uuid,
    actor_role       text not null,
    -- The request that acted (its correlation id), to find it in the server's log.
    correlation_id   uuid,
    acted_at         timestamptz not null default now()
);
create index parked_actions_acted_at_idx on projections.parked_actions (acted_at desc);

-- Events staff discarded for a read model: when one fails again (in a rebuild), it is
-- dropped without being parked. Consulted only when an event fails, never per batch.
create table projections.discarded (
    projection    text not null,
    event_id      uuid not null,
    discarded_at  timestamptz not null default now(),
    primary key (projection, event_id)
);

-- The measurement before the last one, so a reader sees whether lag grows or shrinks.
alter table projections.status
    add column previous_lag_events bigint,
    add column previous_checked_at timestamptz;

-- Rebuilds started through the admin API or the console: progress as the rebuild reports
-- it, then the verification of the rebuilt read model against a fresh replay.
create table projections.rebuilds (
    rebuild_id       uuid primary key,
    projection       text not null,
    -- running, verifying, verified, mismatch, failed
    state            text not null,
    reason           text not null,
    actor_id         uuid,
    actor_role       text not null,
    events           bigint not null default 0,
    -- `$all` positions as `commit/prepare`: where the rebuild is, and the head it aims at.
    position         text,
    head             text,
    error            text,
    started_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    finished_at      timestamptz
);
create index rebuilds_projection_idx on projections.rebuilds (projection, started_at desc);
-- One running rebuild per read model, across every process.
create unique index rebuilds_one_running_idx on projections.rebuilds (projection)
    where state in ('running', 'verifying');
