-- The `analytics` read model: daily sales (overall, per category, per product), the
-- cart → order → payment funnel, cancellations by reason, customers' RFM inputs, stock
-- levels, movements and low-stock alerts. Names are unqualified: the projection runtime
-- creates them in the schema `analytics`, or in its shadow `analytics__rebuild` during a
-- rebuild, and swaps the two (views follow their tables, they point at them, not at names).
--
-- Money is integer minor units plus an ISO 4217 currency (invariant 8). A day is the UTC
-- date of the business time the event carries (`placed_at`, the payment's `at`, ...);
-- inventory events and cart merges carry none, so theirs is the time of the command that
-- made them (metadata `occurred_at`).
--
-- Every table is a pure function of the events: no column depends on when the projection
-- ran. What depends on "now" (recency, days of cover) lives in views.

-- What the projection must remember from other aggregates. A rebuild replays this read
-- model alone, so it keeps its own copies instead of reading `catalog` or `orders`.

create table categories (
    category_id uuid primary key,
    name        text not null,
    parent_id   uuid
);

create table products (
    product_id  uuid primary key,
    sku         text not null,
    name        text not null,
    category_id uuid not null
);

-- Every SKU (the product's own and its variants') to its product, for the stock views.
create table product_skus (
    sku        text primary key,
    product_id uuid not null
);

-- One row per order: the facts later events need (who, how much, which day it belongs to).
create table orders (
    order_id            uuid primary key,
    user_id             uuid not null,
    currency            char(3) not null,
    total               bigint not null,
    units               bigint not null,
    placed_at           timestamptz not null,
    placed_day          date not null,
    paid_amount         bigint not null default 0,
    paid_at             timestamptz,
    refunded            bigint not null default 0,
    cancelled_at        timestamptz,
    cancellation_reason text
);

-- The lines of each order with the product's category when the order was placed; the nil
-- uuid stands for a product the catalog never announced.
create table order_lines (
    order_id    uuid not null,
    line        integer not null,
    product_id  uuid not null,
    sku         text not null,
    category_id uuid not null,
    quantity    bigint not null,
    revenue     bigint not null,
    -- The variant bought (`sku` is then the variant's); null for a product without.
    variant_id  uuid,
    primary key (order_id, line)
);

-- Sales per day and currency. Revenue is recognised when an order is paid, on the day of
-- the payment; refunds (and cancellations of paid orders, which refund in full) count on
-- the day they happen, so a past day's figures never change.
create table daily_sales (
    day                 date not null,
    currency            char(3) not null,
    orders_placed       bigint not null default 0,
    placed_value        bigint not null default 0,
    orders_paid         bigint not null default 0,
    units_sold          bigint not null default 0,
    gross_revenue       bigint not null default 0,
    orders_cancelled    bigint not null default 0,
    refunds             bigint not null default 0,
    refunded_amount     bigint not null default 0,
    payment_failures    bigint not null default 0,
    net_revenue         bigint generated always as (gross_revenue - refunded_amount) stored,
    average_order_value bigint generated always as (
        case when orders_paid > 0 then round(gross_revenue::numeric / orders_paid)::bigint end
    ) stored,
    primary key (day, currency)
);

-- Sales per day, category and currency, from the lines of paid orders (line revenue: unit
-- price times quantity, before the order's discount, tax and shipping). A full refund or
-- a cancelled paid order gives back every line; a partial refund is an amount, not lines,
-- and shows only in `daily_sales`.
create table daily_category_sales (
    day                 date not null,
    category_id         uuid not null,
    currency            char(3) not null,
    orders_paid         bigint not null default 0,
    units_sold          bigint not null default 0,
    revenue             bigint not null default 0,
    refunded_units      bigint not null default 0,
    refunded_revenue    bigint not null default 0,
    net_revenue         bigint generated always as (revenue - refunded_revenue) stored,
    average_order_value bigint generated always as (
        case when orders_paid > 0 then round(revenue::numeric / orders_paid)::bigint end
    ) stored,
    primary key (day, category_id, currency)
);

-- The same per product, for top-product lists over any period.
create table daily_product_sales (
    day              date not null,
    product_id       uuid not null,
    currency         char(3) not null,
    orders_paid      bigint not null default 0,
    units_sold       bigint not null default 0,
    revenue          bigint not null default 0,
    refunded_units   bigint not null default 0,
    refunded_revenue bigint not null default 0,
    primary key (day, product_id, currency)
);

create view top_products as
select s.product_id, p.sku, p.name, p.category_id, s.currency,
       sum(s.units_sold) as units_sold,
       sum(s.units_sold - s.refunded_units) as net_units,
       sum(s.revenue) as revenue,
       sum(s.revenue - s.refunded_revenue) as net_revenue,
       sum(s.orders_paid) as orders_paid
  from daily_product_sales s
  left join products p on p.product_id = s.product_id
 group by s.product_id, p.sku, p.name, p.category_id, s.currency;

-- The funnel by cohort: carts that got their first item on `day` and what became of them,
-- orders placed on `day` and how many of those were paid or cancelled (whenever that was).
create table funnel_daily (
    day               date primary key,
    carts_started     bigint not null default 0,
    carts_checked_out bigint not null default 0,
    carts_expired     bigint not null default 0,
    orders_placed     bigint not null default 0,
    orders_paid       bigint not null default 0,
    orders_cancelled  bigint not null default 0
);

create view funnel as
select day, carts_started, carts_checked_out, carts_expired, orders_placed, orders_paid,
       orders_cancelled,
       round(carts_checked_out::numeric / nullif(carts_started, 0), 4) as cart_conversion,
       round(orders_paid::numeric / nullif(orders_placed, 0), 4) as payment_conversion
  from funnel_daily;

-- Open carts: `opened_day` is the day of the first item since the cart was last checked
-- out or expired; null while the cart is closed.
create table carts (
    cart_id    text primary key,
    opened_day date
);

-- Cancellations per day (of the cancellation), reason and currency. `value` sums the
-- cancelled orders' totals; `paid_orders` counts those cancelled after payment (refunded).
create table cancellations (
    day         date not null,
    reason      text not null,
    currency    char(3) not null,
    orders      bigint not null default 0,
    value       bigint not null default 0,
    paid_orders bigint not null default 0,
    primary key (day, reason, currency)
);

-- Per customer and currency, the inputs of RFM: paid orders (a cancelled paid order no
-- longer counts), money kept (paid minus refunded) and the first and last payment.
create table customers (
    user_id        uuid not null,
    currency       char(3) not null,
    orders         bigint not null default 0,
    monetary       bigint not null default 0,
    first_order_at timestamptz not null,
    last_order_at  timestamptz not null,
    primary key (user_id, currency)
);

-- RFM scores 1 to 5 and a segment, as of now. Recency scores days since the last paid
-- order (5: within 30 days, 4: 60, 3: 90, 2: 180, 1: older); frequency scores paid orders
-- (5: 10 or more, 4: 5+, 3: 3+, 2: 2, 1: 1); monetary scores the customer's rank among
-- customers of the same currency (5: top fifth).
create view customer_rfm as
with scored as (
    select user_id, currency, orders as frequency, monetary, first_order_at, last_order_at,
           extract(day from now() - last_order_at)::integer as recency_days,
           case when now() - last_order_at <= interval '30 days' then 5
                when now() - last_order_at <= interval '60 days' then 4
                when now() - last_order_at <= interval '90 days' then 3
                when now() - last_order_at <= interval '180 days' then 2
                else 1 end as r_score,
           case when orders >= 10 then 5 when orders >= 5 then 4 when orders >= 3 then 3
                when orders = 2 then 2 else 1 end as f_score,
           greatest(1, ceil(5 * cume_dist() over (partition by currency order by monetary)))::integer
               as m_score
      from customers
     where orders > 0
)
select *,
       case when r_score >= 4 and f_score >= 4 and m_score >= 4 then 'champions'
            when r_score >= 3 and f_score >= 4 then 'loyal'
            when r_score >= 4 and f_score = 1 then 'new'
            when r_score >= 3 then 'potential_loyalists'
            when r_score = 2 and f_score >= 3 then 'at_risk'
            when r_score = 1 and f_score >= 3 then 'cannot_lose'
            when r_score = 2 then 'hibernating'
            else 'lost' end as segment
  from scored;

-- Stock per SKU, all warehouses together. `sold` counts units committed to orders (shipped)
-- less those restocked after a refund.
create table stock (
    sku                  text primary key,
    on_hand              bigint not null default 0,
    reserved             bigint not null default 0,
    received             bigint not null default 0,
    adjusted             bigint not null default 0,
    sold                 bigint not null default 0,
    restocked            bigint not null default 0,
    low_stock_threshold  bigint,
    last_alert_at        timestamptz,
    last_alert_available bigint,
    available            bigint generated always as (on_hand - reserved) stored,
    updated_at           timestamptz not null
);

-- Movements per SKU and day, with the levels at the end of the day.
create table stock_daily (
    sku              text not null,
    day              date not null,
    received         bigint not null default 0,
    adjusted         bigint not null default 0,
    reserved         bigint not null default 0,
    released         bigint not null default 0,
    sold             bigint not null default 0,
    restocked        bigint not null default 0,
    closing_on_hand  bigint not null,
    closing_reserved bigint not null,
    primary key (sku, day)
);

-- Every `LowStockDetected`, the alert history.
create table low_stock_alerts (
    event_id    uuid primary key,
    sku         text not null,
    available   bigint not null,
    threshold   bigint not null,
    detected_at timestamptz not null
);

create index low_stock_alerts_sku_idx on low_stock_alerts (sku, detected_at);

-- SKUs below their threshold right now.
create view low_stock as
select s.sku, ps.product_id, p.name, s.on_hand, s.reserved, s.available,
       s.low_stock_threshold, s.last_alert_at, s.last_alert_available
  from stock s
  left join product_skus ps on ps.sku = s.sku
  left join products p on p.product_id = ps.product_id
 where s.low_stock_threshold is not null and s.available < s.low_stock_threshold;

-- Turnover per SKU since its first movement: units sold over the time-weighted average
-- on hand (each day's closing level weighted by the days it held, today's counting as one),
-- and days of cover at the last 30 days' pace.
create view stock_turnover as
with held as (
    select sku, day, closing_on_hand,
           lead(day, 1, current_date + 1) over (partition by sku order by day) - day as days
      from stock_daily
),
average as (
    select sku, min(day) as since,
           sum(closing_on_hand * greatest(days, 1))::numeric / sum(greatest(days, 1))
               as average_on_hand
      from held group by sku
),
recent as (
    select sku, sum(sold) as sold_30_days
      from stock_daily where day > current_date - 30 group by sku
)
select s.sku, ps.product_id, p.name, a.since, s.sold, s.on_hand, s.available,
       round(a.average_on_hand, 2) as average_on_hand,
       round(s.sold / nullif(a.average_on_hand, 0), 2) as turnover,
       coalesce(r.sold_30_days, 0) as sold_30_days,
       round(s.available * 30.0 / nullif(r.sold_30_days, 0), 1) as days_of_cover
  from stock s
  left join average a on a.sku = s.sku
  left join recent r on r.sku = s.sku
  left join product_skus ps on ps.sku = s.sku
  left join products p on p.product_id = ps.product_id;
