-- The `test` payout provider's own book (issue 23): one row per payout it was asked to
-- make, keyed by the payout, so a retry pays once and answers the first outcome, as a real
-- provider would. No money moves.
create schema if not exists payout;

create table payout.test_payouts (
    idempotency_key text primary key,
    vendor_id       uuid not null,
    amount          bigint not null,
    currency        text not null,
    -- {"paid": {"reference": ...}} or {"declined": {"reason": ...}}
    outcome         jsonb not null,
    created_at      timestamptz not null default now()
);
