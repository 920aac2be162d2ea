-- The `inventory` read model: warehouses, stock per SKU and warehouse, and the units sold
-- per SKU, warehouse and day. Names are unqualified: the projection runtime creates them
-- in the schema `inventory`, or in its shadow `inventory__rebuild` during a rebuild.
--
-- Kept incrementally from the inventory and warehouse streams. Reservations recorded
-- before warehouses were (their events name none) count in no warehouse's `reserved`:
-- the SKU's total in `catalog.stock` has them.

-- Every warehouse created (the default warehouse `main` appears only once created).
create table warehouses (
    warehouse_id   uuid primary key,
    code           text not null unique,
    name           text not null,
    country        text,
    region         text,
    priority       integer not null,
    active         boolean not null,
    created_at     timestamptz not null,
    deactivated_at timestamptz
);

-- Stock of one SKU in one warehouse. A row appears when stock first moves there.
create table stock (
    sku        text not null,
    warehouse  text not null,
    on_hand    bigint not null default 0,
    reserved   bigint not null default 0,
    available  bigint generated always as (on_hand - reserved) stored,
    updated_at timestamptz not null,
    primary key (sku, warehouse)
);

-- Units shipped (reservations committed) per SKU, warehouse and UTC day: the report's
-- days of cover average the last 30 days of it.
create table sales (
    sku       text not null,
    warehouse text not null,
    day       date not null,
    quantity  bigint not null,
    primary key (sku, warehouse, day)
);
