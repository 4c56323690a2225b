-- Demo data for `npm start` and `supabase db reset` (local only; never run against production).
-- Idempotent: running it twice changes nothing. Logins (printed by `npm start`):
--   owner@demo.servicepro.local / demo-owner-pass   owner of "Demo Auto Repair"
--   tech@demo.servicepro.local  / demo-tech-pass    technician of "Demo Auto Repair"
--   root@demo.servicepro.local  / demo-root-pass    platform admin (no shop)
--
-- Users are written straight into auth.users the way the auth server stores them (bcrypt `encrypted_password`,
-- confirmed email, provider "email"), so sign-in works both with the local auth stand-in and with GoTrue under
-- `supabase start`. Only the columns the running auth schema has are written: the same file works with the
-- local bootstrap's auth.users and with GoTrue's full table.

create or replace function pg_temp.seed_user(p_id uuid, p_email text, p_password text, p_fallback_hash text)
returns uuid
language plpgsql
as $$
declare
  v_hash text;
  v_row jsonb;
  v_cols text;
  v_id uuid;
begin
  -- pgcrypto's crypt()/gen_salt('bf') when installed (hosted: schema extensions), else a precomputed bcrypt hash
  -- of the same password (cost 10, GoTrue's default).
  if to_regprocedure('extensions.crypt(text,text)') is not null
     and to_regprocedure('extensions.gen_salt(text,integer)') is not null then
    execute 'select extensions.crypt($1, extensions.gen_salt(''bf'', 10))' into v_hash using p_password;
  else
    v_hash := p_fallback_hash;
  end if;

  v_row := jsonb_build_object(
    'instance_id', '00000000-0000-0000-0000-000000000000',
    'id', p_id,
    'aud', 'authenticated',
    'role', 'authenticated',
    'email', p_email,
    'encrypted_password', v_hash,
    'email_confirmed_at', now(),
    'raw_app_meta_data', jsonb_build_object('provider', 'email', 'providers', jsonb_build_array('email')),
    'raw_user_meta_data', '{}'::jsonb,
    'created_at', now(),
    'updated_at', now(),
    -- GoTrue scans these as strings: empty, not NULL.
    'confirmation_token', '', 'recovery_token', '', 'email_change_token_new', '', 'email_change', '',
    'email_change_token_current', '', 'phone_change', '', 'phone_change_token', '', 'reauthentication_token', '',
    'is_sso_user', false,
    'is_anonymous', false
  );
  select string_agg(format('%I', c.column_name), ', ' order by c.ordinal_position) into v_cols
  from information_schema.columns c
  where c.table_schema = 'auth' and c.table_name = 'users' and c.is_generated = 'NEVER'
    and v_row ? c.column_name;
  execute format(
    'insert into auth.users (%s) select %s from jsonb_populate_record(null::auth.users, $1) on conflict do nothing',
    v_cols, v_cols) using v_row;

  -- Whoever owns the address now (a re-run, or someone who signed up by hand) is the demo user.
  select u.id into v_id from auth.users u where lower(u.email) = lower(p_email) order by u.created_at limit 1;

  if to_regclass('auth.identities') is not null then
    v_row := jsonb_build_object(
      'provider_id', v_id::text,
      'id', case when (select data_type from information_schema.columns
                        where table_schema = 'auth' and table_name = 'identities' and column_name = 'id') = 'uuid'
                 then gen_random_uuid()::text else v_id::text end,
      'user_id', v_id,
      'identity_data', jsonb_build_object('sub', v_id::text, 'email', p_email, 'email_verified', true),
      'provider', 'email',
      'last_sign_in_at', now(),
      'created_at', now(),
      'updated_at', now()
    );
    select string_agg(format('%I', c.column_name), ', ' order by c.ordinal_position) into v_cols
    from information_schema.columns c
    where c.table_schema = 'auth' and c.table_name = 'identities' and c.is_generated = 'NEVER'
      and v_row ? c.column_name;
    if not exists (select 1 from auth.identities i where i.user_id = v_id and i.provider = 'email') then
      execute format(
        'insert into auth.identities (%s) select %s from jsonb_populate_record(null::auth.identities, $1) '
        'on conflict do nothing', v_cols, v_cols) using v_row;
    end if;
  end if;
  return v_id;
end;
$$;

do $$
declare
  v_owner uuid := pg_temp.seed_user('00000000-0000-4000-a000-00000000d001', 'owner@demo.servicepro.local',
    'demo-owner-pass', '$2a$10$T/6gpk7jWumD3jnjgKa3B.Dqz0NwyczncoIEHwaqnU5SxJkxBfvUq');
  v_tech uuid := pg_temp.seed_user('00000000-0000-4000-a000-00000000d002', 'tech@demo.servicepro.local',
    'demo-tech-pass', '$2a$10$bAPmRMzjsvTKb6AsJc73hO96Qt0ZqcsA4UjGebXq5ERVzeokiI/aO');
  v_root uuid := pg_temp.seed_user('00000000-0000-4000-a000-00000000d0ff', 'root@demo.servicepro.local',
    'demo-root-pass', '$2a$10$4xsSQdAgoQRG3RAAQq7xjOJDOiM0KE6oSyAFuRsCfXApwn90SI7bu');
  v_tenant uuid;
begin
  insert into public.tenants (id, name, slug, industry, time_zone, country, phone, google_review_url)
  values ('00000000-0000-4000-a000-00000000d100', 'Demo Auto Repair', 'demo-auto-repair', 'auto_repair',
          'America/New_York', 'US', '+15005550100', 'https://g.page/r/demo-auto-repair/review')
  on conflict do nothing;
  select t.id into v_tenant from public.tenants t where t.slug = 'demo-auto-repair';

  insert into public.memberships (tenant_id, user_id, role)
  values (v_tenant, v_owner, 'owner'), (v_tenant, v_tech, 'technician')
  on conflict do nothing;

  insert into public.platform_admins (user_id, note)
  values (v_root, 'Demo platform admin (seed.sql)')
  on conflict do nothing;
end;
$$;
