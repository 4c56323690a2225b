-- Platform bootstrap, part 3: the `auth` schema that Supabase Auth (GoTrue) owns on a hosted project.
--
-- Applied after 00-roles.sql and 10-extensions.sql, as a superuser (postgres). Idempotent: every object is created
-- with `if not exists` / `create or replace`, so a second run on an existing database changes nothing.
--
-- The shapes mirror a hosted project's schema dump (tables, column types, generated columns, constraint and index
-- names), because app migrations reference them: FKs to auth.users(id), triggers on auth.users ("on signup create
-- a profile"), policies calling auth.uid() / auth.jwt(). The local auth server (local/auth) writes these tables
-- with plain INSERT/UPDATE/DELETE statements, so such triggers and FKs behave as they do in production.
-- Only the tables the email+password subset needs are created (no MFA factors, SSO, OAuth server, flow state).

create schema if not exists auth;
comment on schema auth is 'Supabase Auth: users, identities, sessions and refresh tokens (local stand-in).';

do $$ begin
  create type auth.aal_level as enum ('aal1', 'aal2', 'aal3');
exception when duplicate_object then null;
end $$;

-- ---------------------------------------------------------------------------------------------------------------
-- Tables

create table if not exists auth.users (
  instance_id uuid,
  id uuid not null,
  aud character varying(255),
  role character varying(255),
  email character varying(255),
  encrypted_password character varying(255),
  email_confirmed_at timestamp with time zone,
  invited_at timestamp with time zone,
  confirmation_token character varying(255),
  confirmation_sent_at timestamp with time zone,
  recovery_token character varying(255),
  recovery_sent_at timestamp with time zone,
  email_change_token_new character varying(255),
  email_change character varying(255),
  email_change_sent_at timestamp with time zone,
  last_sign_in_at timestamp with time zone,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  phone text default null::character varying,
  phone_confirmed_at timestamp with time zone,
  phone_change text default ''::character varying,
  phone_change_token character varying(255) default ''::character varying,
  phone_change_sent_at timestamp with time zone,
  confirmed_at timestamp with time zone generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  email_change_token_current character varying(255) default ''::character varying,
  email_change_confirm_status smallint default 0,
  banned_until timestamp with time zone,
  reauthentication_token character varying(255) default ''::character varying,
  reauthentication_sent_at timestamp with time zone,
  is_sso_user boolean default false not null,
  deleted_at timestamp with time zone,
  is_anonymous boolean default false not null,
  constraint users_pkey primary key (id),
  constraint users_phone_key unique (phone),
  constraint users_email_change_confirm_status_check
    check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2)
);
comment on table auth.users is 'Auth: Stores user login data within a secure schema.';
comment on column auth.users.is_sso_user is
  'Auth: Set this column to true when the account comes from SSO. These accounts can have duplicate emails.';

-- The hosted index is on (email); the auth server always stores emails lower-cased and looks them up with
-- lower(email), so concurrent sign-ups of one address race on this index and exactly one insert wins.
create unique index if not exists users_email_partial_key on auth.users (email) where (is_sso_user = false);
comment on index auth.users_email_partial_key is 'Auth: A partial unique index that applies only when is_sso_user is false';
create index if not exists users_instance_id_idx on auth.users (instance_id);
create index if not exists users_instance_id_email_idx on auth.users (instance_id, lower((email)::text));
create index if not exists users_is_anonymous_idx on auth.users (is_anonymous);

create table if not exists auth.identities (
  provider_id text not null,
  user_id uuid not null,
  identity_data jsonb not null,
  provider text not null,
  last_sign_in_at timestamp with time zone,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  email text generated always as (lower((identity_data ->> 'email'::text))) stored,
  id uuid default gen_random_uuid() not null,
  constraint identities_pkey primary key (id),
  constraint identities_provider_id_provider_unique unique (provider_id, provider),
  constraint identities_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade
);
comment on table auth.identities is 'Auth: Stores identities associated to a user.';
comment on column auth.identities.email is
  'Auth: Email is a generated column that references the optional email property in the identity_data';
create index if not exists identities_user_id_idx on auth.identities (user_id);
create index if not exists identities_email_idx on auth.identities (email text_pattern_ops);

create table if not exists auth.sessions (
  id uuid not null,
  user_id uuid not null,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  factor_id uuid,
  aal auth.aal_level,
  not_after timestamp with time zone,
  refreshed_at timestamp without time zone,
  user_agent text,
  ip inet,
  tag text,
  constraint sessions_pkey primary key (id),
  constraint sessions_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade
);
comment on table auth.sessions is 'Auth: Stores session data associated to a user.';
comment on column auth.sessions.not_after is
  'Auth: Not after is a nullable column that contains a timestamp after which the session should be regarded as expired.';
create index if not exists sessions_user_id_idx on auth.sessions (user_id);
create index if not exists user_id_created_at_idx on auth.sessions (user_id, created_at);
create index if not exists sessions_not_after_idx on auth.sessions (not_after desc);

create table if not exists auth.refresh_tokens (
  instance_id uuid,
  id bigserial not null,
  token character varying(255),
  user_id character varying(255),
  revoked boolean,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  parent character varying(255),
  session_id uuid,
  constraint refresh_tokens_pkey primary key (id),
  constraint refresh_tokens_token_unique unique (token),
  constraint refresh_tokens_session_id_fkey foreign key (session_id) references auth.sessions (id) on delete cascade
);
comment on table auth.refresh_tokens is 'Auth: Store of tokens used to refresh JWT tokens once they expire.';
create index if not exists refresh_tokens_instance_id_idx on auth.refresh_tokens (instance_id);
create index if not exists refresh_tokens_instance_id_user_id_idx on auth.refresh_tokens (instance_id, user_id);
create index if not exists refresh_tokens_parent_idx on auth.refresh_tokens (parent);
create index if not exists refresh_tokens_session_id_revoked_idx on auth.refresh_tokens (session_id, revoked);
create index if not exists refresh_tokens_updated_at_idx on auth.refresh_tokens (updated_at desc);

-- Authentication methods per session: the access token's `amr` claim is read from here.
create table if not exists auth.mfa_amr_claims (
  session_id uuid not null,
  created_at timestamp with time zone not null,
  updated_at timestamp with time zone not null,
  authentication_method text not null,
  id uuid not null,
  constraint amr_id_pk primary key (id),
  constraint mfa_amr_claims_session_id_authentication_method_pkey unique (session_id, authentication_method),
  constraint mfa_amr_claims_session_id_fkey foreign key (session_id) references auth.sessions (id) on delete cascade
);
comment on table auth.mfa_amr_claims is 'auth: stores authenticator method reference claims for multi factor authentication';

create table if not exists auth.audit_log_entries (
  instance_id uuid,
  id uuid not null,
  payload json,
  created_at timestamp with time zone,
  ip_address character varying(64) default ''::character varying not null,
  constraint audit_log_entries_pkey primary key (id)
);
comment on table auth.audit_log_entries is 'Auth: Audit trail for user actions.';
create index if not exists audit_logs_instance_id_idx on auth.audit_log_entries (instance_id);

-- Hosted projects have RLS enabled (and no policies) on the auth tables: only their owner and superusers read them.
alter table auth.users enable row level security;
alter table auth.identities enable row level security;
alter table auth.sessions enable row level security;
alter table auth.refresh_tokens enable row level security;
alter table auth.mfa_amr_claims enable row level security;
alter table auth.audit_log_entries enable row level security;

-- ---------------------------------------------------------------------------------------------------------------
-- Helpers RLS policies call. Same definitions as a hosted project: the legacy per-claim GUC first (set by Storage
-- and old PostgREST), then the `request.jwt.claims` JSON PostgREST sets per request; '' counts as unset because a
-- transaction-local set_config leaves an empty placeholder behind on the connection.

create or replace function auth.uid() returns uuid
  language sql stable
as $$
  select
  coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';

create or replace function auth.role() returns text
  language sql stable
as $$
  select
  coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;
comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';

create or replace function auth.email() returns text
  language sql stable
as $$
  select
  coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;
comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';

create or replace function auth.jwt() returns jsonb
  language sql stable
as $$
  select
    coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Ownership and grants, as hosted: supabase_auth_admin (the role GoTrue logs in as) owns and writes everything,
-- postgres keeps full access, the API roles may use the schema and call the helpers but cannot read the tables.

do $$
declare
  t text;
  has_admin boolean := exists (select 1 from pg_roles where rolname = 'supabase_auth_admin');
begin
  if has_admin then
    execute 'grant all on schema auth to supabase_auth_admin';
    foreach t in array array['users', 'identities', 'sessions', 'refresh_tokens', 'mfa_amr_claims', 'audit_log_entries'] loop
      execute format('alter table auth.%I owner to supabase_auth_admin', t);
    end loop;
    execute 'alter sequence auth.refresh_tokens_id_seq owner to supabase_auth_admin';
    execute 'alter type auth.aal_level owner to supabase_auth_admin';
    execute 'alter function auth.uid() owner to supabase_auth_admin';
    execute 'alter function auth.role() owner to supabase_auth_admin';
    execute 'alter function auth.email() owner to supabase_auth_admin';
    execute 'alter function auth.jwt() owner to supabase_auth_admin';
    -- GoTrue's own connections resolve unqualified names in auth (so do triggers fired by its writes).
    execute 'alter role supabase_auth_admin set search_path = auth';
    execute 'grant all on all tables in schema auth to supabase_auth_admin';
    execute 'grant all on all sequences in schema auth to supabase_auth_admin';
  end if;

  execute 'grant all on schema auth to postgres';
  execute 'grant all on all tables in schema auth to postgres';
  execute 'grant all on all sequences in schema auth to postgres';

  if exists (select 1 from pg_roles where rolname = 'anon')
     and exists (select 1 from pg_roles where rolname = 'authenticated')
     and exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant usage on schema auth to anon, authenticated, service_role';
    -- Whatever default privileges granted on these tables, the client-facing roles get none.
    execute 'revoke all on all tables in schema auth from anon, authenticated';
    execute 'revoke all on all sequences in schema auth from anon, authenticated';
    execute 'grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt() to anon, authenticated, service_role';
  end if;
end $$;
