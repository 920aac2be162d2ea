-- A refresh-token family (every token descended from one login) ends
-- REFRESH_FAMILY_LIFETIME after that login, however often its token was rotated. Each row
-- carries its family's start so a rotation needs no second lookup. Existing families start
-- at their oldest token still stored.
alter table auth.refresh_tokens add column family_started_at timestamptz;

update auth.refresh_tokens t
   set family_started_at = f.started
  from (select family_id, min(issued_at) as started
          from auth.refresh_tokens group by family_id) f
 where f.family_id = t.family_id;

alter table auth.refresh_tokens
    alter column family_started_at set default now(),
    alter column family_started_at set not null;

-- Pruning deletes expired tokens.
create index refresh_tokens_expires_idx on auth.refresh_tokens (expires_at);
