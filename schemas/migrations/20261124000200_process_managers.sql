-- Process managers (the checkout saga, reservation expiry) keep their progress here. Their
-- state proper lives in the event streams; these tables only say how far in $all a manager
-- has acted and which reservations fall due when, so a restart resumes without acting twice
-- (every command they send has an id derived from the event that caused it).
create schema if not exists process;

create table process.checkpoints (
    name             text primary key,
    commit_position  bigint not null,
    prepare_position bigint not null,
    updated_at       timestamptz not null default now()
);

-- An order awaiting payment, and when its reservation expires.
create table process.reservation_deadlines (
    order_id       uuid primary key,
    expires_at     timestamptz not null,
    correlation_id uuid
);

create index reservation_deadlines_expires_at_idx on process.reservation_deadlines (expires_at);
