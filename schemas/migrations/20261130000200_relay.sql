-- The relay's progress: how far in $all it has published to a JetStream stream, keyed by
-- the stream's name, so several deployments (and test runs) can share one NATS server and
-- one database without sharing a position. Advanced only after JetStream acknowledged
-- every event up to it; a relay restarted from here republishes at most what it had not
-- yet recorded, and JetStream drops those copies by `Nats-Msg-Id` (or the projections'
-- checkpoints skip them).
create table projections.relay_checkpoints (
    relay            text primary key,
    commit_position  bigint not null,
    prepare_position bigint not null,
    -- Events JetStream stored for this relay (duplicates it dropped are not counted).
    published        bigint not null default 0,
    updated_at       timestamptz not null default now()
);
