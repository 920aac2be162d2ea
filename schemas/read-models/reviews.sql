-- The `reviews` read model (issue 23): buyers' reviews of products, and each product's
-- rating folded from the reviews that show. Kept from the `review-<id>` streams.

-- One row per review not withdrawn.
create table reviews (
    review_id        uuid primary key,
    product_id       uuid not null,
    vendor_id        uuid,
    author_id        uuid not null,
    rating           smallint not null,
    title            text not null,
    body             text not null,
    images           jsonb not null,
    order_id         uuid not null,
    proof_event_ids  uuid[] not null,
    -- `published` or `hidden` (by staff).
    status           text not null,
    moderation_reason text,
    helpful_count    integer not null default 0,
    reply            text,
    replied_at       timestamptz,
    created_at       timestamptz not null,
    updated_at       timestamptz not null
);

create index reviews_product on reviews (product_id, status, created_at desc);
create index reviews_vendor on reviews (vendor_id) where vendor_id is not null;

-- Per product, folded again from its published reviews whenever one of them changes:
-- a hidden review never counts, and never counts twice.
create table product_ratings (
    product_id   uuid primary key,
    vendor_id    uuid,
    review_count integer not null,
    rating_sum   bigint not null,
    -- `rating_sum / review_count`, two decimals.
    average      numeric(3, 2) not null,
    stars_1      integer not null,
    stars_2      integer not null,
    stars_3      integer not null,
    stars_4      integer not null,
    stars_5      integer not null
);

create index product_ratings_vendor on product_ratings (vendor_id) where vendor_id is not null;

-- A vendor's rating: its products' published reviews together.
create view vendor_ratings as
    select vendor_id,
           sum(review_count)::integer as review_count,
           round(sum(rating_sum)::numeric / sum(review_count), 2) as average
      from product_ratings
     where vendor_id is not null and review_count > 0
     group by vendor_id;
