-- Platform extensions the app's scheduling uses on hosted Supabase: pg_net (schema net), Supabase Vault
-- (schema vault) and pg_cron (schema cron). Where the real extension is installed we leave it alone; where it
-- is missing (Debian has neither pg_net nor supabase_vault; PGlite has no background workers at all) we create
-- stand-ins with the hosted signatures. local/db/scheduler.ts does the background work: it sends the queued
-- HTTP requests and, for the cron stand-in, runs due jobs once a minute.
-- Every statement is idempotent. Grants for these schemas are in 90-grants.sql (postgres and service_role only).

-- ---------------------------------------------------------------------------------------------------------
-- net: pg_net's queue-and-response interface. Requests are queued; the dispatcher performs them after commit
-- and writes net._http_response (as pg_net's worker does).
-- ---------------------------------------------------------------------------------------------------------
do $do$
begin
  if exists (select 1 from pg_extension where extname = 'pg_net') then
    raise notice 'pg_net is installed: no net stand-in';
    return;
  end if;

  create schema if not exists net;

  create table if not exists net.http_request_queue (
    id bigserial primary key,
    method text not null check (method in ('GET', 'POST', 'DELETE')),
    url text not null,
    headers jsonb not null,
    body bytea,
    timeout_milliseconds integer not null
  );
  comment on table net.http_request_queue is 'Pending requests (pg_net stand-in: sent by local/db/scheduler.ts).';

  create table if not exists net._http_response (
    id bigint,
    status_code integer,
    content_type text,
    headers jsonb,
    content text,
    timed_out boolean,
    error_msg text,
    created timestamptz not null default now()
  );
  create index if not exists _http_response_created_idx on net._http_response (created);

  -- Wakes the dispatcher as soon as a request is committed (it also polls).
  create or replace function net._notify_dispatcher() returns trigger
  language plpgsql as $fn$
  begin
    perform pg_notify('servicepro_net_queue', '');
    return null;
  end
  $fn$;
  drop trigger if exists notify_dispatcher on net.http_request_queue;
  create trigger notify_dispatcher after insert on net.http_request_queue
    for each statement execute function net._notify_dispatcher();

  -- RFC 3986 percent-encoding of one query-string component (pg_net encodes keys and values the same way).
  create or replace function net._urlencode(value text) returns text
  language sql immutable strict as $fn$
    select coalesce(string_agg(
      case when ch ~ '^[A-Za-z0-9_.~-]$' then ch
           else upper(regexp_replace(encode(convert_to(ch, 'UTF8'), 'hex'), '(..)', '%\1', 'g'))
      end, '' order by i), '')
    from regexp_split_to_table(value, '') with ordinality as t(ch, i)
  $fn$;

  create or replace function net._url_with_params(url text, params jsonb) returns text
  language sql immutable as $fn$
    select case
      when params is null or params = '{}'::jsonb then url
      else url || case when position('?' in url) > 0 then '&' else '?' end
               || (select string_agg(net._urlencode(key) || '=' || net._urlencode(value), '&' order by key)
                   from jsonb_each_text(params))
    end
  $fn$;

  create or replace function net.http_get(
    url text,
    params jsonb default '{}'::jsonb,
    headers jsonb default '{}'::jsonb,
    timeout_milliseconds integer default 5000
  ) returns bigint
  language plpgsql volatile as $fn$
  declare
    request_id bigint;
  begin
    if url is null then raise exception 'url must not be null'; end if;
    insert into net.http_request_queue (method, url, headers, timeout_milliseconds)
    values ('GET', net._url_with_params(url, params), coalesce(headers, '{}'::jsonb), timeout_milliseconds)
    returning id into request_id;
    return request_id;
  end
  $fn$;

  create or replace function net.http_post(
    url text,
    body jsonb default '{}'::jsonb,
    params jsonb default '{}'::jsonb,
    headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
    timeout_milliseconds integer default 5000
  ) returns bigint
  language plpgsql volatile as $fn$
  declare
    request_id bigint;
    content_type text;
  begin
    if url is null then raise exception 'url must not be null'; end if;
    select v into content_type
    from jsonb_each_text(coalesce(headers, '{}'::jsonb)) as h(k, v)
    where lower(k) = 'content-type' limit 1;
    if content_type is null then
      headers := coalesce(headers, '{}'::jsonb) || '{"Content-Type": "application/json"}'::jsonb;
    elsif content_type <> 'application/json' then
      raise exception 'Content-Type header must be "application/json"';
    end if;
    if body is null then raise exception 'body must not be null'; end if;
    insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
    values ('POST', net._url_with_params(url, params), headers, convert_to(body::text, 'UTF8'), timeout_milliseconds)
    returning id into request_id;
    return request_id;
  end
  $fn$;

  create or replace function net.http_delete(
    url text,
    params jsonb default '{}'::jsonb,
    headers jsonb default '{}'::jsonb,
    timeout_milliseconds integer default 5000,
    body jsonb default null
  ) returns bigint
  language plpgsql volatile as $fn$
  declare
    request_id bigint;
  begin
    if url is null then raise exception 'url must not be null'; end if;
    insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
    values ('DELETE', net._url_with_params(url, params), coalesce(headers, '{}'::jsonb),
            case when body is null then null else convert_to(body::text, 'UTF8') end, timeout_milliseconds)
    returning id into request_id;
    return request_id;
  end
  $fn$;
end
$do$;

-- ---------------------------------------------------------------------------------------------------------
-- vault: Supabase Vault's interface. The stand-in keeps secrets in plain text (no pgsodium locally); the
-- schema is closed to the API roles, as on the platform.
-- ---------------------------------------------------------------------------------------------------------
do $do$
begin
  if exists (select 1 from pg_extension where extname = 'supabase_vault') then
    raise notice 'supabase_vault is installed: no vault stand-in';
    return;
  end if;

  create schema if not exists vault;

  create table if not exists vault.secrets (
    id uuid primary key default gen_random_uuid(),
    name text,
    description text not null default '',
    secret text not null,
    key_id uuid,
    nonce bytea,
    created_at timestamptz not null default current_timestamp,
    updated_at timestamptz not null default current_timestamp
  );
  create unique index if not exists secrets_name_idx on vault.secrets (name) where name is not null;

  create or replace view vault.decrypted_secrets as
    select id, name, description, secret, secret as decrypted_secret, key_id, nonce, created_at, updated_at
    from vault.secrets;

  create or replace function vault.create_secret(
    new_secret text,
    new_name text default null,
    new_description text default '',
    new_key_id uuid default null
  ) returns uuid
  language plpgsql set search_path = '' as $fn$
  declare
    secret_id uuid;
  begin
    insert into vault.secrets (secret, name, description, key_id)
    values (new_secret, new_name, coalesce(new_description, ''), new_key_id)
    returning id into secret_id;
    return secret_id;
  end
  $fn$;

  create or replace function vault.update_secret(
    secret_id uuid,
    new_secret text default null,
    new_name text default null,
    new_description text default null,
    new_key_id uuid default null
  ) returns void
  language plpgsql set search_path = '' as $fn$
  begin
    update vault.secrets s set
      secret = coalesce(new_secret, s.secret),
      name = coalesce(new_name, s.name),
      description = coalesce(new_description, s.description),
      key_id = coalesce(new_key_id, s.key_id),
      updated_at = current_timestamp
    where s.id = secret_id;
  end
  $fn$;
end
$do$;

-- ---------------------------------------------------------------------------------------------------------
-- cron: the real pg_cron when the server preloads it (Debian postgresql-15-cron + shared_preload_libraries,
-- set by local/db/postgres.ts), else a stand-in with pg_cron's tables and functions that
-- local/db/scheduler.ts runs once a minute. Schedules are standard 5-field cron (as pg_cron 1.4, which Debian
-- ships): '[1-59] seconds' is rejected here just as the local pg_cron rejects it.
-- ---------------------------------------------------------------------------------------------------------
do $do$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron') then
    return;
  end if;
  if exists (select 1 from pg_available_extensions where name = 'pg_cron')
     and current_setting('shared_preload_libraries', true) ~ '(^|[ ,])pg_cron($|[ ,])'
     and coalesce(current_setting('cron.database_name', true), 'postgres') = current_database() then
    if to_regprocedure('cron._schedule_matches(text, timestamptz)') is not null then
      -- The stand-in from a start before pg_cron was installed: hand its jobs to the real extension.
      alter schema cron rename to cron_stand_in_replaced;
      create extension pg_cron with schema pg_catalog;  -- where hosted Supabase puts it
      insert into cron.job (schedule, command, nodename, nodeport, database, username, active, jobname)
        select schedule, command, nodename, nodeport, database, username, active, jobname
        from cron_stand_in_replaced.job order by jobid;
      drop schema cron_stand_in_replaced cascade;
      raise warning 'pg_cron is now available: the cron stand-in''s jobs were moved to pg_cron (run history dropped)';
    elsif exists (select 1 from pg_namespace where nspname = 'cron') then
      raise exception 'pg_cron is preloaded but a schema cron that is not ours exists: drop it, then start again';
    else
      create extension pg_cron with schema pg_catalog;  -- where hosted Supabase puts it
    end if;
    return;
  end if;

  create schema if not exists cron;

  create table if not exists cron.job (
    jobid bigserial primary key,
    schedule text not null,
    command text not null,
    nodename text not null default 'localhost',
    nodeport integer not null default coalesce(inet_server_port(), 5432),
    database text not null default current_database(),
    username text not null default current_user,
    active boolean not null default true,
    jobname text
  );
  create unique index if not exists jobname_username_idx on cron.job (jobname, username);
  comment on table cron.job is 'pg_cron stand-in: jobs run by local/db/scheduler.ts once a minute.';

  create table if not exists cron.job_run_details (
    jobid bigint,
    runid bigserial primary key,
    job_pid integer,
    database text,
    username text,
    command text,
    status text,
    return_message text,
    start_time timestamptz,
    end_time timestamptz
  );

  -- One field of a cron schedule → the sorted values it allows; raises on anything cron(8)/pg_cron rejects.
  create or replace function cron._parse_field(field text, lo integer, hi integer, names text[] default null)
  returns integer[]
  language plpgsql immutable as $fn$
  declare
    part text;
    m text[];
    a integer;
    b integer;
    step integer;
    result integer[] := '{}';
    v integer;
  begin
    if field is null or field = '' then raise exception 'empty field'; end if;
    foreach part in array string_to_array(lower(field), ',') loop
      -- *  |  *\/n  |  a  |  a-b  |  a-b/n   (a single value with a step, "a/n", is invalid in cron)
      m := regexp_match(part, '^(\*|([0-9]+|[a-z]{3})(-([0-9]+|[a-z]{3}))?)(/([0-9]+))?$');
      if m is null then raise exception 'invalid field "%"', field; end if;
      if m[1] = '*' then
        a := lo; b := hi;
      else
        a := case when m[2] ~ '^[0-9]+$' then m[2]::integer else array_position(names, m[2]) - 1 + lo end;
        if a is null then raise exception 'invalid name "%"', m[2]; end if;
        if m[4] is null then
          if m[6] is not null then raise exception 'a step needs a range or *: "%"', part; end if;
          b := a;
        else
          b := case when m[4] ~ '^[0-9]+$' then m[4]::integer else array_position(names, m[4]) - 1 + lo end;
          if b is null then raise exception 'invalid name "%"', m[4]; end if;
        end if;
      end if;
      step := coalesce(m[6]::integer, 1);
      if a < lo or b > hi or a > b then raise exception 'value out of range in "%" (% to %)', part, lo, hi; end if;
      if step < 1 then raise exception 'invalid step in "%"', part; end if;
      v := a;
      while v <= b loop
        result := result || v;
        v := v + step;
      end loop;
    end loop;
    return (select array_agg(distinct x order by x) from unnest(result) as x);
  end
  $fn$;

  -- Whether `schedule` fires in the minute containing `at` (pg_cron evaluates in cron.timezone, GMT).
  -- Raises 'invalid schedule: …' for anything pg_cron 1.4 does not accept.
  create or replace function cron._schedule_matches(schedule text, at timestamptz)
  returns boolean
  language plpgsql stable as $fn$
  declare
    spec text := lower(btrim(schedule));
    f text[];
    t timestamp := at at time zone 'GMT';
    minutes integer[];
    hours integer[];
    doms integer[];
    months integer[];
    dows integer[];
    dom_star boolean;
    dow_star boolean;
    dom_ok boolean;
    dow_ok boolean;
    months_names constant text[] := array['jan','feb','mar','apr','may','jun','jul','aug','sep','oct','nov','dec'];
    dow_names constant text[] := array['sun','mon','tue','wed','thu','fri','sat','sun'];
  begin
    spec := case spec
      when '@yearly' then '0 0 1 1 *' when '@annually' then '0 0 1 1 *' when '@monthly' then '0 0 1 * *'
      when '@weekly' then '0 0 * * 0' when '@daily' then '0 0 * * *' when '@midnight' then '0 0 * * *'
      when '@hourly' then '0 * * * *' else spec end;
    if spec = '@reboot' then
      return false; -- runs once when the scheduler starts, never by the clock
    end if;
    -- pg_cron reads five fields and, like crontab, ignores whatever follows them.
    f := regexp_split_to_array(spec, '\s+');
    if coalesce(array_length(f, 1), 0) < 5 then
      raise exception 'invalid schedule: %', schedule
        using hint = 'use 5-field cron syntax ("*/5 * * * *"); interval schedules such as ''10 seconds'' need pg_cron 1.5+, which hosted Supabase has but local pg_cron 1.4 rejects';
    end if;
    begin
      minutes := cron._parse_field(f[1], 0, 59);
      hours := cron._parse_field(f[2], 0, 23);
      doms := cron._parse_field(f[3], 1, 31);
      months := cron._parse_field(f[4], 1, 12, months_names);
      dows := cron._parse_field(f[5], 0, 7, dow_names);
    exception when others then
      raise exception 'invalid schedule: %', schedule using detail = sqlerrm;
    end;
    if 7 = any(dows) then dows := dows || 0; end if; -- 7 is Sunday too
    dom_star := left(f[3], 1) = '*';
    dow_star := left(f[5], 1) = '*';
    if not (extract(minute from t)::integer = any(minutes) and extract(hour from t)::integer = any(hours)
            and extract(month from t)::integer = any(months)) then
      return false;
    end if;
    dom_ok := extract(day from t)::integer = any(doms);
    dow_ok := extract(dow from t)::integer = any(dows);
    -- cron(8): when both day fields are restricted, either may match; otherwise both must.
    return case when dom_star or dow_star then dom_ok and dow_ok else dom_ok or dow_ok end;
  end
  $fn$;

  create or replace function cron.schedule(job_name text, schedule text, command text) returns bigint
  language plpgsql as $fn$
  declare
    id bigint;
  begin
    perform cron._schedule_matches(schedule, now());
    insert into cron.job (schedule, command, jobname, username)
    values (schedule, command, job_name, current_user)
    on conflict (jobname, username) do update set schedule = excluded.schedule, command = excluded.command
    returning jobid into id;
    return id;
  end
  $fn$;

  create or replace function cron.schedule(schedule text, command text) returns bigint
  language plpgsql as $fn$
  declare
    id bigint;
  begin
    perform cron._schedule_matches(schedule, now());
    insert into cron.job (schedule, command, username) values (schedule, command, current_user)
    returning jobid into id;
    return id;
  end
  $fn$;

  create or replace function cron.unschedule(job_name text) returns boolean
  language plpgsql as $fn$
  begin
    delete from cron.job where jobname = job_name and username = current_user;
    if not found then
      raise exception 'could not find valid entry for job ''%''', job_name;
    end if;
    return true;
  end
  $fn$;

  create or replace function cron.unschedule(job_id bigint) returns boolean
  language plpgsql as $fn$
  begin
    delete from cron.job
    where jobid = job_id
      and (username = current_user or (select rolsuper from pg_roles where rolname = current_user));
    if not found then
      raise exception 'could not find valid entry for job %', job_id;
    end if;
    return true;
  end
  $fn$;

  create or replace function cron.alter_job(
    job_id bigint,
    schedule text default null,
    command text default null,
    database text default null,
    username text default null,
    active boolean default null
  ) returns void
  language plpgsql as $fn$
  begin
    if schedule is not null then perform cron._schedule_matches(schedule, now()); end if;
    update cron.job j set
      schedule = coalesce(alter_job.schedule, j.schedule),
      command = coalesce(alter_job.command, j.command),
      database = coalesce(alter_job.database, j.database),
      username = coalesce(alter_job.username, j.username),
      active = coalesce(alter_job.active, j.active)
    where j.jobid = job_id
      and (j.username = current_user or (select rolsuper from pg_roles where rolname = current_user));
    if not found then
      raise exception 'Job % does not exist or you don''t own it', job_id;
    end if;
  end
  $fn$;
end
$do$;
