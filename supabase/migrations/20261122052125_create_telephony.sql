-- create_telephony: a Twilio subaccount and number per shop (or the shop's own Twilio account), inbound voice
-- settings, voicemails, and the link to billing.
--   tenant_phone_numbers       the shop's number and how calls are answered (members read; owners/admins edit the
--                              settings columns only — the number itself is written by provision-number)
--   tenant_twilio_credentials  SERVER-ONLY: the subaccount's / bring-your-own account's SID and AES-256-GCM
--                              encrypted auth token (key from the TELEPHONY_KEYS secret, never in the database)
--   voicemails                 recordings + transcriptions left through the IVR, in the caller's thread
-- Billing link: a trigger on tenants.status asks the telephony-sync function (pg_net, URL and key from Vault) to
-- suspend or reactivate the shop's subaccount; telephony-sync reads the desired state itself, so it is idempotent
-- and order-independent, and a periodic reconcile (same function, no tenant_id) repairs anything missed.

-- ============================================================================================ tables
create table public.tenant_phone_numbers (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  e164 text not null constraint tenant_phone_numbers_e164_check check (e164 ~ '^\+[1-9][0-9]{6,14}$'),
  twilio_number_sid text not null constraint tenant_phone_numbers_sid_check check (twilio_number_sid ~ '^PN[0-9a-fA-F]{32}$'),
  subaccount_sid text not null constraint tenant_phone_numbers_account_check check (subaccount_sid ~ '^AC[0-9a-fA-F]{32}$'),
  credential_kind text not null default 'subaccount'
    constraint tenant_phone_numbers_kind_check check (credential_kind in ('subaccount', 'byo')),
  messaging_service_sid text constraint tenant_phone_numbers_mg_check check (messaging_service_sid ~ '^MG[0-9a-fA-F]{32}$'),
  status text not null default 'active'
    constraint tenant_phone_numbers_status_check check (status in ('active', 'releasing', 'released', 'suspended')),
  ivr_mode text not null default 'ivr'
    constraint tenant_phone_numbers_mode_check check (ivr_mode in ('forward', 'sip', 'ivr')),
  forward_to text constraint tenant_phone_numbers_forward_check check (forward_to ~ '^\+[1-9][0-9]{6,14}$'),
  sip_uri text constraint tenant_phone_numbers_sip_check
    check (sip_uri ~ '^sips?:[^[:space:]@]+@[^[:space:]]+$' and char_length(sip_uri) <= 255),
  hours jsonb not null default '{}'::jsonb,
  greeting text constraint tenant_phone_numbers_greeting_check check (char_length(greeting) between 1 and 500),
  after_hours_message text
    constraint tenant_phone_numbers_after_hours_check check (char_length(after_hours_message) between 1 and 500),
  released_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint tenant_phone_numbers_sip_mode_check check (ivr_mode <> 'sip' or sip_uri is not null)
);
alter table public.tenant_phone_numbers enable row level security;
comment on table public.tenant_phone_numbers is
  'A shop''s Twilio number(s), at most one live (not released) per shop. Members read; owners and admins change '
  'only the answering settings (ivr_mode, forward_to, sip_uri, hours, greeting, after_hours_message) — column '
  'grants. The number, its SIDs and status are written by provision-number / telephony-sync (service role).';
comment on column public.tenant_phone_numbers.hours is
  'Opening hours in the shop''s time zone: {"mon": {"open": "08:00", "close": "17:30"}, "sun": null, …}. '
  'A missing weekday or null = closed that day; {} = always open.';
comment on column public.tenant_phone_numbers.subaccount_sid is
  'The Twilio account that owns the number: the shop''s subaccount, or its own account (credential_kind byo).';

create table public.tenant_twilio_credentials (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  kind text not null constraint tenant_twilio_credentials_kind_check check (kind in ('subaccount', 'byo')),
  account_sid text not null constraint tenant_twilio_credentials_sid_check check (account_sid ~ '^AC[0-9a-fA-F]{32}$'),
  auth_token_ciphertext text not null
    constraint tenant_twilio_credentials_ct_check check (auth_token_ciphertext ~ '^[A-Za-z0-9+/]+={0,2}$'),
  nonce text not null constraint tenant_twilio_credentials_nonce_check check (nonce ~ '^[A-Za-z0-9+/]{16}$'),
  key_id text not null constraint tenant_twilio_credentials_key_check check (key_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
  created_at timestamptz not null default now(),
  rotated_at timestamptz,
  primary key (tenant_id, kind)
);
alter table public.tenant_twilio_credentials enable row level security;
comment on table public.tenant_twilio_credentials is
  'Server-only: RLS on and no policies on purpose, no grants to anon/authenticated. One Twilio account per shop '
  'and kind: the subaccount we create, and optionally the shop''s own (bring-your-own). The auth token is '
  'AES-256-GCM encrypted by the edge functions (key TELEPHONY_KEYS[key_id], 12-byte nonce, AAD = '
  'tenant_id|kind|account_sid); the key never reaches the database. Never returned by any API.';

create table public.voicemails (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  customer_id uuid references public.customers (id) on delete set null,
  phone_number_id uuid references public.tenant_phone_numbers (id) on delete set null,
  call_sid text not null constraint voicemails_call_sid_check check (call_sid ~ '^CA[0-9a-fA-F]{32}$'),
  from_phone text not null constraint voicemails_from_check check (from_phone ~ '^\+[1-9][0-9]{6,14}$'),
  recording_sid text constraint voicemails_recording_sid_check check (recording_sid ~ '^RE[0-9a-fA-F]{32}$'),
  recording_url text constraint voicemails_recording_url_check check (recording_url ~ '^https?://' and char_length(recording_url) <= 2048),
  duration_seconds integer constraint voicemails_duration_check check (duration_seconds >= 0),
  transcription text constraint voicemails_transcription_check check (char_length(transcription) <= 10000),
  transcription_status text not null default 'pending'
    constraint voicemails_transcription_status_check check (transcription_status in ('pending', 'completed', 'failed')),
  read_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint voicemails_call_key unique (call_sid)
);
alter table public.voicemails enable row level security;
comment on table public.voicemails is
  'Voicemails left through the IVR (option 3), in the caller''s thread (customer_id when the caller is a known '
  'customer, always from_phone). Members read and mark read (read_at); written by twilio-voice (service role).';

-- ============================================================================================ indexes
create index tenant_phone_numbers_tenant_idx on public.tenant_phone_numbers (tenant_id);
create unique index tenant_phone_numbers_live_tenant_key on public.tenant_phone_numbers (tenant_id)
  where status <> 'released';
create unique index tenant_phone_numbers_live_e164_key on public.tenant_phone_numbers (e164)
  where status <> 'released';
create unique index tenant_phone_numbers_number_sid_key on public.tenant_phone_numbers (twilio_number_sid)
  where status <> 'released';
create index tenant_twilio_credentials_account_idx on public.tenant_twilio_credentials (account_sid);
create index voicemails_tenant_idx on public.voicemails (tenant_id, created_at desc);
create index voicemails_customer_idx on public.voicemails (customer_id) where customer_id is not null;
create index voicemails_from_idx on public.voicemails (tenant_id, from_phone);
create index voicemails_phone_number_idx on public.voicemails (phone_number_id) where phone_number_id is not null;

-- ============================================================================================ private helpers
create function private.valid_phone_hours(hours jsonb)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select jsonb_typeof(valid_phone_hours.hours) = 'object'
    and not exists (
      select 1 from jsonb_each(valid_phone_hours.hours) d(day, v)
      where d.day not in ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')
         or not (
           jsonb_typeof(d.v) = 'null'
           or (jsonb_typeof(d.v) = 'object'
               and (select count(*) from jsonb_object_keys(d.v)) = 2
               and coalesce(d.v ->> 'open', '') ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
               and coalesce(d.v ->> 'close', '') ~ '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$'
               and (d.v ->> 'open') < (d.v ->> 'close'))));
$$;
comment on function private.valid_phone_hours(jsonb) is
  'Opening hours shape: weekday keys mon..sun, each null (closed) or {"open": "HH:MM", "close": "HH:MM"} with open < close.';

alter table public.tenant_phone_numbers
  add constraint tenant_phone_numbers_hours_check check (private.valid_phone_hours(hours));

-- ============================================================================================ triggers
create trigger set_updated_at before update on public.tenant_phone_numbers
  for each row execute function private.set_updated_at();
create trigger set_updated_at before update on public.voicemails
  for each row execute function private.set_updated_at();

-- Ask telephony-sync to bring the shop's Twilio account in line with its billing status. pg_net queues the request
-- in this transaction (sent only if it commits); the function re-reads tenants.status, so retries, duplicates and
-- reordering are harmless. Without pg_net or the Vault secrets it does nothing (the periodic reconcile catches up).
create function private.telephony_status_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_url text;
  v_key text;
begin
  if (old.status in ('suspended', 'canceled')) = (new.status in ('suspended', 'canceled')) then
    return null;
  end if;
  if not exists (select 1 from public.tenant_phone_numbers n where n.tenant_id = new.id and n.status <> 'released')
     and not exists (select 1 from public.tenant_twilio_credentials c where c.tenant_id = new.id) then
    return null;
  end if;
  if to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)') is null then
    return null;
  end if;
  select decrypted_secret into v_url from vault.decrypted_secrets where name = 'project_url' limit 1;
  select decrypted_secret into v_key from vault.decrypted_secrets where name = 'cron_function_key' limit 1;
  if v_url is null or v_key is null then
    raise warning 'telephony_sync_not_configured: Vault has no project_url / cron_function_key; the reconcile job will catch up';
    return null;
  end if;
  execute $q$select net.http_post(url := $1, body := $2, params := '{}'::jsonb, headers := $3, timeout_milliseconds := 30000)$q$
    using rtrim(v_url, '/') || '/functions/v1/telephony-sync',
          jsonb_build_object('tenant_id', new.id, 'reason', 'tenant_status', 'status', new.status),
          jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || v_key);
  return null;
end;
$$;
comment on function private.telephony_status_changed() is
  'After tenants.status crosses into or out of suspended/canceled: POST telephony-sync {tenant_id} through pg_net.';

create trigger telephony_status_changed after update of status on public.tenants
  for each row execute function private.telephony_status_changed();

-- ============================================================================================ policies
create policy tenant_phone_numbers_select_members on public.tenant_phone_numbers for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids())::uuid[]));
create policy tenant_phone_numbers_update_admins on public.tenant_phone_numbers for update to authenticated
  using (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]) and status <> 'released')
  with check (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]));

create policy voicemails_select_members on public.voicemails for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids())::uuid[]));
create policy voicemails_update_members on public.voicemails for update to authenticated
  using (tenant_id = any ((select private.current_tenant_ids())::uuid[]))
  with check (tenant_id = any ((select private.current_tenant_ids())::uuid[]));

-- ============================================================================================ RPCs
-- Call status callback: voice minutes (rounded up) once per CallSid and direction. Server-only.
create function public.telephony_record_call_usage(
  tenant_id uuid, call_sid text, direction text, duration_seconds integer, occurred_at timestamptz default now()
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_minutes integer;
begin
  if telephony_record_call_usage.call_sid is null or telephony_record_call_usage.call_sid !~ '^CA[0-9a-fA-F]{32}$' then
    raise exception 'invalid_call_sid: CallSid must look like CA + 32 hex digits' using errcode = '22023';
  end if;
  if telephony_record_call_usage.direction not in ('inbound', 'outbound') then
    raise exception 'invalid_direction: direction must be inbound or outbound' using errcode = '22023';
  end if;
  if telephony_record_call_usage.duration_seconds is null or telephony_record_call_usage.duration_seconds < 0 then
    raise exception 'invalid_duration: duration_seconds must be zero or more' using errcode = '22023';
  end if;
  v_minutes := ceil(telephony_record_call_usage.duration_seconds / 60.0)::integer;
  if v_minutes = 0 then
    return false;
  end if;
  return private.record_usage(
    telephony_record_call_usage.tenant_id,
    (case when telephony_record_call_usage.direction = 'inbound' then 'voice_minutes_inbound'
          else 'voice_minutes_outbound' end)::public.usage_metric,
    v_minutes, 'call', telephony_record_call_usage.call_sid, telephony_record_call_usage.occurred_at);
end;
$$;
comment on function public.telephony_record_call_usage(uuid, text, text, integer, timestamptz) is
  'Server-only (twilio-voice status callback): records ceil(duration/60) voice minutes once per (direction, CallSid).';

-- IVR option 2: an SMS sent from the shop's number — one sms_outbound usage event per message SID. Server-only.
create function public.telephony_record_sms_usage(tenant_id uuid, message_sid text, segments integer)
returns boolean
language sql
security definer
set search_path = ''
as $$
  select private.record_usage(telephony_record_sms_usage.tenant_id, 'sms_outbound',
    greatest(coalesce(telephony_record_sms_usage.segments, 1), 1), 'ivr_sms', telephony_record_sms_usage.message_sid);
$$;
comment on function public.telephony_record_sms_usage(uuid, text, integer) is
  'Server-only (twilio-voice IVR option 2): one sms_outbound usage event per Twilio message SID.';

-- Is this caller opted out of texts from the shop? (private.is_opted_out for the server.)
create function public.telephony_is_opted_out(tenant_id uuid, phone text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select private.is_opted_out(telephony_is_opted_out.tenant_id, telephony_is_opted_out.phone);
$$;
comment on function public.telephony_is_opted_out(uuid, text) is 'Server-only: private.is_opted_out for twilio-voice.';

-- The thread integration: a voicemail entry for a call, linked to the caller's customer when the shop knows them.
-- Idempotent per CallSid (Twilio retries the recording callback; the transcription arrives separately).
create function public.telephony_record_voicemail(
  tenant_id uuid, phone_number_id uuid, call_sid text, from_phone text, recording_sid text, recording_url text,
  duration_seconds integer
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
  v_customer uuid;
begin
  select c.id into v_customer from public.customers c
   where c.tenant_id = telephony_record_voicemail.tenant_id and c.phone = telephony_record_voicemail.from_phone;
  insert into public.voicemails as v (tenant_id, customer_id, phone_number_id, call_sid, from_phone, recording_sid,
                                      recording_url, duration_seconds)
  values (telephony_record_voicemail.tenant_id, v_customer, telephony_record_voicemail.phone_number_id,
          telephony_record_voicemail.call_sid, telephony_record_voicemail.from_phone,
          telephony_record_voicemail.recording_sid, telephony_record_voicemail.recording_url,
          telephony_record_voicemail.duration_seconds)
  on conflict (call_sid) do update
    set recording_sid = coalesce(excluded.recording_sid, v.recording_sid),
        recording_url = coalesce(excluded.recording_url, v.recording_url),
        duration_seconds = coalesce(excluded.duration_seconds, v.duration_seconds)
    where v.tenant_id = excluded.tenant_id
  returning v.id into v_id;
  if v_id is null then
    raise exception 'call_sid_conflict: that call belongs to another shop' using errcode = '23505';
  end if;
  return v_id;
end;
$$;
comment on function public.telephony_record_voicemail(uuid, uuid, text, text, text, text, integer) is
  'Server-only: the voicemail entry in the caller''s thread (customer by phone when known), once per CallSid.';

create function public.telephony_record_transcription(tenant_id uuid, call_sid text, status text, transcription text)
returns boolean
language sql
security definer
set search_path = ''
as $$
  with u as (
    update public.voicemails v
       set transcription = left(telephony_record_transcription.transcription, 10000),
           transcription_status = case when telephony_record_transcription.status = 'completed' then 'completed' else 'failed' end
     where v.tenant_id = telephony_record_transcription.tenant_id and v.call_sid = telephony_record_transcription.call_sid
    returning 1)
  select exists (select 1 from u);
$$;
comment on function public.telephony_record_transcription(uuid, text, text, text) is
  'Server-only: the transcription of a voicemail (Twilio transcribeCallback).';

-- The messaging engineer's thread view calls this: a customer's (or a phone's) voicemails, newest first, for members.
create function public.customer_voicemails(tenant_id uuid, customer_id uuid default null, phone text default null)
returns setof public.voicemails
language sql
stable
security invoker
set search_path = ''
as $$
  select v.* from public.voicemails v
   where v.tenant_id = customer_voicemails.tenant_id
     and (customer_voicemails.customer_id is null or v.customer_id = customer_voicemails.customer_id)
     and (customer_voicemails.phone is null or v.from_phone = customer_voicemails.phone)
   order by v.created_at desc
   limit 200;
$$;
comment on function public.customer_voicemails(uuid, uuid, text) is
  'Thread integration: voicemails of a shop (optionally one customer / phone), newest first. Runs as the caller '
  '(RLS applies), so members see only their shop''s.';

-- ============================================================================================ grants
grant select on table public.tenant_phone_numbers to authenticated;
grant update (ivr_mode, forward_to, sip_uri, hours, greeting, after_hours_message)
  on table public.tenant_phone_numbers to authenticated;
grant all on table public.tenant_phone_numbers to service_role;
grant all on table public.tenant_twilio_credentials to service_role;
grant select on table public.voicemails to authenticated;
grant update (read_at) on table public.voicemails to authenticated;
grant all on table public.voicemails to service_role;

grant execute on function public.telephony_record_call_usage(uuid, text, text, integer, timestamptz) to service_role;
grant execute on function public.telephony_record_sms_usage(uuid, text, integer) to service_role;
grant execute on function public.telephony_is_opted_out(uuid, text) to service_role;
grant execute on function public.telephony_record_voicemail(uuid, uuid, text, text, text, text, integer) to service_role;
grant execute on function public.telephony_record_transcription(uuid, text, text, text) to service_role;
grant execute on function public.customer_voicemails(uuid, uuid, text) to authenticated, service_role;
