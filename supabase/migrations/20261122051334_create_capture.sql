-- create_capture: repair-order photos → OCR → reviewed customers, and the customers CSV import.
--   storage bucket `repair-orders`  private; objects at <tenant_id>/<uuid>.jpg; members of that shop only
--   repair_orders                   one row per capture (client_id from the phone, so offline replays give ONE row)
--   begin_repair_order_ocr()        ro-ocr creates/reuses the row BEFORE OCR (status processing), as the caller
--   complete_/fail_repair_order_ocr()  ro-ocr stores the result or the failure (+ usage) — service role only
--   save_repair_order_review()      the technician's reviewed fields: customer upserted by (shop, phone), RO linked
--   import_customers()              CSV rows (normalised by the PWA) upserted in one transaction, idempotent

-- ============================================================================================ tables
-- Same-shop references to customers need (tenant_id, id) to be unique; added once, whichever migration is first.
do $$
begin
  if not exists (
    select 1 from pg_constraint
    where conrelid = 'public.customers'::regclass and contype in ('u', 'p')
      and conkey = array[
        (select attnum from pg_attribute where attrelid = 'public.customers'::regclass and attname = 'tenant_id'),
        (select attnum from pg_attribute where attrelid = 'public.customers'::regclass and attname = 'id')]::int2[]
  ) then
    alter table public.customers add constraint customers_tenant_id_id_key unique (tenant_id, id);
  end if;
end;
$$;

create table public.repair_orders (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  client_id uuid not null,
  photo_path text not null constraint repair_orders_photo_path_check check (char_length(photo_path) between 3 and 300),
  status text not null default 'uploaded'
    constraint repair_orders_status_check check (status in ('uploaded', 'processing', 'needs_review', 'reviewed', 'failed')),
  raw_text text constraint repair_orders_raw_text_check check (char_length(raw_text) <= 50000),
  parsed jsonb constraint repair_orders_parsed_check check (parsed is null or jsonb_typeof(parsed) = 'object'),
  engine text constraint repair_orders_engine_check check (char_length(engine) <= 100),
  error_code text constraint repair_orders_error_code_check check (error_code ~ '^[a-z][a-z0-9_]{0,60}$'),
  error_message text constraint repair_orders_error_message_check check (char_length(error_message) <= 500),
  attempts integer not null default 0 constraint repair_orders_attempts_check check (attempts >= 0),
  customer_id uuid,
  ro_number text constraint repair_orders_ro_number_check check (char_length(ro_number) <= 50),
  reviewed_at timestamptz,
  reviewed_by uuid references auth.users (id) on delete set null,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint repair_orders_tenant_client_key unique (tenant_id, client_id),
  constraint repair_orders_photo_in_tenant_check check (split_part(photo_path, '/', 1) = tenant_id::text),
  -- same-shop reference: a repair order can only point at a customer of its own shop
  constraint repair_orders_customer_fkey foreign key (tenant_id, customer_id)
    references public.customers (tenant_id, id) on delete no action
);
alter table public.repair_orders enable row level security;
comment on table public.repair_orders is
  'Repair orders captured from a photo. Members read them; ro-ocr writes the OCR result through RPCs and '
  'save_repair_order_review() links the customer. client_id is generated on the phone, so an offline capture '
  'replayed any number of times is one row. Only owners/admins delete.';
comment on column public.repair_orders.parsed is
  '{name, phone (E.164), vehicle, vin, ro_number, confidence: {<field>: 0..1}} as OCR read it (before review).';

-- ============================================================================================ indexes
create index repair_orders_tenant_created_idx on public.repair_orders (tenant_id, created_at desc);
create index repair_orders_customer_idx on public.repair_orders (tenant_id, customer_id);
create index repair_orders_created_by_idx on public.repair_orders (created_by);
create index repair_orders_reviewed_by_idx on public.repair_orders (reviewed_by);

-- ============================================================================================ triggers
create trigger forbid_tenant_change before update on public.repair_orders
  for each row execute function private.forbid_tenant_change();
create trigger set_updated_at before update on public.repair_orders
  for each row execute function private.set_updated_at();

-- ============================================================================================ storage
-- The bucket: private (no public URLs, no anonymous listing), 10 MB, photo types only. ro-ocr checks the bytes
-- again by magic number (the declared Content-Type is the client's word).
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('repair-orders', 'repair-orders', false, 10485760,
        array['image/jpeg', 'image/png', 'image/webp', 'image/heic', 'image/heif'])
on conflict (id) do update
  set public = false, file_size_limit = excluded.file_size_limit, allowed_mime_types = excluded.allowed_mime_types;

-- ============================================================================================ private helpers
-- A vehicle list with `label`/`vin` merged in (newest first, deduplicated by VIN, else by label case-insensitively).
create function private.merge_vehicle(vehicles jsonb, label text, vin text)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_label text := nullif(btrim(merge_vehicle.label), '');
  v_vin text := nullif(upper(btrim(merge_vehicle.vin)), '');
  v_list jsonb := coalesce(merge_vehicle.vehicles, '[]'::jsonb);
  v_out jsonb := '[]'::jsonb;
  v_item jsonb;
  v_found boolean := false;
begin
  if v_label is null and v_vin is null then
    return v_list;
  end if;
  for v_item in select value from jsonb_array_elements(v_list) loop
    if not v_found and (
      (v_vin is not null and upper(v_item ->> 'vin') = v_vin)
      or (v_label is not null and lower(v_item ->> 'label') = lower(v_label)
          and (v_vin is null or v_item ->> 'vin' is null))
    ) then
      v_found := true;
      v_item := v_item
        || case when v_vin is not null and v_item ->> 'vin' is null then jsonb_build_object('vin', v_vin) else '{}'::jsonb end
        || case when v_label is not null and coalesce(v_item ->> 'label', '') = '' then jsonb_build_object('label', v_label) else '{}'::jsonb end;
    end if;
    v_out := v_out || jsonb_build_array(v_item);
  end loop;
  if v_found then
    return v_out;
  end if;
  v_item := jsonb_build_object('label', coalesce(v_label, v_vin));
  if v_vin is not null then
    v_item := v_item || jsonb_build_object('vin', v_vin);
  end if;
  v_out := jsonb_build_array(v_item) || v_list;
  if jsonb_array_length(v_out) > 100 then
    v_out := (select jsonb_agg(e order by i) from jsonb_array_elements(v_out) with ordinality as t (e, i) where i <= 100);
  end if;
  return v_out;
end;
$$;
comment on function private.merge_vehicle(jsonb, text, text) is
  'Vehicle/device list with one more entry: deduplicated by VIN, else by label (case-insensitive); newest first.';


-- AI calls an OCR attempt made, for the usage ledger (idempotent per attempt).
create function private.record_ocr_ai_requests(tenant_id uuid, repair_order_id uuid, n integer, attempt_id text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if record_ocr_ai_requests.n is null or record_ocr_ai_requests.n <= 0 then
    return;
  end if;
  if private.record_usage(record_ocr_ai_requests.tenant_id, 'ai_requests', least(record_ocr_ai_requests.n, 20),
                          'repair_order_ocr',
                          record_ocr_ai_requests.repair_order_id::text || '/'
                            || coalesce(nullif(left(record_ocr_ai_requests.attempt_id, 80), ''), gen_random_uuid()::text)) then
    perform private.consume_quota(record_ocr_ai_requests.tenant_id, 'ai_requests', least(record_ocr_ai_requests.n, 20), true);
  end if;
end;
$$;
comment on function private.record_ocr_ai_requests(uuid, uuid, integer, text) is
  'Usage ledger + quota counter for the AI calls of one OCR attempt (source repair_order_ocr, <ro id>/<attempt>).';

-- ============================================================================================ policies
create policy repair_orders_select_members on public.repair_orders for select to authenticated
  using (tenant_id = any ((select private.current_tenant_ids())::uuid[]));
create policy repair_orders_delete_admins on public.repair_orders for delete to authenticated
  using (tenant_id = any ((select private.current_tenant_ids('admin'))::uuid[]));

-- Storage: members of the shop named by the first path segment, per command. The segment is compared as text so
-- a non-uuid first segment is simply "not yours" (no cast error). Deleting photos is for owners/admins.
create policy repair_orders_objects_select_members on storage.objects for select to authenticated
  using (bucket_id = 'repair-orders'
         and (storage.foldername(name))[1] = any ((select private.current_tenant_ids())::text[]));
create policy repair_orders_objects_insert_members on storage.objects for insert to authenticated
  with check (bucket_id = 'repair-orders'
              and (storage.foldername(name))[1] = any ((select private.current_tenant_ids())::text[]));
create policy repair_orders_objects_update_members on storage.objects for update to authenticated
  using (bucket_id = 'repair-orders'
         and (storage.foldername(name))[1] = any ((select private.current_tenant_ids())::text[]))
  with check (bucket_id = 'repair-orders'
              and (storage.foldername(name))[1] = any ((select private.current_tenant_ids())::text[]));
create policy repair_orders_objects_delete_admins on storage.objects for delete to authenticated
  using (bucket_id = 'repair-orders'
         and (storage.foldername(name))[1] = any ((select private.current_tenant_ids('admin'))::text[]));

-- ============================================================================================ RPCs
-- ro-ocr, as the caller (their JWT): create the row for this capture, or reuse it (same client_id). A row that
-- already holds a result (needs_review / reviewed) is returned untouched so a replayed request is harmless.
create function public.begin_repair_order_ocr(tenant_id uuid, client_id uuid, photo_path text)
returns public.repair_orders
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row public.repair_orders;
begin
  if not private.has_tenant_role(begin_repair_order_ocr.tenant_id, 'technician') then
    raise exception 'not_a_member: you are not a member of this shop' using errcode = '42501';
  end if;
  if begin_repair_order_ocr.client_id is null then
    raise exception 'invalid_argument: client_id is required' using errcode = '22023';
  end if;
  if begin_repair_order_ocr.photo_path is null
     or split_part(begin_repair_order_ocr.photo_path, '/', 1) <> begin_repair_order_ocr.tenant_id::text
     or char_length(begin_repair_order_ocr.photo_path) > 300 then
    raise exception 'path_outside_tenant: the photo must be inside the shop''s folder' using errcode = '42501';
  end if;

  insert into public.repair_orders as r (tenant_id, client_id, photo_path, status, created_by)
  values (begin_repair_order_ocr.tenant_id, begin_repair_order_ocr.client_id, begin_repair_order_ocr.photo_path,
          'processing', auth.uid())
  on conflict on constraint repair_orders_tenant_client_key do nothing
  returning * into v_row;
  if found then
    return v_row;
  end if;

  select * into v_row from public.repair_orders r
  where r.tenant_id = begin_repair_order_ocr.tenant_id and r.client_id = begin_repair_order_ocr.client_id
  for update;
  if v_row.photo_path <> begin_repair_order_ocr.photo_path then
    raise exception 'client_id_conflict: this capture id already belongs to another photo' using errcode = '23505';
  end if;
  if v_row.status in ('needs_review', 'reviewed') then
    return v_row;
  end if;
  update public.repair_orders r
     set status = 'processing', error_code = null, error_message = null
   where r.id = v_row.id
  returning * into v_row;
  return v_row;
end;
$$;
comment on function public.begin_repair_order_ocr(uuid, uuid, text) is
  'ro-ocr: the capture''s row by (shop, client_id), created or reused, status processing (unless it already holds '
  'a result). Members of the shop only.';

-- ro-ocr (service role, after checking the caller): the OCR result and its usage, in one transaction.
create function public.complete_repair_order_ocr(
  repair_order_id uuid, raw_text text, parsed jsonb, engine text, ai_requests integer default 0,
  attempt_id text default null
)
returns public.repair_orders
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row public.repair_orders;
begin
  update public.repair_orders r
     set status = 'needs_review',
         raw_text = left(complete_repair_order_ocr.raw_text, 50000),
         parsed = complete_repair_order_ocr.parsed,
         engine = complete_repair_order_ocr.engine,
         ro_number = coalesce(r.ro_number, left(complete_repair_order_ocr.parsed ->> 'ro_number', 50)),
         error_code = null, error_message = null,
         attempts = r.attempts + 1
   where r.id = complete_repair_order_ocr.repair_order_id and r.status in ('uploaded', 'processing', 'failed')
  returning * into v_row;
  if not found then
    select * into v_row from public.repair_orders r where r.id = complete_repair_order_ocr.repair_order_id;
    if not found then
      raise exception 'repair_order_not_found: no such repair order' using errcode = 'P0001';
    end if;
    return v_row; -- already reviewed (or completed by a concurrent call): keep what is there
  end if;
  -- One OCR page per repair order, however often it is retried; AI calls per attempt.
  if private.record_usage(v_row.tenant_id, 'ocr_pages', 1, 'repair_order', v_row.id::text) then
    perform private.consume_quota(v_row.tenant_id, 'ocr_pages', 1, true);
  end if;
  perform private.record_ocr_ai_requests(v_row.tenant_id, v_row.id, complete_repair_order_ocr.ai_requests,
                                              complete_repair_order_ocr.attempt_id);
  return v_row;
end;
$$;
comment on function public.complete_repair_order_ocr(uuid, text, jsonb, text, integer, text) is
  'ro-ocr (service role only, after it checked the caller): store the OCR result (needs_review) and record usage '
  '(ocr_pages once per repair order, ai_requests per attempt) in the same transaction.';

-- ro-ocr (service role): the attempt failed; the row (and the photo) stay for a retry with the same client_id.
create function public.fail_repair_order_ocr(
  repair_order_id uuid, error_code text, error_message text, ai_requests integer default 0, attempt_id text default null
)
returns public.repair_orders
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row public.repair_orders;
begin
  if fail_repair_order_ocr.error_code is null or fail_repair_order_ocr.error_code !~ '^[a-z][a-z0-9_]{0,60}$' then
    raise exception 'invalid_argument: error_code must be a snake_case code' using errcode = '22023';
  end if;
  update public.repair_orders r
     set status = 'failed', error_code = fail_repair_order_ocr.error_code,
         error_message = left(fail_repair_order_ocr.error_message, 500), attempts = r.attempts + 1
   where r.id = fail_repair_order_ocr.repair_order_id and r.status in ('uploaded', 'processing', 'failed')
  returning * into v_row;
  if not found then
    select * into v_row from public.repair_orders r where r.id = fail_repair_order_ocr.repair_order_id;
    if not found then
      raise exception 'repair_order_not_found: no such repair order' using errcode = 'P0001';
    end if;
    return v_row;
  end if;
  perform private.record_ocr_ai_requests(v_row.tenant_id, v_row.id, fail_repair_order_ocr.ai_requests,
                                         fail_repair_order_ocr.attempt_id);
  return v_row;
end;
$$;
comment on function public.fail_repair_order_ocr(uuid, text, text, integer, text) is
  'ro-ocr (service role only): mark the attempt failed with its code; photo and row stay for a retry.';

-- The technician's reviewed fields, atomically: the customer upserted by (shop, phone) — an existing one is reused,
-- un-archived and its vehicle list extended (deduplicated) —, the repair order linked and marked reviewed, and
-- consent recorded (signed RO / verbal) when given. Saving the same review again changes nothing.
create function public.save_repair_order_review(
  tenant_id uuid, repair_order_id uuid, name text, phone text, vehicle text default null, vin text default null,
  ro_number text default null, consent_source public.consent_source default null
)
returns json
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ro public.repair_orders;
  v_name text := btrim(regexp_replace(coalesce(save_repair_order_review.name, ''), '\s+', ' ', 'g'));
  v_phone text := btrim(coalesce(save_repair_order_review.phone, ''));
  v_vehicle text := nullif(btrim(regexp_replace(coalesce(save_repair_order_review.vehicle, ''), '\s+', ' ', 'g')), '');
  v_vin text := nullif(upper(btrim(coalesce(save_repair_order_review.vin, ''))), '');
  v_ro_number text := nullif(btrim(coalesce(save_repair_order_review.ro_number, '')), '');
  v_customer public.customers;
  v_created boolean := false;
  v_detail text;
begin
  if not private.has_tenant_role(save_repair_order_review.tenant_id, 'technician') then
    raise exception 'not_a_member: you are not a member of this shop' using errcode = '42501';
  end if;
  if char_length(v_name) not between 1 and 200 then
    raise exception 'invalid_name: the customer''s name is required (at most 200 characters)' using errcode = '22023';
  end if;
  if v_phone !~ '^\+[1-9][0-9]{6,14}$' then
    raise exception 'invalid_phone: the phone must be in international format, e.g. +15551234567' using errcode = '22023';
  end if;
  if v_vin is not null and v_vin !~ '^[A-HJ-NPR-Z0-9]{17}$' then
    raise exception 'invalid_vin: a VIN has 17 letters and digits (no I, O or Q)' using errcode = '22023';
  end if;
  if char_length(v_vehicle) > 200 or char_length(v_ro_number) > 50 then
    raise exception 'invalid_argument: vehicle (200) or RO number (50) is too long' using errcode = '22023';
  end if;
  if save_repair_order_review.consent_source is not null
     and save_repair_order_review.consent_source not in ('signed_ro', 'verbal') then
    raise exception 'invalid_consent_source: consent at review is signed_ro or verbal' using errcode = '22023';
  end if;

  select * into v_ro from public.repair_orders r
  where r.id = save_repair_order_review.repair_order_id and r.tenant_id = save_repair_order_review.tenant_id
  for update;
  if not found then
    raise exception 'repair_order_not_found: no such repair order in this shop' using errcode = 'P0001';
  end if;

  insert into public.customers as c (tenant_id, name, phone, vehicles, created_by)
  values (save_repair_order_review.tenant_id, v_name, v_phone,
          private.merge_vehicle('[]'::jsonb, v_vehicle, v_vin), auth.uid())
  on conflict on constraint customers_tenant_phone_key do nothing
  returning * into v_customer;
  if found then
    v_created := true;
  else
    select * into v_customer from public.customers c
    where c.tenant_id = save_repair_order_review.tenant_id and c.phone = v_phone
    for update;
    if private.merge_vehicle(v_customer.vehicles, v_vehicle, v_vin) is distinct from v_customer.vehicles
       or v_customer.archived_at is not null then
      update public.customers c
         set vehicles = private.merge_vehicle(c.vehicles, v_vehicle, v_vin), archived_at = null
       where c.id = v_customer.id
      returning * into v_customer;
    end if;
  end if;

  update public.repair_orders r
     set customer_id = v_customer.id, ro_number = v_ro_number, status = 'reviewed',
         reviewed_at = coalesce(r.reviewed_at, now()), reviewed_by = coalesce(r.reviewed_by, auth.uid())
   where r.id = v_ro.id
     and (r.customer_id is distinct from v_customer.id or r.ro_number is distinct from v_ro_number
          or r.status <> 'reviewed');

  if save_repair_order_review.consent_source is not null then
    v_detail := 'repair order ' || coalesce(v_ro_number, v_ro.id::text);
    if not exists (
      select 1 from public.consent_events e
      where e.tenant_id = save_repair_order_review.tenant_id and e.phone = v_phone and e.action = 'opt_in'
        and e.source = save_repair_order_review.consent_source and e.source_detail = v_detail
    ) then
      insert into public.consent_events (tenant_id, customer_id, phone, action, source, source_detail, recorded_by)
      values (save_repair_order_review.tenant_id, v_customer.id, v_phone, 'opt_in',
              save_repair_order_review.consent_source, v_detail, auth.uid());
    end if;
  end if;

  return json_build_object('repair_order_id', v_ro.id, 'customer_id', v_customer.id, 'customer_created', v_created,
                           'vehicles', v_customer.vehicles);
end;
$$;
comment on function public.save_repair_order_review(uuid, uuid, text, text, text, text, text, public.consent_source) is
  'Review → customer upserted by (shop, phone) with its vehicle list extended, repair order linked (reviewed), '
  'consent recorded when given. Members of the shop only; idempotent.';

-- The CSV import: rows already parsed and normalised by the PWA ([{row, name, phone, email?, vehicle?, vin?, notes?,
-- consent?}]); each is checked again here. One transaction per call (the PWA sends chunks of ≤ 1000 rows). Existing
-- customers (same phone) keep their name; a missing email/notes is filled and the vehicle added. Consent rows are
-- recorded once per (phone, file name) and never over a later opt-out. Returns one outcome per input row:
-- [{row, status: created|updated|unchanged|rejected, reason?, customer_id?, consent?}].
create function public.import_customers(tenant_id uuid, rows jsonb, file_name text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_file text := btrim(coalesce(import_customers.file_name, ''));
  v_item jsonb;
  v_idx integer := 0;
  v_rownum integer;
  v_name text;
  v_phone text;
  v_email text;
  v_vehicle text;
  v_vin text;
  v_notes text;
  v_consent boolean;
  v_customer public.customers;
  v_merged jsonb;
  v_status text;
  v_consent_status text;
  v_detail text;
  v_out jsonb := '[]'::jsonb;
begin
  if not private.has_tenant_role(import_customers.tenant_id, 'technician') then
    raise exception 'not_a_member: you are not a member of this shop' using errcode = '42501';
  end if;
  if import_customers.rows is null or jsonb_typeof(import_customers.rows) <> 'array' then
    raise exception 'invalid_argument: rows must be a JSON array' using errcode = '22023';
  end if;
  if jsonb_array_length(import_customers.rows) > 1000 then
    raise exception 'too_many_rows: send at most 1000 rows per call' using errcode = '22023';
  end if;
  if char_length(v_file) not between 1 and 200 then
    raise exception 'invalid_argument: file_name is required (at most 200 characters)' using errcode = '22023';
  end if;
  v_detail := 'csv import: ' || v_file;

  for v_item in select value from jsonb_array_elements(import_customers.rows) loop
    v_idx := v_idx + 1;
    v_rownum := case when jsonb_typeof(v_item -> 'row') = 'number' then (v_item ->> 'row')::integer else v_idx end;
    if jsonb_typeof(v_item) <> 'object' then
      v_out := v_out || jsonb_build_array(jsonb_build_object('row', v_rownum, 'status', 'rejected', 'reason', 'not_an_object'));
      continue;
    end if;
    v_name := btrim(regexp_replace(coalesce(v_item ->> 'name', ''), '\s+', ' ', 'g'));
    v_phone := btrim(coalesce(v_item ->> 'phone', ''));
    v_email := nullif(lower(btrim(coalesce(v_item ->> 'email', ''))), '');
    v_vehicle := nullif(btrim(regexp_replace(coalesce(v_item ->> 'vehicle', ''), '\s+', ' ', 'g')), '');
    v_vin := nullif(upper(btrim(coalesce(v_item ->> 'vin', ''))), '');
    v_notes := nullif(btrim(coalesce(v_item ->> 'notes', '')), '');
    v_consent := coalesce((v_item ->> 'consent')::boolean, false);
    if char_length(v_name) not between 1 and 200 then
      v_out := v_out || jsonb_build_array(jsonb_build_object('row', v_rownum, 'status', 'rejected', 'reason', 'invalid_name'));
      continue;
    end if;
    if v_phone !~ '^\+[1-9][0-9]{6,14}$' then
      v_out := v_out || jsonb_build_array(jsonb_build_object('row', v_rownum, 'status', 'rejected', 'reason', 'invalid_phone'));
      continue;
    end if;
    if v_email is not null and v_email !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$' then
      v_out := v_out || jsonb_build_array(jsonb_build_object('row', v_rownum, 'status', 'rejected', 'reason', 'invalid_email'));
      continue;
    end if;
    if v_vin is not null and v_vin !~ '^[A-HJ-NPR-Z0-9]{17}$' then
      v_out := v_out || jsonb_build_array(jsonb_build_object('row', v_rownum, 'status', 'rejected', 'reason', 'invalid_vin'));
      continue;
    end if;
    if char_length(v_vehicle) > 200 or char_length(v_notes) > 5000 then
      v_out := v_out || jsonb_build_array(jsonb_build_object('row', v_rownum, 'status', 'rejected', 'reason', 'too_long'));
      continue;
    end if;

    insert into public.customers as c (tenant_id, name, phone, email, vehicles, notes, created_by)
    values (import_customers.tenant_id, v_name, v_phone, v_email,
            private.merge_vehicle('[]'::jsonb, v_vehicle, v_vin), v_notes, auth.uid())
    on conflict on constraint customers_tenant_phone_key do nothing
    returning * into v_customer;
    if found then
      v_status := 'created';
    else
      select * into v_customer from public.customers c
      where c.tenant_id = import_customers.tenant_id and c.phone = v_phone
      for update;
      v_merged := private.merge_vehicle(v_customer.vehicles, v_vehicle, v_vin);
      if v_merged is distinct from v_customer.vehicles
         or (v_customer.email is null and v_email is not null)
         or (v_customer.notes is null and v_notes is not null) then
        update public.customers c
           set vehicles = v_merged, email = coalesce(c.email, v_email), notes = coalesce(c.notes, v_notes)
         where c.id = v_customer.id
        returning * into v_customer;
        v_status := 'updated';
      else
        v_status := 'unchanged';
      end if;
    end if;

    v_consent_status := null;
    if v_consent then
      if private.is_opted_out(import_customers.tenant_id, v_phone) then
        v_consent_status := 'skipped_opted_out';
      elsif exists (
        select 1 from public.consent_events e
        where e.tenant_id = import_customers.tenant_id and e.phone = v_phone and e.action = 'opt_in'
          and e.source = 'csv_import' and e.source_detail = v_detail
      ) then
        v_consent_status := 'already_recorded';
      else
        insert into public.consent_events (tenant_id, customer_id, phone, action, source, source_detail, recorded_by)
        values (import_customers.tenant_id, v_customer.id, v_phone, 'opt_in', 'csv_import', v_detail, auth.uid());
        v_consent_status := 'recorded';
      end if;
    end if;
    v_out := v_out || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
      'row', v_rownum, 'status', v_status, 'customer_id', v_customer.id, 'consent', v_consent_status)));
  end loop;
  return v_out;
end;
$$;
comment on function public.import_customers(uuid, jsonb, text) is
  'CSV import: upsert customers by (shop, phone) in one transaction, consent from the file recorded once per '
  '(phone, file); a per-row outcome, rejected rows with their reason. Members of the shop only; idempotent.';

-- ============================================================================================ grants
revoke all on table public.repair_orders from anon, authenticated;
grant select, delete on table public.repair_orders to authenticated;
grant all on table public.repair_orders to service_role;

revoke all on function public.begin_repair_order_ocr(uuid, uuid, text) from public, anon;
revoke all on function public.complete_repair_order_ocr(uuid, text, jsonb, text, integer, text) from public, anon, authenticated;
revoke all on function public.fail_repair_order_ocr(uuid, text, text, integer, text) from public, anon, authenticated;
revoke all on function public.save_repair_order_review(uuid, uuid, text, text, text, text, text, public.consent_source) from public, anon;
revoke all on function public.import_customers(uuid, jsonb, text) from public, anon;
grant execute on function public.begin_repair_order_ocr(uuid, uuid, text) to authenticated, service_role;
grant execute on function public.complete_repair_order_ocr(uuid, text, jsonb, text, integer, text) to service_role;
grant execute on function public.fail_repair_order_ocr(uuid, text, text, integer, text) to service_role;
grant execute on function public.save_repair_order_review(uuid, uuid, text, text, text, text, text, public.consent_source)
  to authenticated, service_role;
grant execute on function public.import_customers(uuid, jsonb, text) to authenticated, service_role;
