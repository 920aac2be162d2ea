-- The `vendor_orders` read model (issue 23 item 3): each store's part of a customer's
-- order (its sub-order) with its lines and how far they have shipped, kept from the
-- `order-<id>` streams. Orders without a store's line are not here.

-- One store's part of one order.
create table sub_orders (
    vendor_id    uuid not null,
    order_id     uuid not null,
    -- The customer's order's status (`pending`, `awaiting_payment`, `paid`, ...).
    order_status text not null,
    currency     char(3) not null,
    -- The store's lines at their price after price rules, before the order's coupon.
    subtotal     bigint not null,
    line_count   integer not null,
    units        integer not null,
    placed_at    timestamptz not null,
    -- When the order was paid: its lines count as the store's sales from then on.
    paid_at      timestamptz,
    -- When the whole order was given back (refunded in full, or cancelled once paid).
    given_back_at timestamptz,
    updated_at   timestamptz not null,
    primary key (vendor_id, order_id)
);

create index sub_orders_vendor_placed on sub_orders (vendor_id, placed_at desc);

create table sub_order_lines (
    vendor_id  uuid not null,
    order_id   uuid not null,
    sku        text not null,
    product_id uuid not null,
    variant_id uuid,
    quantity   integer not null,
    price      bigint not null,
    -- Units that left in a shipment, and that arrived.
    shipped    integer not null default 0,
    delivered  integer not null default 0,
    -- Units cancelled before they shipped (issue 22): they never leave.
    cancelled  integer not null default 0,
    primary key (vendor_id, order_id, sku)
);

create index sub_order_lines_order on sub_order_lines (order_id, sku);

-- Each shipment's lines, so that its delivery counts them.
create table shipment_lines (
    order_id    uuid not null,
    shipment_id uuid not null,
    sku         text not null,
    quantity    integer not null,
    primary key (order_id, shipment_id, sku)
);

-- The store's dashboard (issue 23 item 5). Sales count once the order is paid, on the UTC
-- day of its payment, at the lines' prices after price rules (before the order's coupon,
-- as `sub_orders.subtotal`). Units cancelled before shipping, and what a full refund or a
-- paid order's cancellation gives back, count on the day they happen, at each line's
-- share by units (the rule refunds follow). Partial refunds of returns are money only:
-- the store's ledger (`ledger`) has them.
create table sales_days (
    vendor_id       uuid not null,
    day             date not null,
    currency        char(3) not null,
    sub_orders      integer not null default 0,
    units           bigint not null default 0,
    gross           bigint not null default 0,
    cancelled_units bigint not null default 0,
    cancelled       bigint not null default 0,
    primary key (vendor_id, day, currency)
);

-- Each product's paid units and sales, less what was cancelled: the store's top products.
create table product_sales (
    vendor_id  uuid not null,
    product_id uuid not null,
    currency   char(3) not null,
    units      bigint not null default 0,
    gross      bigint not null default 0,
    primary key (vendor_id, product_id, currency)
);

create index product_sales_top on product_sales (vendor_id, units desc);
