-- The `users` read model: accounts and their addresses, for the user routes' queries.
-- Names are unqualified: the projection runtime creates them in the schema `users`, or in
-- its shadow `users__rebuild` during a rebuild, and swaps the two.
--
-- Password hashes live in the accounts context's credentials table, verification and reset
-- tokens only as ids in the event store: a read model is read by more code than needs them.

create table users (
    user_id        uuid primary key,
    email          text not null,
    first_name     text,
    last_name      text,
    -- `customer`, `vendor`, `staff`, `admin`, `analyst` or `auditor`.
    role           text not null,
    -- `pending` (e-mail not verified yet), `active` or `suspended`.
    status         text not null,
    email_verified boolean not null default false,
    suspension_reason text,
    created_at     timestamptz not null,
    updated_at     timestamptz not null
);

create index users_email_idx on users (email);
create index users_created_idx on users (created_at desc, user_id);

create table user_addresses (
    user_id     uuid not null references users (user_id) on delete cascade,
    address_id  uuid not null,
    label       text,
    name        text,
    line1       text not null,
    line2       text,
    city        text not null,
    region      text,
    postal_code text not null,
    -- ISO 3166-1 alpha-2, uppercase.
    country     char(2) not null,
    created_at  timestamptz not null,
    updated_at  timestamptz not null,
    primary key (user_id, address_id)
);

-- What each person consents to, and who recorded it last; no row: nothing consented to.
create table user_preferences (
    user_id                      uuid primary key references users (user_id) on delete cascade,
    marketing_email              boolean not null,
    sms                          boolean not null,
    personalised_recommendations boolean not null,
    analytics_tracking           boolean not null,
    -- `user` or `admin`.
    source                       text not null,
    updated_at                   timestamptz not null
);
