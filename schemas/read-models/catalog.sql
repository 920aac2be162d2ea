-- The `catalog` read model: the category tree, products with their variants, images and
-- price history, and stock per SKU summed per product. Names are unqualified: the
-- projection runtime creates them in the schema `catalog`, or in its shadow
-- `catalog__rebuild` during a rebuild, and swaps the two.
--
-- Money is integer minor units plus an ISO 4217 currency (invariant 8). Every value comes
-- from the events alone (times are the events' own), so a rebuild is identical row for row.
--
-- Counters (category product counts, stock per SKU) are kept incrementally, never
-- re-aggregated per event: a rebuild replays every stock movement the shop ever made.

-- The tree. `path` lists the ids from the root down to the category itself, so "this
-- category and its descendants" is `path @> array[id]`.
create table categories (
    category_id           uuid primary key,
    name                  text not null,
    slug                  text not null,
    parent_id             uuid,
    path                  uuid[] not null,
    depth                 integer not null,
    -- Active products filed directly under the category, and under it or any descendant.
    product_count         integer not null default 0,
    subtree_product_count integer not null default 0,
    version               bigint not null,
    created_at            timestamptz not null,
    updated_at            timestamptz not null
);

create index categories_parent_idx on categories (parent_id, name);
create index categories_slug_idx on categories (slug);
create index categories_path_idx on categories using gin (path);

-- Wide and rarely written: stock sums live in `stock` (summed per product by the view
-- `product_stock`) and the search vector in `product_search`, so a stock movement or a
-- status change does not rewrite a wide row and its text index.
create table products (
    product_id     uuid primary key,
    sku            text not null,
    slug           text not null,
    name           text not null,
    description    text,
    category_id    uuid not null,
    -- Copied from the category for the search vector; follows renames.
    category_name  text,
    price          bigint not null,
    currency       char(3) not null,
    status         text not null,
    attributes     jsonb not null,
    vendor_id      uuid,
    version        bigint not null,
    created_at     timestamptz not null,
    updated_at     timestamptz not null,
    published_at   timestamptz,
    archived_at    timestamptz,
    -- SEO texts; null when not set.
    meta_title       text,
    meta_description text
);

create index products_status_created_idx on products (status, created_at desc, product_id);
create index products_status_price_idx on products (status, price, product_id);
create index products_status_name_idx on products (status, name, product_id);
create index products_category_idx on products (category_id, status);
create index products_slug_idx on products (slug);
create index products_sku_idx on products (sku);
create index products_vendor_idx on products (vendor_id) where vendor_id is not null;

-- Vendors suspended now: their products on sale read `suspended` until reinstated.
create table suspended_vendors (
    vendor_id    uuid primary key,
    suspended_at timestamptz not null
);

-- Weighted: name and SKU A, description B, category name C, attribute values D.
create table product_search (
    product_id uuid primary key,
    search     tsvector not null
);

create index product_search_idx on product_search using gin (search);

-- Kept by a trigger so every statement that writes a searched column keeps it current,
-- and only those: a price or status change leaves the text index alone.
create function products_search() returns trigger language plpgsql as $$
begin
    insert into product_search (product_id, search)
    values (new.product_id,
           setweight(to_tsvector('english', coalesce(new.name, '')), 'A')
        || setweight(to_tsvector('simple', coalesce(new.sku, '')), 'A')
        || setweight(to_tsvector('english', coalesce(new.description, '')), 'B')
        || setweight(to_tsvector('english', coalesce(new.category_name, '')), 'C')
        || setweight(jsonb_to_tsvector('english', new.attributes, '["string", "numeric"]'), 'D'))
    on conflict (product_id) do update set search = excluded.search;
    return null;
end
$$;

create trigger products_search
    after insert or update of name, sku, description, category_name, attributes on products
    for each row execute function products_search();

create table variants (
    variant_id  uuid primary key,
    product_id  uuid not null,
    sku         text not null,
    name        text not null,
    price       bigint not null,
    currency    char(3) not null,
    attributes  jsonb not null,
    -- The product stream's revision that added it: variants list in the order added.
    position    bigint not null,
    created_at  timestamptz not null
);

create index variants_product_idx on variants (product_id, position);
create index variants_sku_idx on variants (sku);

create table images (
    image_id    uuid primary key,
    product_id  uuid not null,
    url         text not null,
    alt         text,
    position    integer not null
);

create index images_product_idx on images (product_id, position, image_id);

-- A product's former slugs: each still names the product (the write side keeps it
-- claimed), and a lookup by it redirects to the product's current slug.
create table product_redirects (
    slug        text primary key,
    product_id  uuid not null,
    changed_at  timestamptz not null
);

create index product_redirects_product_idx on product_redirects (product_id);

-- Every price change, for analysts (the current price is on `products`).
create table price_changes (
    event_id    uuid primary key,
    product_id  uuid not null,
    from_price  bigint not null,
    to_price    bigint not null,
    currency    char(3) not null,
    changed_at  timestamptz not null
);

create index price_changes_product_idx on price_changes (product_id, changed_at);

-- Stock per SKU, summed over warehouses. A row appears when stock first moves or a
-- product or variant names the SKU; `product_id` is null for stock received before its
-- product. The hottest table: narrow, and its counters are in no index, so a movement is a
-- HOT update of one row.
create table stock (
    sku                 text primary key,
    product_id          uuid,
    variant_id          uuid,
    on_hand             bigint not null default 0,
    reserved            bigint not null default 0,
    sold                bigint not null default 0,
    available           bigint generated always as (on_hand - reserved) stored,
    low_stock_threshold integer,
    low_stock           boolean generated always as
                            (low_stock_threshold is not null and on_hand - reserved < low_stock_threshold) stored,
    -- LowStockDetected events: one per fall below the threshold.
    low_stock_alerts    integer not null default 0,
    last_low_stock_at   timestamptz,
    updated_at          timestamptz
) with (fillfactor = 70);

create index stock_product_idx on stock (product_id) where product_id is not null;

-- A product's stock: its SKU's and its variants', summed. A product has a handful of
-- SKUs, so summing when read costs less than keeping a second copy of every movement.
create view product_stock as
select product_id,
       sum(on_hand)::bigint as on_hand,
       sum(reserved)::bigint as reserved,
       sum(available)::bigint as available,
       bool_or(low_stock) as low_stock,
       count(*) filter (where low_stock)::integer as low_stock_skus
  from stock
 where product_id is not null
 group by product_id;

-- Search (ADR 0007). One row per facetable value of a product on sale (status `active`):
-- `category` (its category and every ancestor, as ids, so a count is the subtree's),
-- `brand` (the attribute `brand`), `price` (`<currency>:<band>`, edges from
-- `price_band`), `in_stock` (`true`/`false`: stock available above 0 over its SKUs) and
-- `attr.<name>` per value of each other attribute of the product and of its variants
-- (an array gives one row per element). Values longer than 200 characters are left out.
-- Recomputed whole for the products a batch touched, after the batch's other writes, so
-- a rebuild equals the live build.
create table product_facets (
    product_id uuid not null,
    key        text not null,
    value      text not null,
    primary key (product_id, key, value)
);

create index product_facets_value_idx on product_facets (key, value, product_id);

-- The fixed price bands, in minor units, the same edges for every currency: a band is
-- `low-high` (high excluded), the last `100000-`.
create function price_band(price bigint) returns text language sql immutable as $$
    select case
        when price < 1000 then '0-1000'
        when price < 2500 then '1000-2500'
        when price < 5000 then '2500-5000'
        when price < 10000 then '5000-10000'
        when price < 25000 then '10000-25000'
        when price < 50000 then '25000-50000'
        when price < 100000 then '50000-100000'
        else '100000-'
    end
$$;

-- Prefix suggestions: names of products on sale (`product`, `ref` its id, weight 1),
-- brands (`brand`, `ref` the brand) and categories (`category`, `ref` its id), each of
-- the last two weighted by the products on sale it holds (gone at 0).
create table suggestions (
    kind   text not null,
    ref    text not null,
    term   text not null,
    weight integer not null,
    primary key (kind, ref)
);

create index suggestions_prefix_idx on suggestions (lower(term) text_pattern_ops);
create index suggestions_trgm_idx on suggestions using gin (lower(term) public.gin_trgm_ops);
