-- Default privileges as on hosted Supabase: the API roles may use public and extensions, and whatever
-- postgres (or supabase_admin) creates in public is granted to anon, authenticated and service_role,
-- so that row-level security — not missing grants — decides what a caller sees.
grant usage on schema public to postgres, anon, authenticated, service_role;
grant usage on schema extensions to postgres, anon, authenticated, service_role;

-- Default privileges are set once per owner and object type: the bootstrap runs on every start, after
-- migrations that may have changed them on purpose (ours revoke the default EXECUTE on functions), and a
-- pg_default_acl row for (owner, public, type) means someone already decided. Never grants on existing objects.
do $$
declare
  owner_role text;
  kind record;
begin
  foreach owner_role in array array['postgres', 'supabase_admin'] loop
    for kind in select * from (values ('r', 'tables'), ('S', 'sequences'), ('f', 'functions')) as k(code, name) loop
      if not exists (
        select 1 from pg_default_acl d
        where d.defaclrole = owner_role::regrole and d.defaclnamespace = 'public'::regnamespace
          and d.defaclobjtype = kind.code::"char"
      ) then
        execute format('alter default privileges for role %I in schema public grant all on %s to anon, authenticated, service_role',
          owner_role, kind.name);
      end if;
    end loop;
  end loop;
end
$$;

-- The platform schemas: postgres and service_role, never the API roles (hosted grants the same).
do $$
declare
  s text;
begin
  foreach s in array array['net', 'vault', 'cron'] loop
    if exists (select 1 from pg_namespace where nspname = s) then
      execute format('revoke all on schema %I from public, anon, authenticated', s);
      execute format('revoke all on all tables in schema %I from public, anon, authenticated', s);
      execute format('revoke execute on all routines in schema %I from public, anon, authenticated', s);
      execute format('grant usage on schema %I to postgres, service_role', s);
      execute format('grant all on all tables in schema %I to postgres, service_role', s);
      execute format('grant all on all sequences in schema %I to postgres, service_role', s);
      execute format('grant execute on all routines in schema %I to postgres, service_role', s);
    end if;
  end loop;
end
$$;

-- Let PostgREST pick up new objects.
notify pgrst, 'reload schema';
