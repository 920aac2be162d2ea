-- The `vendors` read model (issue 23): the stores of the marketplace as anyone may see
-- them. Contact and payout details are personal and stay on the write side: this schema
-- holds none. Kept from the `vendor-<id>` streams.

create table vendors (
    vendor_id      uuid primary key,
    owner_id       uuid not null,
    store_name     text not null,
    slug           text not null unique,
    description    text,
    logo_url       text,
    status         text not null,
    -- Why the store was rejected or suspended, while it is.
    status_reason  text,
    -- The store's own commission in basis points; null: the store setting's default.
    commission_bp  integer,
    -- The store's own commission rule (stacked fees: percent_bp, fixed, min, max in minor
    -- units); null: the default. Its version counts the rule's changes.
    commission_rule    jsonb,
    commission_version integer not null default 0,
    trusted        boolean not null default false,
    applied_at     timestamptz not null,
    approved_at    timestamptz,
    updated_at     timestamptz not null
);

create index vendors_status on vendors (status, applied_at);
