-- create_tenancy: shops (tenants), members and roles, platform admins, invitations; the RLS pattern every later
-- table copies (docs/tenancy.md). Sections: types, tables (RLS enabled right after each create), indexes,
-- triggers, private helpers, policies, RPCs, grants.

-- Types -------------------------------------------------------------------------------------------------------

create type public.tenant_status as enum ('trialing', 'active', 'past_due', 'suspended', 'canceled');

-- Declared from most to least privileged, so `role <= 'admin'` reads "admin or higher". Only the private helpers
-- compare roles; policies and RPCs ask private.current_tenant_ids(min_role) / private.has_tenant_role(...).
create type public.member_role as enum ('owner', 'admin', 'technician');

-- Tables ------------------------------------------------------------------------------------------------------

create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null
    constraint tenants_name_check check (name = btrim(name) and char_length(name) between 1 and 100),
  slug text not null
    constraint tenants_slug_key unique
    constraint tenants_slug_check check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 63),
  industry text not null
    constraint tenants_industry_check check (industry = btrim(industry) and char_length(industry) between 1 and 60),
  time_zone text not null, -- validated against pg_timezone_names by the check_time_zone trigger
  country text not null default 'US'
    constraint tenants_country_check check (country ~ '^[A-Z]{2}$'),
  phone text
    constraint tenants_phone_check check (phone ~ '^\+[1-9][0-9]{6,14}$'),
  google_review_url text
    constraint tenants_google_review_url_check
    check (google_review_url ~ '^https://[^[:space:]]+$' and char_length(google_review_url) <= 2048),
  plan text not null default 'trial', -- the billing migration turns this into a foreign key to its plans table
  status public.tenant_status not null default 'trialing',
  trial_ends_at timestamptz default (now() + interval '14 days'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.tenants enable row level security;
comment on table public.tenants is
  'A shop. Members read it; owners and admins edit the settings columns granted below; plan, status and '
  'trial_ends_at are written by the server (billing) only. Created through public.create_tenant().';
comment on column public.tenants.phone is 'The shop''s own phone number in E.164 (+15551234567), optional.';
comment on column public.tenants.time_zone is 'IANA name from pg_timezone_names, e.g. America/New_York.';
comment on column public.tenants.country is 'ISO 3166-1 alpha-2, upper case.';

create table public.memberships (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role public.member_role not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, user_id)
);
alter table public.memberships enable row level security;
comment on table public.memberships is
  'Who belongs to which shop, with which role. The only source of authorization (never user_metadata). '
  'Members read their shop''s team; changes go through create_tenant, accept_invitation, set_member_role '
  'and remove_member, which enforce the role rules and keep at least one owner.';

create table public.platform_admins (
  user_id uuid primary key references auth.users (id) on delete cascade,
  note text,
  created_at timestamptz not null default now()
);
alter table public.platform_admins enable row level security;
comment on table public.platform_admins is
  'Server-only: RLS on and no policies on purpose. Operators of ServicePro; written by the service role only, '
  'read through private.is_platform_admin() by the admin_* RPCs. Never widens tenant policies.';

create table public.invitations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  email text not null
    constraint invitations_email_check
    check (email = lower(btrim(email)) and email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'
           and char_length(email) <= 254),
  role public.member_role not null,
  token_hash text not null
    constraint invitations_token_hash_key unique
    constraint invitations_token_hash_check check (token_hash ~ '^[0-9a-f]{64}$'),
  invited_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default (now() + interval '7 days'),
  accepted_at timestamptz,
  accepted_by uuid references auth.users (id) on delete set null,
  revoked_at timestamptz
);
alter table public.invitations enable row level security;
comment on table public.invitations is
  'Pending and past invitations. Only the SHA-256 of the token is stored; invite_member returns the token once. '
  'Owners and admins read their shop''s invitations and may revoke them (set revoked_at).';
comment on column public.invitations.token_hash is 'hex(sha256(token)); the raw token is never stored.';

-- Indexes -----------------------------------------------------------------------------------------------------
-- memberships (tenant_id, user_id) is served by the primary key; user_id needs its own (policy helpers use it).

create index memberships_user_id_idx on public.memberships (user_id);
create index invitations_tenant_id_idx on public.invitations (tenant_id, created_at desc);
create unique index invitations_one_pending_per_email_idx on public.invitations (tenant_id, email)
  where accepted_at is null and revoked_at is null;
create index invitations_invited_by_idx on public.invitations (invited_by);
create index invitations_accepted_by_idx on public.invitations (accepted_by);

-- Triggers ----------------------------------------------------------------------------------------------------

create function private.check_time_zone()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select 1 from pg_catalog.pg_timezone_names z where z.name = new.time_zone) then
    raise exception 'invalid_time_zone: "%" is not a time zone name such as America/New_York', new.time_zone
      using errcode = '22023';
  end if;
  return new;
end;
$$;
comment on function private.check_time_zone() is 'Trigger: time_zone must be a name in pg_timezone_names (22023).';

create trigger check_time_zone before insert or update of time_zone on public.tenants
  for each row execute function private.check_time_zone();
create trigger set_updated_at before update on public.tenants
  for each row execute function private.set_updated_at();

create trigger forbid_tenant_change before update on public.memberships
  for each row execute function private.forbid_tenant_change();
create trigger set_updated_at before update on public.memberships
  for each row execute function private.set_updated_at();

create trigger forbid_tenant_change before update on public.invitations
  for each row execute function private.forbid_tenant_change();

-- Private helpers ---------------------------------------------------------------------------------------------
-- Security definer (they read memberships, whose own policy calls them) with an empty search_path; STABLE, and
-- independent of the row, so policies wrap them as `(select private.…)` and Postgres evaluates them once per
-- statement (an InitPlan) instead of once per row.

-- The shops the caller belongs to with at least `min_role`. Policies: tenant_id = any ((select private.current_tenant_ids())::uuid[]).
create function private.current_tenant_ids(min_role public.member_role default 'technician')
returns uuid[]
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(array_agg(m.tenant_id), '{}')
  from public.memberships m
  where m.user_id = (select auth.uid())
    and m.role <= current_tenant_ids.min_role;
$$;
comment on function private.current_tenant_ids(public.member_role) is
  'Shops of the calling user (auth.uid()) with at least min_role (owner > admin > technician). For policies.';

-- Does the caller hold at least `min_role` in this shop? For RPCs (one shop at a time); policies prefer
-- current_tenant_ids(min_role), which does not depend on the row.
create function private.has_tenant_role(tenant_id uuid, min_role public.member_role default 'technician')
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
    from public.memberships m
    where m.tenant_id = has_tenant_role.tenant_id
      and m.user_id = (select auth.uid())
      and m.role <= has_tenant_role.min_role
  );
$$;
comment on function private.has_tenant_role(uuid, public.member_role) is
  'True when the calling user is a member of tenant_id with at least min_role. For RPC caller checks.';

create function private.is_platform_admin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.platform_admins a where a.user_id = (select auth.uid()));
$$;
comment on function private.is_platform_admin() is
  'True when the calling user is in platform_admins. Used only by admin_* RPCs, never by tenant policies.';

-- Policies ----------------------------------------------------------------------------------------------------
-- Per command, `to authenticated`, helpers wrapped in (select …). Commands without a policy (and without a grant
-- below) are refused: tenants are created by create_tenant and deleted by the server; memberships change only
-- through the RPCs; invitations are created by invite_member.

create policy tenants_select_members on public.tenants
  for select to authenticated
  using (id = any ((select private.current_tenant_ids())::uuid[]));

create policy tenants_update_admins on public.tenants
  for update to authenticated
  using (id = any ((select private.current_tenant_ids('admin'))::uuid[]))
  with check (id = any ((select private.current_tenant_ids('admin'))::uuid[]));

create policy memberships_select_members on public.memberships
  for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids())::uuid[]));

create policy invitations_select_admins on public.invitations
  for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]));

-- Revoking only: the new row must stay revoked (an admin cannot revive an invitation an owner revoked).
create policy invitations_update_admins on public.invitations
  for update to authenticated
  using (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]))
  with check (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]) and revoked_at is not null);

-- RPCs --------------------------------------------------------------------------------------------------------
-- Security definer, empty search_path, their own caller checks; parameters are referenced qualified by the
-- function name (fn.param) and columns through table aliases, so nothing is ambiguous.

-- Sign-up: a signed-in user creates a shop and becomes its owner, in one transaction.
create function public.create_tenant(name text, industry text, time_zone text, phone text default null)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_name text := btrim(create_tenant.name);
  v_industry text := btrim(create_tenant.industry);
  v_phone text := nullif(btrim(create_tenant.phone), '');
  v_base text;
  v_slug text;
  v_id uuid;
  v_attempt int := 0;
begin
  if v_uid is null then
    raise exception 'not_authenticated: sign in to create a shop' using errcode = '42501';
  end if;
  if v_name is null or char_length(v_name) not between 1 and 100 then
    raise exception 'invalid_name: the shop name must be 1 to 100 characters' using errcode = '22023';
  end if;
  if v_industry is null or char_length(v_industry) not between 1 and 60 then
    raise exception 'invalid_industry: the industry must be 1 to 60 characters' using errcode = '22023';
  end if;
  if create_tenant.time_zone is null then
    raise exception 'invalid_time_zone: a time zone such as America/New_York is required' using errcode = '22023';
  end if;
  if v_phone is not null and v_phone !~ '^\+[1-9][0-9]{6,14}$' then
    raise exception 'invalid_phone: use the international format, e.g. +15551234567' using errcode = '22023';
  end if;
  -- Anti-automation: one person does not run dozens of shops.
  if (select count(*) from public.memberships m where m.user_id = v_uid and m.role = 'owner') >= 10 then
    raise exception 'shop_limit_reached: you already own 10 shops' using errcode = 'P0001';
  end if;

  -- Slug: ASCII letters and digits from the name ("Café Müller" -> "cafe-muller"), unique across shops.
  v_base := lower(normalize(v_name, NFKD));
  v_base := regexp_replace(v_base, '[\u0300-\u036f]', '', 'g');
  v_base := btrim(regexp_replace(v_base, '[^a-z0-9]+', '-', 'g'), '-');
  v_base := btrim(left(v_base, 48), '-');
  if v_base = '' then
    v_base := 'shop';
  end if;

  loop
    v_attempt := v_attempt + 1;
    v_slug := case
      when v_attempt = 1 then v_base
      when v_attempt <= 5 then v_base || '-' || v_attempt
      else v_base || '-' || left(replace(gen_random_uuid()::text, '-', ''), 8)
    end;
    continue when v_attempt < 20 and exists (select 1 from public.tenants t where t.slug = v_slug);
    begin
      insert into public.tenants (name, slug, industry, time_zone, phone)
      values (v_name, v_slug, v_industry, create_tenant.time_zone, v_phone)
      returning id into v_id;
      exit;
    exception when unique_violation then
      -- Another sign-up took the slug between our check and insert; try the next one.
      if v_attempt >= 20 then
        raise;
      end if;
    end;
  end loop;

  insert into public.memberships (tenant_id, user_id, role) values (v_id, v_uid, 'owner');
  return v_id;
end;
$$;
comment on function public.create_tenant(text, text, text, text) is
  'Sign-up: creates a trialing shop (14 days) with the caller as owner; returns its id.';

-- Owners and admins invite by email; admins cannot invite owners. Returns the raw token once.
create function public.invite_member(tenant_id uuid, email text, role public.member_role)
returns json
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_email text := lower(btrim(invite_member.email));
  v_token text;
  v_id uuid;
  v_expires_at timestamptz;
begin
  if v_uid is null then
    raise exception 'not_authenticated: sign in first' using errcode = '42501';
  end if;
  if invite_member.tenant_id is null or invite_member.role is null then
    raise exception 'invalid_argument: tenant_id and role are required' using errcode = '22023';
  end if;
  if not private.has_tenant_role(invite_member.tenant_id, 'admin') then
    raise exception 'forbidden: only owners and admins can invite members' using errcode = '42501';
  end if;
  if invite_member.role = 'owner' and not private.has_tenant_role(invite_member.tenant_id, 'owner') then
    raise exception 'forbidden: only owners can invite owners' using errcode = '42501';
  end if;
  if v_email is null or char_length(v_email) > 254
     or v_email !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$' then
    raise exception 'invalid_email: "%" is not an email address', invite_member.email using errcode = '22023';
  end if;
  if exists (
    select 1
    from public.memberships m
    join auth.users u on u.id = m.user_id
    where m.tenant_id = invite_member.tenant_id and lower(u.email) = v_email
  ) then
    raise exception 'already_member: % is already a member of this shop', v_email using errcode = 'P0001';
  end if;
  if (
    select count(*) from public.invitations i
    where i.tenant_id = invite_member.tenant_id
      and i.accepted_at is null and i.revoked_at is null and i.expires_at > now()
  ) >= 50 then
    raise exception 'too_many_invitations: revoke some pending invitations first' using errcode = 'P0001';
  end if;

  -- A new invitation supersedes any pending one for the same address.
  update public.invitations i
  set revoked_at = now()
  where i.tenant_id = invite_member.tenant_id and i.email = v_email
    and i.accepted_at is null and i.revoked_at is null;

  -- 244 random bits from two v4 UUIDs (pg_strong_random), 64 hex characters; only its SHA-256 is stored.
  v_token := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');

  insert into public.invitations (tenant_id, email, role, token_hash, invited_by)
  values (invite_member.tenant_id, v_email, invite_member.role,
          encode(sha256(convert_to(v_token, 'UTF8')), 'hex'), v_uid)
  returning id, expires_at into v_id, v_expires_at;

  return json_build_object('invitation_id', v_id, 'token', v_token, 'expires_at', v_expires_at);
end;
$$;
comment on function public.invite_member(uuid, text, public.member_role) is
  'Owners/admins invite an email with a role (admins cannot invite owners). Returns {invitation_id, token, '
  'expires_at}; the token is shown once and only its hash is stored.';

-- The invitee (signed up or signed in with the invited address) joins the shop. Single use, expires.
create function public.accept_invitation(token text)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_inv public.invitations%rowtype;
  v_email text;
begin
  if v_uid is null then
    raise exception 'not_authenticated: sign in or sign up with the invited email address first' using errcode = '42501';
  end if;
  if accept_invitation.token is null or accept_invitation.token !~ '^[0-9a-f]{64}$' then
    raise exception 'invitation_not_found: this invitation link is not valid' using errcode = 'P0001';
  end if;

  select i.* into v_inv
  from public.invitations i
  where i.token_hash = encode(sha256(convert_to(accept_invitation.token, 'UTF8')), 'hex')
  for update;
  if not found then
    raise exception 'invitation_not_found: this invitation link is not valid' using errcode = 'P0001';
  end if;

  -- The address comes from auth.users (set by the auth server), never from user-editable metadata.
  select lower(u.email) into v_email from auth.users u where u.id = v_uid;
  if v_email is distinct from v_inv.email then
    raise exception 'invitation_email_mismatch: this invitation was sent to another email address; sign in with that address'
      using errcode = '42501';
  end if;
  if v_inv.accepted_at is not null then
    raise exception 'invitation_used: this invitation has already been used' using errcode = 'P0001';
  end if;
  if v_inv.revoked_at is not null then
    raise exception 'invitation_revoked: this invitation was withdrawn; ask the shop for a new one' using errcode = 'P0001';
  end if;
  if v_inv.expires_at <= now() then
    raise exception 'invitation_expired: this invitation has expired; ask the shop for a new one' using errcode = 'P0001';
  end if;
  if exists (select 1 from public.memberships m where m.tenant_id = v_inv.tenant_id and m.user_id = v_uid) then
    raise exception 'already_member: you are already a member of this shop' using errcode = 'P0001';
  end if;

  insert into public.memberships (tenant_id, user_id, role) values (v_inv.tenant_id, v_uid, v_inv.role);
  update public.invitations i set accepted_at = now(), accepted_by = v_uid where i.id = v_inv.id;
  return v_inv.tenant_id;
end;
$$;
comment on function public.accept_invitation(text) is
  'Joins the invitation''s shop as the caller (email must match auth.users.email); returns the tenant id. '
  'Errors: invitation_not_found, invitation_email_mismatch, invitation_used, invitation_revoked, '
  'invitation_expired, already_member.';

-- Owners change roles; the last owner cannot be demoted.
create function public.set_member_role(tenant_id uuid, user_id uuid, role public.member_role)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_current public.member_role;
begin
  if auth.uid() is null then
    raise exception 'not_authenticated: sign in first' using errcode = '42501';
  end if;
  if set_member_role.role is null then
    raise exception 'invalid_argument: role is required' using errcode = '22023';
  end if;
  if not private.has_tenant_role(set_member_role.tenant_id, 'owner') then
    raise exception 'forbidden: only owners can change roles' using errcode = '42501';
  end if;
  -- Serialize membership changes per shop, so two owners demoting each other cannot leave none.
  perform 1 from public.tenants t where t.id = set_member_role.tenant_id for no key update;

  select m.role into v_current
  from public.memberships m
  where m.tenant_id = set_member_role.tenant_id and m.user_id = set_member_role.user_id
  for update;
  if not found then
    raise exception 'member_not_found: that person is not a member of this shop' using errcode = 'P0001';
  end if;
  if v_current = 'owner' and set_member_role.role <> 'owner' and (
    select count(*) from public.memberships m
    where m.tenant_id = set_member_role.tenant_id and m.role = 'owner'
  ) <= 1 then
    raise exception 'last_owner: a shop needs at least one owner; make someone else an owner first'
      using errcode = 'P0001';
  end if;

  update public.memberships m
  set role = set_member_role.role
  where m.tenant_id = set_member_role.tenant_id and m.user_id = set_member_role.user_id;
end;
$$;
comment on function public.set_member_role(uuid, uuid, public.member_role) is
  'Owners change a member''s role; the last owner cannot be demoted (last_owner).';

-- Owners and admins remove members (admins cannot remove owners); anyone may leave; the last owner stays.
create function public.remove_member(tenant_id uuid, user_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
  v_target public.member_role;
begin
  if v_uid is null then
    raise exception 'not_authenticated: sign in first' using errcode = '42501';
  end if;
  if not private.has_tenant_role(remove_member.tenant_id, 'technician') then
    raise exception 'forbidden: you are not a member of this shop' using errcode = '42501';
  end if;
  perform 1 from public.tenants t where t.id = remove_member.tenant_id for no key update;

  select m.role into v_target
  from public.memberships m
  where m.tenant_id = remove_member.tenant_id and m.user_id = remove_member.user_id
  for update;
  if not found then
    raise exception 'member_not_found: that person is not a member of this shop' using errcode = 'P0001';
  end if;
  if remove_member.user_id is distinct from v_uid then
    if not private.has_tenant_role(remove_member.tenant_id, 'admin') then
      raise exception 'forbidden: only owners and admins can remove members' using errcode = '42501';
    end if;
    if v_target = 'owner' and not private.has_tenant_role(remove_member.tenant_id, 'owner') then
      raise exception 'forbidden: only owners can remove owners' using errcode = '42501';
    end if;
  end if;
  if v_target = 'owner' and (
    select count(*) from public.memberships m
    where m.tenant_id = remove_member.tenant_id and m.role = 'owner'
  ) <= 1 then
    raise exception 'last_owner: a shop needs at least one owner; make someone else an owner first'
      using errcode = 'P0001';
  end if;

  delete from public.memberships m
  where m.tenant_id = remove_member.tenant_id and m.user_id = remove_member.user_id;
end;
$$;
comment on function public.remove_member(uuid, uuid) is
  'Owners/admins remove a member (admins cannot remove owners); members may remove themselves; '
  'the last owner cannot be removed (last_owner).';

-- The shop switcher: the caller's shops with their role. Security invoker: RLS does the filtering.
create function public.my_tenants()
returns table (id uuid, name text, slug text, role public.member_role, status public.tenant_status, plan text)
language sql
stable
security invoker
set search_path = ''
as $$
  select t.id, t.name, t.slug, m.role, t.status, t.plan
  from public.memberships m
  join public.tenants t on t.id = m.tenant_id
  where m.user_id = (select auth.uid())
  order by t.name, t.id;
$$;
comment on function public.my_tenants() is 'The calling user''s shops and role in each, for the shop switcher.';

-- Platform admins only: every shop with its size and first owner. Raises 42501 for everyone else.
create function public.admin_list_tenants()
returns table (
  id uuid, name text, slug text, industry text, country text, plan text, status public.tenant_status,
  trial_ends_at timestamptz, created_at timestamptz, member_count bigint, owner_email text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not private.is_platform_admin() then
    raise exception 'forbidden: platform admins only' using errcode = '42501';
  end if;
  return query
    select t.id, t.name, t.slug, t.industry, t.country, t.plan, t.status, t.trial_ends_at, t.created_at,
           (select count(*) from public.memberships m where m.tenant_id = t.id),
           (select u.email::text
              from public.memberships m join auth.users u on u.id = m.user_id
             where m.tenant_id = t.id and m.role = 'owner'
             order by m.created_at limit 1)
    from public.tenants t
    order by t.created_at desc, t.id;
end;
$$;
comment on function public.admin_list_tenants() is 'Platform admins: all shops with member count and first owner.';

-- Grants ------------------------------------------------------------------------------------------------------
-- Explicit per table and per function (init_platform removed the defaults). anon gets nothing.

revoke all on table public.tenants, public.memberships, public.platform_admins, public.invitations
  from anon, authenticated;
grant all on table public.tenants, public.memberships, public.platform_admins, public.invitations to service_role;

grant select on table public.tenants to authenticated;
grant update (name, industry, time_zone, country, phone, google_review_url) on table public.tenants to authenticated;
grant select on table public.memberships to authenticated;
grant select on table public.invitations to authenticated;
grant update (revoked_at) on table public.invitations to authenticated;

-- Helpers policies call (by OID: no USAGE on schema private is needed, and none is granted).
revoke all on function private.current_tenant_ids(public.member_role), private.has_tenant_role(uuid, public.member_role),
  private.is_platform_admin(), private.check_time_zone() from public, anon, authenticated;
grant execute on function private.current_tenant_ids(public.member_role) to authenticated;

revoke all on function
  public.create_tenant(text, text, text, text),
  public.invite_member(uuid, text, public.member_role),
  public.accept_invitation(text),
  public.set_member_role(uuid, uuid, public.member_role),
  public.remove_member(uuid, uuid),
  public.my_tenants(),
  public.admin_list_tenants()
  from public, anon;
grant execute on function
  public.create_tenant(text, text, text, text),
  public.invite_member(uuid, text, public.member_role),
  public.accept_invitation(text),
  public.set_member_role(uuid, uuid, public.member_role),
  public.remove_member(uuid, uuid),
  public.my_tenants(),
  public.admin_list_tenants()
  to authenticated, service_role;
