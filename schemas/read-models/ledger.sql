-- The `ledger` read model (issue 23 item 4): each store's double-entry book, its totals
-- and its payouts, kept from the `vendor_ledger-<vendor id>` streams. Every amount is in
-- minor units of the row's currency.

-- One balanced entry: its debits equal its credits (`amount`).
create table entries (
    vendor_id  uuid not null,
    -- The ledger stream's revision of the event that posted it, and its place in the event.
    revision   bigint not null,
    entry_no   integer not null,
    event_type text not null,
    kind       text not null,
    currency   char(3) not null,
    amount     bigint not null,
    -- What the entry moved the store's balance by (signed).
    effect     bigint not null,
    order_id   uuid,
    sku        text,
    payout_id  uuid,
    -- [{"account", "side", "amount"}], as in `postings`.
    postings   jsonb not null,
    at         timestamptz not null,
    primary key (vendor_id, revision, entry_no)
);

create index entries_vendor_at on entries (vendor_id, at, revision, entry_no);
create index entries_order on entries (order_id) where order_id is not null;

create table postings (
    vendor_id  uuid not null,
    revision   bigint not null,
    entry_no   integer not null,
    posting_no integer not null,
    account    text not null,
    side       text not null,
    amount     bigint not null,
    currency   char(3) not null,
    at         timestamptz not null,
    primary key (vendor_id, revision, entry_no, posting_no)
);

-- A store's ledger summed by kind, per currency.
create table balances (
    vendor_id            uuid not null,
    currency             char(3) not null,
    gross                bigint not null default 0,
    tax                  bigint not null default 0,
    commission           bigint not null default 0,
    fees                 bigint not null default 0,
    refunds              bigint not null default 0,
    clawbacks            bigint not null default 0,
    adjustments          bigint not null default 0,
    paid_out             bigint not null default 0,
    net                  bigint not null default 0,
    balance              bigint not null default 0,
    clawback_outstanding bigint not null default 0,
    entry_count          bigint not null default 0,
    updated_at           timestamptz not null,
    primary key (vendor_id, currency)
);

create table payouts (
    payout_id          uuid primary key,
    vendor_id          uuid not null,
    currency           char(3) not null,
    period_start       timestamptz,
    period_end         timestamptz not null,
    amount             bigint not null,
    clawback           bigint not null,
    status             text not null,
    provider_reference text,
    failure_reason     text,
    requested_at       timestamptz not null,
    settled_at         timestamptz
);

create index payouts_vendor on payouts (vendor_id, requested_at);

-- Each sold line with its commission, the rule and version it was computed by, and how
-- much of it has been refunded.
create table sale_lines (
    vendor_id    uuid not null,
    order_id     uuid not null,
    sku          text not null,
    product_id   uuid not null,
    variant_id   uuid,
    quantity     integer not null,
    currency     char(3) not null,
    gross        bigint not null,
    tax          bigint not null,
    net          bigint not null,
    commission   bigint not null,
    fee          bigint not null,
    rule         jsonb not null,
    rule_version integer not null,
    rule_source  text not null,
    refunded     bigint not null default 0,
    clawed_back  boolean not null default false,
    sold_at      timestamptz not null,
    primary key (vendor_id, order_id, sku)
);
