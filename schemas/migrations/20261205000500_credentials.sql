-- Password hashes of the accounts context, outside the log (issue 18): an account's events
-- name the credential in force by id; a row no event names is inert.
create schema if not exists accounts;

create table accounts.credentials (
    credential_id uuid primary key,
    user_id uuid not null,
    password_hash text not null,
    created_at timestamptz not null default now()
);

create index credentials_by_user on accounts.credentials (user_id);
