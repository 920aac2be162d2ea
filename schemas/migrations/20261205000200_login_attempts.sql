-- Failed logins are counted per account and client address (LOGIN_FAILURES_LIMIT from one
-- address, LOGIN_FAILURES_ACCOUNT_LIMIT from all of them), and an attempt is claimed here
-- before its password is checked: the gateway counts and inserts under a transaction-scoped
-- advisory lock on the account, then deletes the row again (by `login_failure_id`) when the
-- password was right. Rows from before this migration have no address: they count towards
-- the account's ceiling only.
alter table auth.login_failures
    add column login_failure_id bigint generated always as identity primary key,
    add column client_ip inet;

create index login_failures_email_ip_idx on auth.login_failures (email, client_ip, failed_at);
-- Pruning deletes by age across accounts.
create index login_failures_failed_at_idx on auth.login_failures (failed_at);
