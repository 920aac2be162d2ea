-- The event store: the one durable log every read model derives from (DESIGN.md, invariant 1).
--
-- $all order is (transaction_id, event_position), not event_position alone: concurrent
-- transactions take sequence numbers in one order and commit in another, so a reader that
-- followed event_position could pass a number whose transaction commits later. Readers only
-- read rows whose transaction id is below the oldest transaction still in flight
-- (pg_snapshot_xmin), so every row they can see is final and nothing can later appear
-- before it. See docs/adr/0001-all-stream-ordering.md.
create schema if not exists store;

create table store.streams (
    stream_id   text primary key,
    -- Revision of the stream's last event; revisions start at 0 as in EventStoreDB.
    revision    bigint not null,
    updated_at  timestamptz not null default now()
);

create table store.events (
    event_position  bigint generated always as identity,
    transaction_id  xid8 not null default pg_current_xact_id(),
    event_id        uuid not null,
    stream_id       text not null,
    stream_revision bigint not null,
    event_type      text not null,
    schema_version  integer not null,
    data            jsonb not null,
    metadata        jsonb not null,
    recorded_at     timestamptz not null default now(),
    constraint events_pkey primary key (event_position),
    -- An event id names one event forever: a retried command is recognised by it.
    constraint events_event_id_key unique (event_id),
    constraint events_stream_revision_key unique (stream_id, stream_revision),
    constraint events_data_is_object check (jsonb_typeof(data) = 'object'),
    constraint events_metadata_is_object check (jsonb_typeof(metadata) = 'object')
);

-- The $all read path: (transaction_id, event_position) > checkpoint, in that order.
create index events_all_order_idx on store.events (transaction_id, event_position);

-- Appends in one round trip. Answers one row:
--   outcome 'appended'   revision = new stream revision, position of the last event
--   outcome 'duplicate'  the same ids were appended before: revision/position of that append
--   outcome 'conflict'   revision = actual revision, null when the stream does not exist
--   outcome 'foreign'    an id is already used in another stream (conflict_stream names it)
-- p_expected: -1 any, -2 no stream, -3 stream exists, >= 0 exact revision.
create function store.append_events(
    p_stream_id text,
    p_expected bigint,
    p_event_ids uuid[],
    p_event_types text[],
    p_schema_versions integer[],
    p_data jsonb[],
    p_metadata jsonb[]
) returns table (
    outcome text,
    revision bigint,
    commit_position bigint,
    prepare_position bigint,
    conflict_stream text
)
language plpgsql as $$
declare
    n integer := cardinality(p_event_ids);
    current_rev bigint;
    new_rev bigint;
    existing record;
begin
    -- A retry: the first id is already stored. Answer as the first append did when every
    -- id is there, in order, in this stream; anything else is a different command reusing ids.
    select e.stream_id, e.stream_revision into existing
      from store.events e where e.event_id = p_event_ids[1];
    if found then
        return query select * from store.replayed_append(p_stream_id, p_event_ids, existing.stream_id, existing.stream_revision);
        return;
    end if;

    if p_expected = -1 then
        insert into store.streams as s (stream_id, revision) values (p_stream_id, n - 1)
        on conflict (stream_id) do update set revision = s.revision + n, updated_at = now()
        returning s.revision into new_rev;
    elsif p_expected = -2 then
        insert into store.streams (stream_id, revision) values (p_stream_id, n - 1)
        on conflict (stream_id) do nothing
        returning streams.revision into new_rev;
    elsif p_expected = -3 then
        update store.streams s set revision = s.revision + n, updated_at = now()
         where s.stream_id = p_stream_id
        returning s.revision into new_rev;
    else
        update store.streams s set revision = s.revision + n, updated_at = now()
         where s.stream_id = p_stream_id and s.revision = p_expected
        returning s.revision into new_rev;
    end if;

    if new_rev is null then
        -- Lost a race or a stale expectation. A concurrent identical retry may have won it:
        -- this statement sees rows committed since it started, so look once more.
        select e.stream_id, e.stream_revision into existing
          from store.events e where e.event_id = p_event_ids[1];
        if found then
            return query select * from store.replayed_append(p_stream_id, p_event_ids, existing.stream_id, existing.stream_revision);
            return;
        end if;
        select s.revision into current_rev from store.streams s where s.stream_id = p_stream_id;
        return query select 'conflict'::text, current_rev, null::bigint, null::bigint, null::text;
        return;
    end if;

    return query
    with inserted as (
        insert into store.events
            (event_id, stream_id, stream_revision, event_type, schema_version, data, metadata)
        select i.event_id, p_stream_id, new_rev - n + i.ord, i.event_type, i.schema_version, i.data, i.metadata
          from unnest(p_event_ids, p_event_types, p_schema_versions, p_data, p_metadata)
               with ordinality as i(event_id, event_type, schema_version, data, metadata, ord)
        returning event_position, transaction_id
    )
    select 'appended'::text, new_rev, max(inserted.transaction_id::text::bigint), max(inserted.event_position), null::text
      from inserted;
end
$$;

-- The answer to a retried append, or 'foreign' when the ids do not belong to this stream
-- as one earlier append.
create function store.replayed_append(
    p_stream_id text,
    p_event_ids uuid[],
    p_found_stream text,
    p_found_revision bigint
) returns table (
    outcome text,
    revision bigint,
    commit_position bigint,
    prepare_position bigint,
    conflict_stream text
)
language plpgsql as $$
declare
    n integer := cardinality(p_event_ids);
    matched integer;
begin
    if p_found_stream <> p_stream_id then
        return query select 'foreign'::text, null::bigint, null::bigint, null::bigint, p_found_stream;
        return;
    end if;
    select count(*) into matched
      from unnest(p_event_ids) with ordinality as i(event_id, ord)
      join store.events e
        on e.event_id = i.event_id
       and e.stream_id = p_stream_id
       and e.stream_revision = p_found_revision + i.ord - 1;
    if matched <> n then
        return query select 'foreign'::text, null::bigint, null::bigint, null::bigint, p_found_stream;
        return;
    end if;
    return query
    select 'duplicate'::text, e.stream_revision, e.transaction_id::text::bigint, e.event_position, null::text
      from store.events e
     where e.stream_id = p_stream_id and e.stream_revision = p_found_revision + n - 1;
end
$$;
