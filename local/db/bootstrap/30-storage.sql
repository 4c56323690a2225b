-- Platform bootstrap, part 30: the `storage` schema as hosted Supabase Storage has it.
--
-- Written by us after the shape supabase/storage's tenant migrations leave behind (tables, helper functions,
-- grants, RLS switched on with no policies); the local Storage stand-in (local/storage) reads and writes these
-- tables under the caller's role and claims, so the app's storage policies are enforced by Postgres itself.
-- App migrations add policies on storage.objects and insert buckets by SQL, exactly as on hosted Supabase.
--
-- Applied after 00 (roles), 10 (extensions) and 20 (auth). Idempotent: every statement may run again.
-- Nothing newer than PostgreSQL 15; also runs on PGlite.

create schema if not exists storage;

-- Tables ------------------------------------------------------------------------------------------------------

create table if not exists storage.buckets (
  id text not null primary key,
  name text not null,
  owner uuid,
  owner_id text,
  public boolean default false,
  avif_autodetection boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);
-- Older shapes of the table gain the columns later storage migrations added.
alter table storage.buckets add column if not exists owner_id text;
alter table storage.buckets add column if not exists public boolean default false;
alter table storage.buckets add column if not exists avif_autodetection boolean default false;
alter table storage.buckets add column if not exists file_size_limit bigint;
alter table storage.buckets add column if not exists allowed_mime_types text[];
create unique index if not exists bname on storage.buckets using btree (name);
alter table storage.buckets enable row level security;

create table if not exists storage.objects (
  id uuid not null default gen_random_uuid() primary key,
  bucket_id text,
  name text,
  owner uuid,
  owner_id text,
  metadata jsonb,
  user_metadata jsonb,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored,
  version text,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  constraint "objects_bucketId_fkey" foreign key (bucket_id) references storage.buckets (id)
);
alter table storage.objects add column if not exists owner_id text;
alter table storage.objects add column if not exists user_metadata jsonb;
alter table storage.objects add column if not exists version text;
alter table storage.objects add column if not exists path_tokens text[]
  generated always as (string_to_array(name, '/')) stored;
create unique index if not exists bucketid_objname on storage.objects using btree (bucket_id, name);
create index if not exists name_prefix_search on storage.objects (name text_pattern_ops);
alter table storage.objects enable row level security;

-- Triggers ----------------------------------------------------------------------------------------------------

create or replace function storage.update_updated_at_column() returns trigger
language plpgsql as $$
begin
  new.updated_at = now();
  return new;
end;
$$;

create or replace trigger update_objects_updated_at
  before update on storage.objects
  for each row execute function storage.update_updated_at_column();

-- As on hosted Supabase: rows of storage.objects/buckets are deleted only by the Storage API (which sets
-- storage.allow_delete_query for its own transactions), never by plain SQL, so no file is orphaned by accident.
create or replace function storage.protect_delete() returns trigger
language plpgsql as $$
begin
  if coalesce(current_setting('storage.allow_delete_query', true), 'false') != 'true' then
    raise exception 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
      using hint = 'This prevents accidental data loss from orphaned objects.',
            errcode = '42501';
  end if;
  return null;
end;
$$;

create or replace trigger protect_buckets_delete
  before delete on storage.buckets
  for each statement execute function storage.protect_delete();

create or replace trigger protect_objects_delete
  before delete on storage.objects
  for each statement execute function storage.protect_delete();

-- Helper functions used in policies -----------------------------------------------------------------------------

-- Path segments without the file name: 'uid/photos/a.png' -> {uid,photos}.
create or replace function storage.foldername(name text) returns text[]
language plpgsql immutable as $$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[1:array_length(_parts, 1) - 1];
end
$$;

-- The last path segment: 'uid/photos/a.png' -> 'a.png'.
create or replace function storage.filename(name text) returns text
language plpgsql immutable as $$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[array_length(_parts, 1)];
end
$$;

-- The file name's extension: 'uid/photos/a.png' -> 'png'.
create or replace function storage.extension(name text) returns text
language plpgsql immutable as $$
declare
  _parts text[];
  _filename text;
begin
  select string_to_array(name, '/') into _parts;
  select _parts[array_length(_parts, 1)] into _filename;
  return reverse(split_part(reverse(_filename), '.', 1));
end
$$;

-- The Storage API operation running in this transaction ('storage.object.upload', ...), set by the API.
create or replace function storage.operation() returns text
language plpgsql stable as $$
begin
  return current_setting('storage.operation', true);
end;
$$;

-- Policy helpers: is the current API operation the given one / one of the given ones ('storage.' prefix optional).
create or replace function storage.allow_only_operation(expected_operation text) returns boolean
language sql stable as $$
  with current_op as (
    select storage.operation() as raw_operation
  ), normalized as (
    select
      case when raw_operation like 'storage.%' then substr(raw_operation, 9) else raw_operation end as current_operation,
      case when expected_operation like 'storage.%' then substr(expected_operation, 9) else expected_operation end
        as requested_operation
    from current_op
  )
  select case
    when requested_operation is null or requested_operation = '' then false
    else coalesce(current_operation = requested_operation, false)
  end
  from normalized;
$$;

create or replace function storage.allow_any_operation(expected_operations text[]) returns boolean
language sql stable as $$
  with current_op as (
    select storage.operation() as raw_operation
  ), normalized as (
    select case when raw_operation like 'storage.%' then substr(raw_operation, 9) else raw_operation end
      as current_operation
    from current_op
  )
  select exists (
    select 1
    from normalized n
    cross join lateral unnest(expected_operations) as expected_operation
    where expected_operation is not null
      and expected_operation <> ''
      and n.current_operation = case
        when expected_operation like 'storage.%' then substr(expected_operation, 9)
        else expected_operation
      end
  );
$$;

-- Folder listing used by `POST /object/list/{bucket}` (storage-js `list()`): the folders one level below
-- `prefix` (rows with id null) first, then the files at that level. SECURITY INVOKER, so the caller's SELECT
-- policies decide which objects (and therefore which folders) are visible.
create or replace function storage.search(
  prefix text,
  bucketname text,
  limits int default 100,
  levels int default 1,
  offsets int default 0,
  search text default '',
  sortcolumn text default 'name',
  sortorder text default 'asc'
) returns table (
  name text,
  id uuid,
  updated_at timestamptz,
  created_at timestamptz,
  last_accessed_at timestamptz,
  metadata jsonb
)
language plpgsql stable security invoker as $$
declare
  v_order_by text;
  v_sort_order text;
begin
  case lower(coalesce(sortcolumn, 'name'))
    when 'name' then v_order_by := 'name';
    when 'updated_at' then v_order_by := 'updated_at';
    when 'created_at' then v_order_by := 'created_at';
    when 'last_accessed_at' then v_order_by := 'last_accessed_at';
    else v_order_by := 'name';
  end case;
  case lower(coalesce(sortorder, 'asc'))
    when 'asc' then v_sort_order := 'asc';
    when 'desc' then v_sort_order := 'desc';
    else v_sort_order := 'asc';
  end case;
  v_order_by := v_order_by || ' ' || v_sort_order;

  return query execute
    'with folders as (
       select path_tokens[$1] as folder
       from storage.objects
       where objects.name ilike $2 || $3 || ''%''
         and bucket_id = $4
         and array_length(objects.path_tokens, 1) <> $1
       group by folder
       order by folder ' || v_sort_order || '
     )
     (select folder as "name",
             null::uuid as id,
             null::timestamptz as updated_at,
             null::timestamptz as created_at,
             null::timestamptz as last_accessed_at,
             null::jsonb as metadata
      from folders)
     union all
     (select path_tokens[$1] as "name",
             id, updated_at, created_at, last_accessed_at, metadata
      from storage.objects
      where objects.name ilike $2 || $3 || ''%''
        and bucket_id = $4
        and array_length(objects.path_tokens, 1) = $1
      order by ' || v_order_by || ')
     limit $5
     offset $6'
    using levels, prefix, coalesce(search, ''), bucketname, limits, offsets;
end;
$$;

-- On hosted Supabase the Storage API's own role owns the schema's objects. When 00-roles created it, do the same
-- (postgres stays a superuser locally, so app migrations can still add policies and buckets).
do $$
declare
  f regprocedure;
begin
  if exists (select 1 from pg_roles where rolname = 'supabase_storage_admin') then
    execute 'grant all on schema storage to supabase_storage_admin';
    execute 'grant all on all tables in schema storage to supabase_storage_admin';
    execute 'grant all on all sequences in schema storage to supabase_storage_admin';
    execute 'alter table storage.buckets owner to supabase_storage_admin';
    execute 'alter table storage.objects owner to supabase_storage_admin';
    for f in
      select p.oid::regprocedure from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'storage'
    loop
      execute format('alter function %s owner to supabase_storage_admin', f);
    end loop;
    execute 'alter role supabase_storage_admin set search_path = storage';
  end if;
end $$;

-- Grants (as hosted), after the ownership change above (a new owner drops grants made before it): the API roles may use the schema and touch the tables; RLS decides which rows.
-- service_role has BYPASSRLS (00-roles). New tables/functions in the schema get the same grants.
grant usage on schema storage to postgres, anon, authenticated, service_role;
grant all on all tables in schema storage to postgres, anon, authenticated, service_role;
grant all on all functions in schema storage to postgres, anon, authenticated, service_role;
grant all on all sequences in schema storage to postgres, anon, authenticated, service_role;
alter default privileges in schema storage grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema storage grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges in schema storage grant all on sequences to postgres, anon, authenticated, service_role;

