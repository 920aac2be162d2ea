-- The `notifications` read model: the outbox the notification worker delivers from.
-- Names are unqualified: the projection runtime creates them in the schema `notifications`
-- (or its rebuild shadow). Every row comes from events: what to send from the event that
-- caused it, the delivery state from the notification's own stream, so a rebuild keeps
-- what was sent. No secret is stored: a verification or reset link is rendered at send
-- time from `payload.token_id` and the server's secret.

create table notifications (
    notification_id uuid primary key,
    -- The event that caused it (a registration, a placed order, a stock alert).
    source_event_id uuid not null,
    channel         text not null,
    -- The address, and what the body is rendered from (first name, order lines, a token's
    -- id): null, with `last_error`, once the message was sent or failed for good longer
    -- ago than RETENTION_OUTBOX_DAYS (`projections/src/retention.rs`).
    recipient       text,
    user_id         uuid,
    template        text not null,
    subject         text not null,
    payload         jsonb,
    -- pending (to send or to retry), sent, failed (attempts exhausted)
    status          text not null,
    attempts        integer not null default 0,
    last_error      text,
    -- When a worker may next claim it: after a failure's backoff or a claim's lease.
    next_attempt_at timestamptz,
    created_at      timestamptz not null,
    sent_at         timestamptz,
    updated_at      timestamptz not null
);

create index notifications_due_idx on notifications (created_at)
    where status = 'pending';
create index notifications_recipient_idx on notifications (recipient, created_at desc);
-- Finished messages whose content the retention pass has still to clear.
create index notifications_retained_idx on notifications (updated_at)
    where status <> 'pending' and payload is not null;

-- The model's own copy of who can receive mail: a read model reads only its own tables.
create table recipients (
    user_id    uuid primary key,
    email      text not null,
    first_name text,
    role       text not null
);

create index recipients_role_idx on recipients (role);

-- Which customer placed an order, for the shipped e-mail (that event names no user).
create table order_recipients (
    order_id uuid primary key,
    user_id  uuid not null
);

-- Which customer a shipment goes to, and its tracking number, for its e-mails (its steps
-- and tracking updates name neither).
create table shipment_recipients (
    shipment_id     uuid primary key,
    order_id        uuid not null,
    user_id         uuid not null,
    tracking_number text not null
);

-- The marketplace's stores (issue 23 item 7), to tell them what concerns them. A store's
-- id is its owner's account (ADR 0010), so its address is in `recipients`.
-- Each order's stores with their lines, told once the order is paid.
create table order_stores (
    order_id  uuid not null,
    vendor_id uuid not null,
    lines     jsonb not null,
    primary key (order_id, vendor_id)
);

-- Each SKU a store sells (its products' and their variants'), told when it runs low.
create table store_skus (
    sku        text primary key,
    vendor_id  uuid not null,
    product_id uuid not null
);

create index store_skus_product_idx on store_skus (product_id);

-- Each payout's amount, said when it is paid or fails (those events name none).
create table store_payouts (
    payout_id uuid primary key,
    vendor_id uuid not null,
    amount    jsonb not null
);
