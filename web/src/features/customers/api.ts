/**
 * Customers calls: the only customers module that talks to Supabase. Reads and edits go straight to the tables
 * (RLS decides); the import goes through the `import_customers` RPC. Throws AppError on failure.
 */
import { supabase } from '../../lib/supabase.ts';
import { AppError, toAppError } from '../../lib/errors.ts';
import { searchTerm, type ConsentEvent, type Customer, type CustomerInput, type Vehicle } from './model.ts';
import type { RpcRow } from './csv.ts';

const COLUMNS = 'id, name, phone, email, vehicles, notes, archived_at, created_at, updated_at';

export interface CustomerRepairOrder {
  id: string;
  status: string;
  ro_number: string | null;
  created_at: string;
  parsed: { vehicle?: string | null } | null;
}

export interface ImportOutcome {
  row: number;
  status: 'created' | 'updated' | 'unchanged' | 'rejected';
  reason?: string;
  customer_id?: string;
  consent?: 'recorded' | 'already_recorded' | 'skipped_opted_out';
}

async function userId(): Promise<string> {
  const { data } = await supabase().auth.getSession();
  const id = data.session?.user.id;
  if (!id) throw new AppError('session_expired', 'Your session has ended. Please sign in again.');
  return id;
}

function asCustomer(r: Record<string, unknown>): Customer {
  return { ...(r as unknown as Customer), vehicles: Array.isArray(r.vehicles) ? (r.vehicles as Vehicle[]) : [] };
}

export const customersApi = {
  async list(tenantId: string, opts: { search?: string; archived?: boolean; limit?: number } = {}): Promise<Customer[]> {
    let q = supabase().from('customers').select(COLUMNS).eq('tenant_id', tenantId);
    q = opts.archived ? q.not('archived_at', 'is', null) : q.is('archived_at', null);
    const { text, digits } = searchTerm(opts.search ?? '');
    if (text) {
      const parts = [`name.ilike.*${text}*`];
      if (digits.length >= 3) parts.push(`phone.like.*${digits}*`);
      q = q.or(parts.join(','));
    }
    const { data, error } = await q.order('name', { ascending: true }).limit(opts.limit ?? 100);
    if (error) throw toAppError(error);
    return (data ?? []).map((r) => asCustomer(r as Record<string, unknown>));
  },

  async get(tenantId: string, id: string): Promise<Customer> {
    const { data, error } = await supabase().from('customers').select(COLUMNS).eq('tenant_id', tenantId).eq('id', id).single();
    if (error) throw toAppError(error);
    return asCustomer(data as Record<string, unknown>);
  },

  async create(tenantId: string, input: CustomerInput): Promise<Customer> {
    const { data, error } = await supabase()
      .from('customers')
      .insert({ tenant_id: tenantId, ...input, created_by: await userId() })
      .select(COLUMNS)
      .single();
    if (error) {
      if (error.code === '23505') throw new AppError('customer_exists', 'A customer with this phone number already exists. Search for them instead.', 409);
      throw toAppError(error);
    }
    return asCustomer(data as Record<string, unknown>);
  },

  async update(tenantId: string, id: string, patch: Partial<CustomerInput> & { vehicles?: Vehicle[] }): Promise<Customer> {
    const { data, error } = await supabase().from('customers').update(patch).eq('tenant_id', tenantId).eq('id', id).select(COLUMNS).single();
    if (error) {
      if (error.code === '23505') throw new AppError('customer_exists', 'Another customer already has this phone number.', 409);
      throw toAppError(error);
    }
    return asCustomer(data as Record<string, unknown>);
  },

  /** Archive (hidden from lists; messages and consent evidence are kept) or restore. */
  async setArchived(tenantId: string, id: string, archived: boolean): Promise<Customer> {
    const { data, error } = await supabase()
      .from('customers')
      .update({ archived_at: archived ? new Date().toISOString() : null })
      .eq('tenant_id', tenantId)
      .eq('id', id)
      .select(COLUMNS)
      .single();
    if (error) throw toAppError(error);
    return asCustomer(data as Record<string, unknown>);
  },

  async repairOrders(tenantId: string, customerId: string): Promise<CustomerRepairOrder[]> {
    const { data, error } = await supabase()
      .from('repair_orders')
      .select('id, status, ro_number, created_at, parsed')
      .eq('tenant_id', tenantId)
      .eq('customer_id', customerId)
      .order('created_at', { ascending: false })
      .limit(100);
    if (error) throw toAppError(error);
    return (data ?? []) as CustomerRepairOrder[];
  },

  /** The consent ledger for this customer: events linked to them, and those for their phone (keyword opt-outs). */
  async consentEvents(tenantId: string, customerId: string, phone: string): Promise<ConsentEvent[]> {
    const { data, error } = await supabase()
      .from('consent_events')
      .select('id, phone, action, source, source_detail, recorded_by, occurred_at, created_at')
      .eq('tenant_id', tenantId)
      .or(`customer_id.eq.${customerId},phone.eq."${phone}"`)
      .order('occurred_at', { ascending: false })
      .limit(1000);
    if (error) throw toAppError(error);
    return (data ?? []) as ConsentEvent[];
  },

  /** Consent a member collected (verbal at the counter, a signed form, a web form) or an opt-out they were told. */
  async recordConsent(tenantId: string, customer: Pick<Customer, 'id' | 'phone'>, action: 'opt_in' | 'opt_out', source: 'signed_ro' | 'verbal' | 'web_form' | 'staff', detail: string | null): Promise<void> {
    const { error } = await supabase().from('consent_events').insert({
      tenant_id: tenantId, customer_id: customer.id, phone: customer.phone, action, source,
      source_detail: detail?.trim() ? detail.trim().slice(0, 500) : null, recorded_by: await userId(),
    });
    if (error) throw toAppError(error);
  },

  /** Every phone the shop already has (to preview which imported rows merge with existing customers). */
  async existingPhones(tenantId: string): Promise<Set<string>> {
    const phones = new Set<string>();
    const page = 1000;
    for (let from = 0; ; from += page) {
      const { data, error } = await supabase().from('customers').select('phone').eq('tenant_id', tenantId).order('id').range(from, from + page - 1);
      if (error) throw toAppError(error);
      for (const r of data ?? []) phones.add((r as { phone: string }).phone);
      if (!data || data.length < page) break;
    }
    return phones;
  },

  async importBatch(tenantId: string, rows: RpcRow[], fileName: string): Promise<ImportOutcome[]> {
    const { data, error } = await supabase().rpc('import_customers', { tenant_id: tenantId, rows, file_name: fileName });
    if (error) throw toAppError(error);
    return (data ?? []) as ImportOutcome[];
  },

  async tenantCountry(tenantId: string): Promise<string | null> {
    const { data, error } = await supabase().from('tenants').select('country').eq('id', tenantId).maybeSingle();
    if (error) throw toAppError(error);
    return (data?.country as string | null | undefined) ?? null;
  },
};
