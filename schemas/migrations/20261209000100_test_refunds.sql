-- The `test` payment provider's ledger of refunds (issue 22, returns), beside its charges:
-- one row per idempotency key (a return's refund is keyed by the return), so a refund
-- asked twice gives the money back once, as a real provider's would.
create table payment.test_refunds (
    idempotency_key text primary key,
    order_id        uuid not null,
    amount          bigint not null,
    currency        char(3) not null,
    reference       text not null,
    refunded_at     timestamptz not null default now()
);

create index test_refunds_order_idx on payment.test_refunds (order_id);
