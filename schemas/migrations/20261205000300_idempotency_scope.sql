-- `Idempotency-Key` answers kept before issue 18 that the gateway no longer keeps, and
-- that must not sit in the table for the rest of their 24 hours:
--
-- - anonymous answers, scoped by client address (`ip:...`): among them the token pairs of
--   `/auth/login` and `/auth/refresh` in plain text. Keys are now scoped per user or per
--   guest cart token (`user:...`, `guest:<SHA-256, base64url>`), so these rows could never match
--   again anyway;
-- - any other kept answer that carries a token pair (a signed-in caller's `/auth/*`);
-- - answers other than 2xx, which are no longer replayed: their retry runs again.
--
-- Nothing else changes shape: the quota per scope is counted on `(scope, ...)`, the
-- primary key's prefix.
delete from idempotency.responses
 where scope like 'ip:%'
    or status is null
    or status not between 200 and 299
    or position('"access_token"'::bytea in coalesce(body, ''::bytea)) > 0
    or position('"refresh_token"'::bytea in coalesce(body, ''::bytea)) > 0;
