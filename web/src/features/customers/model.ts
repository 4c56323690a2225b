/**
 * Pure customer logic: the form's validation (E.164 with the shop's country as default) and the consent ledger as
 * evidence files (CSV / JSON). No DOM, no Supabase.
 */
import Papa from 'papaparse';
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

export interface Vehicle { label: string; vin?: string }

export interface Customer {
  id: string;
  name: string;
  phone: string;
  email: string | null;
  vehicles: Vehicle[];
  notes: string | null;
  archived_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ConsentEvent {
  id: string;
  phone: string;
  action: 'opt_in' | 'opt_out';
  source: string;
  source_detail: string | null;
  recorded_by: string | null;
  occurred_at: string;
  created_at: string;
}

export const SOURCE_LABELS: Record<string, string> = {
  signed_ro: 'Signed repair order',
  verbal: 'Verbal, at the counter',
  web_form: 'Web form',
  keyword: 'Text keyword reply',
  csv_import: 'CSV import',
  carrier: 'Carrier report',
  staff: 'Recorded by staff',
};

export interface CustomerDraft { name: string; phone: string; email: string; notes: string }
export interface CustomerInput { name: string; phone: string; email: string | null; notes: string | null }

const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function validateCustomer(d: CustomerDraft, defaultCountry: string | null): { input: CustomerInput | null; errors: Partial<Record<keyof CustomerDraft, string>> } {
  const errors: Partial<Record<keyof CustomerDraft, string>> = {};
  const name = d.name.trim().replace(/\s+/g, ' ');
  if (!name) errors.name = 'Enter the customer’s name.';
  else if (name.length > 200) errors.name = 'At most 200 characters.';
  const p = parsePhoneNumberFromString(d.phone.trim(), ((defaultCountry || 'US').toUpperCase()) as CountryCode);
  if (!d.phone.trim()) errors.phone = 'Enter a mobile number.';
  else if (!p || !p.isValid()) errors.phone = 'This is not a valid phone number. Include the area code.';
  const email = d.email.trim().toLowerCase();
  if (email && !EMAIL_RE.test(email)) errors.email = 'Enter a valid email address, or leave it empty.';
  const notes = d.notes.trim();
  if (notes.length > 5000) errors.notes = 'At most 5,000 characters.';
  if (Object.keys(errors).length) return { input: null, errors };
  return { input: { name, phone: p!.number, email: email || null, notes: notes || null }, errors };
}

/** Consent state now: the latest event decides (as the server's is_opted_out does). */
export function currentConsent(events: ConsentEvent[]): 'opted_in' | 'opted_out' | 'unknown' {
  const latest = [...events].sort((a, b) => (b.occurred_at.localeCompare(a.occurred_at)) || b.created_at.localeCompare(a.created_at))[0];
  return latest ? (latest.action === 'opt_in' ? 'opted_in' : 'opted_out') : 'unknown';
}

/** The ledger as evidence: every event, oldest first, with the customer it concerns. */
export function ledgerEvidence(customer: Pick<Customer, 'id' | 'name' | 'phone'>, events: ConsentEvent[], exportedAt = new Date()) {
  const sorted = [...events].sort((a, b) => a.occurred_at.localeCompare(b.occurred_at) || a.created_at.localeCompare(b.created_at));
  return {
    customer: { id: customer.id, name: customer.name, phone: customer.phone },
    exported_at: exportedAt.toISOString(),
    current: currentConsent(events),
    events: sorted.map((e) => ({
      id: e.id, occurred_at: e.occurred_at, recorded_at: e.created_at, phone: e.phone, action: e.action,
      source: e.source, source_detail: e.source_detail, recorded_by: e.recorded_by,
    })),
  };
}

export function ledgerCsv(customer: Pick<Customer, 'id' | 'name' | 'phone'>, events: ConsentEvent[]): string {
  const ev = ledgerEvidence(customer, events);
  return Papa.unparse({
    fields: ['occurred_at', 'recorded_at', 'customer_id', 'customer_name', 'phone', 'action', 'source', 'source_detail', 'recorded_by', 'event_id'],
    data: ev.events.map((e) => [e.occurred_at, e.recorded_at, customer.id, customer.name, e.phone, e.action, e.source, e.source_detail ?? '', e.recorded_by ?? '', e.id]),
  });
}

/** Safe-ish text for a PostgREST `or=(…)` filter: drops the characters that structure it. */
export function searchTerm(raw: string): { text: string; digits: string } {
  const text = raw.replace(/[,()*%\\:"']/g, ' ').trim().replace(/\s+/g, ' ').slice(0, 100);
  const digits = raw.replace(/\D/g, '').slice(0, 15);
  return { text, digits };
}
