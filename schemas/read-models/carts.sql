-- The `carts` read model: open carts, their lines, and the coupons a cart can show a
-- discount for. Names are unqualified: the projection runtime creates them in the schema
-- `carts`, or in its shadow `carts__rebuild` during a rebuild, and swaps the two.
--
-- Money is integer minor units plus an ISO 4217 currency (invariant 8). A signed-in
-- customer's cart has the customer's user id as its id; a guest's cart has an id of its
-- own and no `user_id`.

create table carts (
    cart_id        uuid primary key,
    user_id        uuid,
    -- Null while the cart is empty: a cart takes the currency of its first line.
    currency       char(3),
    coupon_code    text,
    -- `total = subtotal - discount`; the discount is a preview from the coupon's terms,
    -- checkout redeems the coupon and prices the order afresh.
    subtotal       bigint not null default 0,
    discount       bigint not null default 0,
    total          bigint not null default 0,
    item_count     integer not null default 0,
    last_order_id  uuid,
    checked_out_at timestamptz,
    created_at     timestamptz not null,
    updated_at     timestamptz not null,
    -- The cart's last event: its stream revision and time. The cart expiry process finds
    -- idle carts by `active_at` and expires them only if the revision is still this one.
    revision       bigint,
    active_at      timestamptz
);

create index carts_user_idx on carts (user_id);
create index carts_coupon_idx on carts (coupon_code) where coupon_code is not null;

create table cart_items (
    cart_id    uuid not null references carts (cart_id) on delete cascade,
    item_id    uuid not null,
    product_id uuid not null,
    sku        text not null,
    quantity   integer not null,
    -- The unit price when the line was added, in `currency`.
    price      bigint not null,
    currency   char(3) not null,
    subtotal   bigint not null,
    added_at   timestamptz not null,
    -- The variant the line buys (`sku` is then the variant's); null for a product
    -- without variants.
    variant_id uuid,
    primary key (cart_id, item_id)
);

-- Every coupon with its terms, kept so a cart's discount can be shown without asking the
-- write side, and with its use so far for staff's list. `kind` is `percent`
-- (`basis_points`, 1,000 = 10%) or `fixed` (`amount`). Empty `product_ids` and
-- `category_ids`: the coupon applies to every line.
create table coupons (
    code          text primary key,
    coupon_id     uuid not null,
    kind          text not null,
    basis_points  integer,
    amount        bigint,
    currency      char(3),
    min_order     bigint,
    min_order_currency char(3),
    valid_from    timestamptz,
    valid_until   timestamptz,
    active        boolean not null,
    max_uses      integer,
    max_uses_per_customer integer,
    product_ids   uuid[] not null default '{}',
    category_ids  uuid[] not null default '{}',
    -- Orders that use the coupon now: redeemed and not given back by a cancellation.
    uses          integer not null default 0,
    created_at    timestamptz not null,
    updated_at    timestamptz not null
);

create unique index coupons_coupon_idx on coupons (coupon_id);

-- One row per order that uses a coupon now; a cancelled order's row is deleted when its
-- redemption is given back.
create table coupon_redemptions (
    coupon_id   uuid not null,
    order_id    uuid not null,
    customer_id uuid not null,
    discount    bigint not null,
    currency    char(3) not null,
    redeemed_at timestamptz not null,
    primary key (coupon_id, order_id)
);

-- Each product's category, from the catalog's events, so a coupon scoped to categories
-- can preview its discount on the lines filed there.
create table product_categories (
    product_id  uuid primary key,
    category_id uuid not null
);

-- Lines saved for later: out of the cart, its totals and checkout, until moved back.
create table cart_saved_items (
    cart_id    uuid not null references carts (cart_id) on delete cascade,
    item_id    uuid not null,
    product_id uuid not null,
    sku        text not null,
    quantity   integer not null,
    -- The unit price when the line was added to the cart, in `currency`.
    price      bigint not null,
    currency   char(3) not null,
    saved_at   timestamptz not null,
    -- The variant the line buys; null for a product without variants.
    variant_id uuid,
    primary key (cart_id, item_id)
);

-- A cart's live share link, by the SHA-256 of its token (the token is never stored). One
-- per cart: sharing again replaces it, revoking or expiring the cart removes it.
create table cart_shares (
    token_hash text primary key,
    cart_id    uuid not null unique references carts (cart_id) on delete cascade,
    shared_at  timestamptz not null
);

create index carts_idle_idx on carts (active_at);
