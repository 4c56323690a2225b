-- init_platform: conventions every later migration relies on (docs/tenancy.md, docs/conventions.md).
--
-- 1. Nobody but the service role can execute a new function until it is granted BY NAME.
--    Postgres grants EXECUTE to PUBLIC on every new function, and hosted Supabase additionally grants it to
--    anon and authenticated through default privileges in `public`. A per-schema ALTER DEFAULT PRIVILEGES
--    cannot take back a global default, so both the global PUBLIC default and the per-schema grants are revoked.
-- 2. Tables and sequences in `public` are not granted to anon/authenticated by default any more: every table
--    migration states its grants explicitly (hosted Supabase is moving to the same default), so a forgotten
--    grant fails loudly with 42501 instead of a forgotten policy leaking silently.
-- 3. The `private` schema holds helpers and trigger functions. It is not in PostgREST's db-schemas and nobody
--    gets USAGE on it: policies reference helpers by OID, so `authenticated` only needs EXECUTE on the few
--    helpers policies call, and still cannot call them directly (permission denied for schema private).
--
-- Errors raised by our SQL follow one shape (docs/tenancy.md, "Errors"):
--   message '<snake_case_code>: <sentence for people>' with SQLSTATE
--     42501 (forbidden; PostgREST → 403, or 401 for anon), 22023 (invalid input → 400),
--     P0001 (business rule → 400), 23505 (conflict → 409).

-- Functions: revoke the defaults (global PUBLIC default, then per-schema grants) -------------------------------
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from public, anon, authenticated;
alter default privileges in schema public grant execute on functions to service_role;

-- Tables and sequences in public: explicit grants per table from now on -------------------------------------
alter default privileges in schema public revoke all on tables from anon, authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;
alter default privileges in schema public grant all on tables to service_role;
alter default privileges in schema public grant all on sequences to service_role;

-- Extensions live in `extensions` and their functions are meant to be callable (pgcrypto, pg_trgm, ...). The
-- global revoke above would also hide functions of extensions created later by this role, so give them back here.
do $$
begin
  if exists (select 1 from pg_namespace where nspname = 'extensions') then
    execute 'alter default privileges in schema extensions grant execute on functions to public';
  end if;
end;
$$;

-- Anything already in public (a fresh project has no functions of ours there; this is belt and braces).
revoke execute on all functions in schema public from public, anon, authenticated;

-- The private schema ------------------------------------------------------------------------------------------
create schema if not exists private;
comment on schema private is
  'Helpers, trigger functions and server-side logic. Not exposed through the Data API; no role has USAGE. '
  'Policies call the few helpers granted EXECUTE to authenticated (by OID, so no USAGE is needed).';
revoke all on schema private from public, anon, authenticated;
alter default privileges in schema private revoke execute on functions from public, anon, authenticated;
alter default privileges in schema private revoke all on tables from public, anon, authenticated;

-- Shared trigger functions ------------------------------------------------------------------------------------

-- Keeps updated_at honest whatever the client sends. Attach as:
--   create trigger set_updated_at before update on public.<table>
--     for each row execute function private.set_updated_at();
create function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
comment on function private.set_updated_at() is 'Trigger: sets updated_at to now() on every update.';

-- A row never moves between shops: attach to every table with a tenant_id column (tests/sql/lint.test.ts checks).
--   create trigger forbid_tenant_change before update on public.<table>
--     for each row execute function private.forbid_tenant_change();
-- SQLSTATE 42501 so that "move my row into another shop" fails exactly like the RLS WITH CHECK would.
create function private.forbid_tenant_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.tenant_id is distinct from old.tenant_id then
    raise exception 'tenant_id_immutable: a row cannot move to another shop (%.%)', tg_table_schema, tg_table_name
      using errcode = '42501';
  end if;
  return new;
end;
$$;
comment on function private.forbid_tenant_change() is
  'Trigger: refuses any update that changes tenant_id (42501). Required on every tenant table.';
