-- Platform roles, as hosted Supabase has them (written for ServicePro; see docs in local/db/bootstrap.ts).
-- Roles are cluster-wide and may already exist (DATABASE_URL, a second database): create what is missing,
-- then make the attributes right. Running this twice changes nothing.
-- The password of the login roles comes from bootstrap.ts (servicepro.db_password, transaction-local).

do $$
declare
  r record;
  pw text := current_setting('servicepro.db_password', true);
begin
  for r in
    select * from (values
      -- name,                   login, attributes applied on every run
      ('anon',                   false, 'nologin noinherit'),
      ('authenticated',          false, 'nologin noinherit'),
      ('service_role',           false, 'nologin noinherit bypassrls'),
      ('authenticator',          true,  'login noinherit'),
      ('supabase_admin',         false, 'nologin superuser createdb createrole replication bypassrls'),
      ('supabase_auth_admin',    true,  'login noinherit createrole'),
      ('supabase_storage_admin', true,  'login noinherit createrole')
    ) as t(name, login, attrs)
  loop
    if not exists (select 1 from pg_roles where rolname = r.name) then
      execute format('create role %I %s', r.name, r.attrs);
      -- A fresh login role gets the stack's password; an existing one keeps its own (bootstrap.ts checks
      -- that authenticator can log in with the stack's password and fixes it only when it cannot).
      if r.login and pw is not null then
        execute format('alter role %I password %L', r.name, pw);
      end if;
    else
      execute format('alter role %I %s', r.name, r.attrs);
    end if;
  end loop;
end
$$;

-- PostgREST logs in as authenticator and switches to one of these per request.
grant anon, authenticated, service_role to authenticator;
-- The storage service switches to the caller's role for every storage.objects statement.
grant anon, authenticated, service_role to supabase_storage_admin;

-- Per-role limits PostgREST applies on SET ROLE (hosted values).
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- The superuser's search path sees extensions unqualified, as on hosted Supabase.
alter role postgres set search_path = "$user", public, extensions;
