-- The console's sessions (/admin, issue 25). A console sign-in is an ordinary sign-in:
-- its refresh token (kept only by the browser, in an HttpOnly cookie) names the session,
-- and this row adds what the console needs beside it: who signed in, with which role and
-- security version (checked on every request, as an access token's are), the form token
-- that guards every POST, and the console's own shorter lifetime. Revoking the refresh
-- token's family (signing out, signing out everywhere, a password reset) ends the console
-- session with it, and pruning the token deletes the row.
create schema if not exists console;

create table console.sessions (
    token_hash        bytea primary key
                      references auth.refresh_tokens (token_hash) on delete cascade,
    user_id           uuid not null,
    role              text not null,
    security_version  bigint not null,
    -- The CSRF token every console form carries in a hidden field.
    csrf_token        text not null,
    created_at        timestamptz not null default now(),
    expires_at        timestamptz not null
);

create index sessions_user_idx on console.sessions (user_id);
