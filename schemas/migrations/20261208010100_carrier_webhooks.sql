-- Carriers' side of shipping, outside the event log (issue 22): the tracking webhooks
-- already received. Not a business fact (the shipment's `ShipmentTracked` is), so a table
-- and not events; in a schema of its own, apart from the `shipping` read model, which a
-- rebuild may drop and create again.
create schema if not exists carrier;

-- The replay cache of `POST /api/v1/shipping/webhooks/{carrier}`: each webhook id of a
-- carrier is accepted once, by whichever gateway receives it first (the primary key).
-- Rows older than the timestamp window can go: a replay of them is refused as stale.
create table carrier.webhook_receipts (
    carrier     text not null,
    webhook_id  text not null,
    received_at timestamptz not null default now(),
    primary key (carrier, webhook_id)
);

create index webhook_receipts_received_idx on carrier.webhook_receipts (received_at);
