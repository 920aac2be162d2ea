-- The per-IP rate limit (RATE_LIMIT_PER_MINUTE), shared by every gateway on the database so
-- that N gateways keep one limit. One row per client (an IPv4 address, or an IPv6 /64)
-- holding its GCRA "theoretical arrival time": the moment its allowance would be whole
-- again. A request is one `insert ... on conflict do update ... returning`.
--
-- Unlogged: the rows are worth a minute at most, and skipping the WAL is most of the cost
-- of a write per request. A crash empties the table, which only gives every client a full
-- allowance again.
--
-- No index but the key, and room left on each page, so the update of a row is HOT (no new
-- index entry). `admitted` says what the last request was answered, which the statement
-- returns (RETURNING sees only the new row). Pruning deletes rows whose `tat` has passed: a
-- client without a row has a full allowance, the same thing.
create schema if not exists rate_limit;

create unlogged table rate_limit.clients (
    client_key text primary key,
    tat        timestamptz not null,
    admitted   boolean not null
) with (fillfactor = 70);
