-- The `shipping` read model (issue 22): shipments per order and per warehouse, the
-- fulfilment queue, and carriers' delivery times. Names are unqualified: the projection
-- runtime creates them in the schema `shipping`, or in its shadow during a rebuild. Kept
-- from the `shipment-<id>` streams and, for the queue, the `order-<id>` streams.

create table shipments (
    shipment_id     uuid primary key,
    order_id        uuid not null,
    user_id         uuid not null,
    warehouse       text not null,
    carrier         text not null,
    service_level   text not null,
    tracking_number text not null,
    status          text not null,
    -- Units of every line together.
    units           bigint not null,
    cost            bigint not null,
    currency        char(3) not null,
    created_at      timestamptz not null,
    shipped_at      timestamptz,
    delivered_at    timestamptz,
    updated_at      timestamptz not null
);

create index shipments_order on shipments (order_id, created_at);
create index shipments_warehouse on shipments (warehouse, status, created_at);

create table shipment_lines (
    shipment_id uuid not null references shipments (shipment_id),
    sku         text not null,
    product_id  uuid not null,
    variant_id  uuid,
    quantity    integer not null,
    primary key (shipment_id, sku)
);

-- Orders from placement until every line has shipped (or they are cancelled or refunded
-- in full); the queue is the paid ones.
create table fulfilment_queue (
    order_id        uuid primary key,
    placed_at       timestamptz not null,
    paid_at         timestamptz,
    units_ordered   bigint not null,
    units_shipped   bigint not null default 0,
    shipments       integer not null default 0
);

create index fulfilment_queue_paid on fulfilment_queue (paid_at, order_id)
    where paid_at is not null;

-- Per carrier, its shipments from `shipped` to `delivered`.
create table carrier_performance (
    carrier         text primary key,
    delivered       bigint not null,
    total_seconds   bigint not null,
    fastest_seconds bigint not null,
    slowest_seconds bigint not null
);
