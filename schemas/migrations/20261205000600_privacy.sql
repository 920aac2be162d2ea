-- Crypto-shredding (issue 20, ADR 0005): one data key per data subject, wrapped by the
-- master key; an erased subject keeps a tombstone (no key, the time of erasure).
create schema if not exists privacy;

create table privacy.data_keys (
    subject_id uuid primary key,
    master_key_id text,
    wrapped bytea,
    created_at timestamptz not null default now(),
    erased_at timestamptz,
    check ((wrapped is null) = (erased_at is not null)),
    check ((wrapped is null) = (master_key_id is null))
);

-- The embedded default's master key, when MASTER_KEY is not set: one row at most.
create table privacy.embedded_master_key (
    only_one boolean primary key default true check (only_one),
    key bytea not null,
    created_at timestamptz not null default now()
);
