-- fix_usage_settings_upsert: set_usage_settings' upsert named its conflict target `(tenant_id)`, which PL/pgSQL
-- resolves against the function's own parameter of that name ("column reference is ambiguous"), so the daily
-- usage email could never be switched on. Name the constraint instead. Same signature, grants unchanged.

-- ============================================================================================ RPCs
create or replace function public.set_usage_settings(tenant_id uuid, daily_email boolean)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not private.has_tenant_role(set_usage_settings.tenant_id, 'admin') then
    raise exception 'forbidden: owners and admins only' using errcode = '42501';
  end if;
  if set_usage_settings.daily_email is null then
    raise exception 'invalid_argument: daily_email must be true or false' using errcode = '22023';
  end if;
  insert into public.usage_settings as s (tenant_id, daily_email)
  values (set_usage_settings.tenant_id, set_usage_settings.daily_email)
  on conflict on constraint usage_settings_pkey do update set daily_email = excluded.daily_email;
end;
$$;
comment on function public.set_usage_settings(uuid, boolean) is
  'Owners and admins: turn the shop''s daily usage email on or off.';
