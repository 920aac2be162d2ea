-- The `orders` read model: orders, their items and their status history (the seed's
-- tables). Names are unqualified: the projection runtime creates them in the schema
-- `orders`, or in its shadow `orders__rebuild` during a rebuild, and swaps the two.
--
-- Money is integer minor units plus an ISO 4217 currency (invariant 8): `total` 1999
-- with `currency` 'USD' is 19.99 US dollars.

create table orders (
    order_id            uuid primary key,
    user_id             uuid not null,
    status              text not null,
    payment_status      text not null,
    currency            char(3) not null,
    subtotal            bigint not null,
    tax                 bigint not null,
    shipping            bigint not null,
    discount            bigint not null,
    total               bigint not null,
    refunded            bigint not null default 0,
    shipping_address    jsonb not null,
    billing_address     jsonb,
    payment_method      text not null,
    notes               text,
    tracking_number     text,
    cancellation_reason text,
    created_at          timestamptz not null,
    updated_at          timestamptz not null,
    -- Issue 22: the shipping method `shipping` was quoted for (null before rates).
    shipping_method     text
);

create index orders_user_idx on orders (user_id, created_at desc);
create index orders_status_idx on orders (status, created_at desc);

create table order_items (
    order_id   uuid not null references orders (order_id) on delete cascade,
    line       integer not null,
    product_id uuid not null,
    sku        text not null,
    quantity   integer not null,
    price      bigint not null,
    subtotal   bigint not null,
    -- ADR 0006: the variant bought (null for a product without variants; `sku` is then
    -- the product's), the line's share of the order's discount, and its tax as recorded:
    -- the rate in parts per million, whether the price included it, the rounding rule,
    -- what it applied to (`subtotal - discount`) and the amount.
    variant_id    uuid,
    discount      bigint not null default 0,
    tax           bigint not null default 0,
    tax_rate_ppm  integer not null default 0,
    tax_inclusive boolean not null default false,
    tax_rounding  text not null default 'half_up',
    taxable       bigint not null default 0,
    -- ADR 0008: what price rules took off the line (`subtotal` is at list price), and
    -- which: [{rule_id, rule_version, amount_off}], in the order applied.
    price_off     bigint not null default 0,
    price_rules   jsonb not null default '[]',
    -- Issue 22: units cancelled before they shipped (their refund is in `orders.refunded`).
    cancelled     integer not null default 0,
    -- Issue 23: the store that sold the line (null: the marketplace itself).
    vendor_id     uuid,
    primary key (order_id, line)
);

-- The status timeline: one row per status change, with who made it and why.
create table order_history (
    order_id   uuid not null references orders (order_id) on delete cascade,
    event_id   uuid primary key,
    status     text not null,
    notes      text,
    updated_by uuid,
    role       text not null,
    created_at timestamptz not null
);

create index order_history_order_idx on order_history (order_id, created_at);

-- One row per order's payment (the order's payment stream): its latest state. Amounts in
-- minor units of `currency`.
create table payments (
    order_id       uuid primary key,
    amount         bigint not null,
    currency       char(3) not null,
    method         text,
    gateway        text,
    status         text not null,
    transaction_id text,
    attempts       integer not null,
    refunded       bigint not null default 0,
    error_code     text,
    error_message  text,
    created_at     timestamptz not null,
    updated_at     timestamptz not null
);

create index payments_status_idx on payments (status, updated_at desc);
