-- The `returns` read model (issue 22): every return of every order, with its lines and
-- steps. Names are unqualified: the projection runtime creates them in the schema
-- `returns`, or in its shadow during a rebuild. Kept from the `returns-<order id>` streams.

create table returns (
    return_id         uuid primary key,
    order_id          uuid not null,
    user_id           uuid not null,
    status            text not null,
    reason            text not null,
    -- What the return refunds, minor units of `currency`.
    refund            bigint not null,
    currency          char(3) not null,
    units             bigint not null,
    warehouse         text,
    disposition       text,
    payment_reference text,
    requested_at      timestamptz not null,
    approved_at       timestamptz,
    rejected_at       timestamptz,
    received_at       timestamptz,
    refunded_at       timestamptz,
    updated_at        timestamptz not null
);

create index returns_order on returns (order_id, requested_at);
create index returns_status on returns (status, requested_at);

create table return_lines (
    return_id  uuid not null references returns (return_id),
    sku        text not null,
    product_id uuid not null,
    variant_id uuid,
    quantity   integer not null,
    refund     bigint not null,
    primary key (return_id, sku)
);
