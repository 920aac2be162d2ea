-- Retention (issue 20, item 5): what each pass of the retention job removed, one row per
-- table per pass, so an auditor can see that the policy ran, when, and with what effect.
-- `kept_since` is the pass's cutoff for that table: what is older lost its client data or
-- outbox content. Rows are few (a pass an hour, two tables) and kept.
create schema if not exists privacy;

create table privacy.retention_runs (
    retention_run_id bigint generated always as identity primary key,
    ran_at           timestamptz not null default now(),
    table_name       text not null,
    kept_since       timestamptz not null,
    removed          bigint not null check (removed >= 0)
);

create index retention_runs_ran_at_idx on privacy.retention_runs (ran_at desc);
