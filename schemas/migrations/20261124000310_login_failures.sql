-- Failed logins per account, for LOGIN_FAILURES_LIMIT (10 in 15 minutes by default, from
-- any IP). Keyed by the normalised e-mail so unknown accounts are throttled the same way and
-- the limit reveals nothing about which e-mails exist.
create table auth.login_failures (
    email     text not null,
    failed_at timestamptz not null default now()
);

create index login_failures_email_idx on auth.login_failures (email, failed_at);
