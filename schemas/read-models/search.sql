-- The `search` read model (ADR 0007): what shoppers searched for, folded from the
-- `SearchQueriesRecorded` events each gateway appends per interval. Names are
-- unqualified: the runtime creates them in the schema `search` (or its rebuild shadow).

-- One row per normalised query text (trimmed, lower-cased, spaces collapsed).
create table queries (
    query                text primary key,
    searches             bigint not null,
    zero_result_searches bigint not null,
    -- Results of the last search recorded (in log order).
    last_results         bigint not null,
    first_searched_at    timestamptz not null,
    last_searched_at     timestamptz not null
);

create index queries_top_idx on queries (searches desc, query);
create index queries_zero_idx on queries (zero_result_searches desc, query)
    where zero_result_searches > 0;
