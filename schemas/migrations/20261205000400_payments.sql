-- Payments outside the event log: what the `test` provider keeps on its side, and the
-- signed webhooks already received. Neither is a business fact (the payment stream is),
-- so tables and not events.
create schema if not exists payment;

-- The `test` provider's ledger, as a real provider keeps one: one charge per idempotency
-- key (`<order id>:<attempt>`). A second call with a key answers the first call's outcome
-- and charges nothing, so two concurrent pays of one order, in one process or in several,
-- take the money once.
create table payment.test_charges (
    idempotency_key text primary key,
    order_id        uuid not null,
    amount          bigint not null,
    currency        char(3) not null,
    -- The answer: `{"outcome": "captured", "reference": ...}` or `{"outcome": "declined",
    -- "code": ..., "message": ...}`.
    outcome         jsonb not null,
    charged_at      timestamptz not null default now()
);

create index test_charges_order_idx on payment.test_charges (order_id);

-- The replay cache of `POST /api/v1/payments/webhook`: each signature is accepted once.
-- A provider re-signs every delivery, so its retry of an event is a new signature (and the
-- payment stream makes the event's effect happen once); a captured request sent again is
-- the same signature and is refused. Rows older than the timestamp window can go: a replay
-- of them is refused as stale anyway.
create table payment.webhook_receipts (
    signature   text primary key,
    event_id    text not null,
    received_at timestamptz not null default now()
);

create index webhook_receipts_received_idx on payment.webhook_receipts (received_at);
