-- The `pc_builder` read model (issue 24): the catalog's products as PC parts, with the
-- attributes the compatibility rules read, and the builds with their parts. Names are
-- unqualified: the projection runtime creates them in the schema `pc_builder`, or in its
-- shadow `pc_builder__rebuild` during a rebuild. Kept from the `product-<id>` and
-- `pc_build-<id>` streams.

-- Every product, not only parts: an update that gives a product its `pc_slot` attribute
-- carries neither its name nor its price, so the row must already hold them.
create table parts (
    product_id   uuid primary key,
    -- The slot the product is a part of (its `pc_slot` attribute); null: not a PC part.
    slot         text,
    sku          text not null,
    name         text not null,
    price_amount bigint not null,
    currency     text not null,
    status       text not null,
    attributes   jsonb not null,
    updated_at   timestamptz not null
);

-- The compatible-parts query: the parts on sale in one slot, in name order.
create index parts_on_sale_by_slot on parts (slot, name, product_id)
    where status = 'active' and slot is not null;

create table builds (
    build_id   uuid primary key,
    -- Null for an anonymous build (reached only by its share link).
    owner_id   uuid,
    name       text not null,
    shared     boolean not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

-- A user's builds, latest first.
create index builds_by_owner on builds (owner_id, updated_at desc, build_id);

create table build_components (
    build_id   uuid not null,
    slot       text not null,
    product_id uuid not null,
    quantity   integer not null,
    primary key (build_id, slot, product_id)
);
