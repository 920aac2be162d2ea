-- The `price_history` read model: what one unit of each SKU cost every customer over time,
-- for the lowest price of the 30 days before a promotion (EU Omnibus). Names are
-- unqualified: the projection runtime creates them in the schema `price_history`, or in
-- its shadow `price_history__rebuild` during a rebuild. Kept from the `product-<id>`,
-- `category-<id>` and `price_rule-<id>` streams; each price is the price engine's under
-- the rules kept here, at the event's time (a rule's window at its own instant).

-- Each SKU (a product, or one of its variants) as priced now.
create table skus (
    sku            uuid primary key,
    product_id     uuid not null,
    variant_id     uuid,
    -- Its category's path from the root, itself last (for category rules).
    categories     uuid[] not null,
    vendor_id      uuid,
    currency       text not null,
    list_price     bigint not null,
    price          bigint not null,
    since          timestamptz not null,
    -- When the current run of prices below the list price began; null when at list.
    promoted_since timestamptz
);
create index skus_product on skus (product_id);
create index skus_categories on skus using gin (categories);
create index skus_vendor on skus (vendor_id) where vendor_id is not null;

-- Every price a SKU has had, from `at` until its next row.
create table changes (
    sku        uuid not null,
    at         timestamptz not null,
    currency   text not null,
    list_price bigint not null,
    price      bigint not null,
    promoted   boolean not null,
    primary key (sku, at)
);

-- Per SKU and UTC day on which its price moved: the range it had that day.
create table days (
    sku        uuid not null,
    day        date not null,
    currency   text not null,
    low        bigint not null,
    high       bigint not null,
    close      bigint not null,
    list_close bigint not null,
    primary key (sku, day)
);

-- What the prices are computed from: the rules and the category tree, as the log has them.
create table rules (
    rule_id    uuid primary key,
    version    integer not null,
    enabled    boolean not null,
    terms      jsonb not null,
    scope_kind text not null,
    scope_id   uuid
);
create index rules_scope on rules (scope_id) where enabled;

create table categories (
    category_id uuid primary key,
    path        uuid[] not null
);
