-- The `pricing` read model: every price rule as it stands. Names are unqualified: the
-- projection runtime creates them in the schema `pricing`, or in its shadow
-- `pricing__rebuild` during a rebuild. Kept from the `price_rule-<id>` streams by folding
-- each event with the aggregate's own `evolve`, so a row is the write side's state.

create table price_rules (
    rule_id         uuid primary key,
    name            text not null,
    -- Raised by each change of terms; order lines record the version they were priced by.
    version         integer not null,
    -- The whole terms, as the events carry them (scope, adjustment, window, ...).
    terms           jsonb not null,
    scope_kind      text not null,
    scope_id        uuid,
    adjustment_kind text not null,
    priority        integer not null,
    stacks          boolean not null,
    segment         text not null,
    starts_at       timestamptz,
    ends_at         timestamptz,
    enabled         boolean not null,
    status          text not null,
    created_at      timestamptz not null,
    updated_at      timestamptz not null
);

-- The scheduler's question: enabled rules whose window starts or ends by now.
create index price_rules_due on price_rules (status, starts_at, ends_at) where enabled;
create index price_rules_scope on price_rules (scope_kind, scope_id);
