-- Schema `extensions` and the extensions every Supabase project has in it.
-- PGlite ships pgcrypto and uuid-ossp as loadable contrib modules (local/db/pglite-server.ts loads them);
-- a server without the contrib package simply goes without, with a NOTICE.
create schema if not exists extensions;

do $$
declare
  ext text;
begin
  foreach ext in array array['uuid-ossp', 'pgcrypto'] loop
    if exists (select 1 from pg_extension where extname = ext) then
      continue; -- already installed (possibly in another schema on an external database): leave it
    elsif exists (select 1 from pg_available_extensions where name = ext) then
      execute format('create extension %I with schema extensions', ext);
    else
      raise warning 'extension % is not available on this server; skipped', ext;
    end if;
  end loop;
end
$$;
