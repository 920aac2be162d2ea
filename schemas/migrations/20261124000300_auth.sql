-- Refresh tokens: opaque, rotated on every use, stored only as a SHA-256 hash. A token used
-- twice means it was stolen (or replayed): the whole family (every token descended from one
-- login) is revoked. Session state, not a business fact, so it is a table and not events.
create schema if not exists auth;

create table auth.refresh_tokens (
    token_hash  bytea primary key,
    family_id   uuid not null,
    user_id     uuid not null,
    issued_at   timestamptz not null default now(),
    expires_at  timestamptz not null,
    used_at     timestamptz,
    revoked_at  timestamptz
);

create index refresh_tokens_family_idx on auth.refresh_tokens (family_id);
create index refresh_tokens_user_idx on auth.refresh_tokens (user_id);
