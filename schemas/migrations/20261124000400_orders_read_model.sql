-- The projection runtime's bookkeeping, and the orders read model (analysts query these).
--
-- Money is stored as integer minor units plus an ISO 4217 currency (invariant 8): `total`
-- of 1999 and `currency` 'USD' is 19.99 US dollars.
create schema if not exists projections;

-- How far in $all each projection has applied events; advanced in the same transaction as
-- the rows it covers, so a projection applies every event exactly once.
create table projections.checkpoints (
    projection       text primary key,
    commit_position  bigint not null,
    prepare_position bigint not null,
    events_applied   bigint not null default 0,
    updated_at       timestamptz not null default now()
);

create schema if not exists orders;

create table orders.orders (
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
    updated_at          timestamptz not null
);

create index orders_user_idx on orders.orders (user_id, created_at desc);
create index orders_status_idx on orders.orders (status, created_at desc);

create table orders.order_items (
    order_id   uuid not null references orders.orders (order_id) on delete cascade,
    line       integer not null,
    product_id uuid not null,
    sku        text not null,
    quantity   integer not null,
    price      bigint not null,
    subtotal   bigint not null,
    primary key (order_id, line)
);

-- The status timeline: one row per status change, with who made it and why.
create table orders.order_history (
    order_id   uuid not null references orders.orders (order_id) on delete cascade,
    event_id   uuid primary key,
    status     text not null,
    notes      text,
    updated_by uuid,
    role       text not null,
    created_at timestamptz not null
);

create index order_history_order_idx on orders.order_history (order_id, created_at);
