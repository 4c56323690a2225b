/** The consent ledger as evidence (CSV/JSON export) and the customer form's validation. */
import { describe, expect, it } from 'vitest';
import Papa from 'papaparse';
import { currentConsent, ledgerCsv, ledgerEvidence, searchTerm, validateCustomer, type ConsentEvent } from '../../web/src/features/customers/model.ts';

const customer = { id: 'c-1', name: 'Silva, "Vic"', phone: '+13124542945' };
const ev = (id: string, action: 'opt_in' | 'opt_out', source: string, at: string, detail: string | null = null): ConsentEvent => ({
  id, phone: customer.phone, action, source, source_detail: detail, recorded_by: 'u-1', occurred_at: at, created_at: at,
});
const events = [
  ev('e2', 'opt_out', 'keyword', '2026-03-02T10:00:00Z', 'STOP'),
  ev('e1', 'opt_in', 'csv_import', '2026-01-05T09:00:00Z', 'csv import: old, list.csv'),
  ev('e3', 'opt_in', 'verbal', '2026-04-01T15:30:00Z'),
];

describe('consent ledger export', () => {
  it('the latest event decides the current state', () => {
    expect(currentConsent(events)).toBe('opted_in');
    expect(currentConsent(events.slice(0, 2))).toBe('opted_out');
    expect(currentConsent([])).toBe('unknown');
  });
  it('JSON evidence lists every event oldest first with who recorded it', () => {
    const j = ledgerEvidence(customer, events, new Date('2026-05-01T00:00:00Z'));
    expect(j.exported_at).toBe('2026-05-01T00:00:00.000Z');
    expect(j.events.map((e) => [e.id, e.action, e.source])).toEqual([['e1', 'opt_in', 'csv_import'], ['e2', 'opt_out', 'keyword'], ['e3', 'opt_in', 'verbal']]);
    expect(j.events[0]).toMatchObject({ recorded_by: 'u-1', source_detail: 'csv import: old, list.csv' });
  });
  it('CSV evidence round-trips through a CSV reader (quotes and commas escaped)', () => {
    const rows = Papa.parse<string[]>(ledgerCsv(customer, events), { skipEmptyLines: true }).data;
    expect(rows[0]).toEqual(['occurred_at', 'recorded_at', 'customer_id', 'customer_name', 'phone', 'action', 'source', 'source_detail', 'recorded_by', 'event_id']);
    expect(rows).toHaveLength(4);
    expect(rows[1]).toEqual(['2026-01-05T09:00:00Z', '2026-01-05T09:00:00Z', 'c-1', 'Silva, "Vic"', '+13124542945', 'opt_in', 'csv_import', 'csv import: old, list.csv', 'u-1', 'e1']);
  });
});

describe('customer form', () => {
  it('normalises the phone with the shop country and lower-cases the email', () => {
    expect(validateCustomer({ name: ' Ana  Lopez ', phone: '(602) 555-0101', email: 'ANA@EX.COM', notes: '' }, 'US').input)
      .toEqual({ name: 'Ana Lopez', phone: '+16025550101', email: 'ana@ex.com', notes: null });
    const bad = validateCustomer({ name: '', phone: '12', email: 'x', notes: '' }, 'US');
    expect(Object.keys(bad.errors).sort()).toEqual(['email', 'name', 'phone']);
  });
  it('search terms cannot inject PostgREST filter syntax', () => {
    expect(searchTerm('a,b)or(id.eq.1')).toEqual({ text: 'a b or id.eq.1', digits: '1' });
    expect(searchTerm('(312) 454')).toEqual({ text: '312 454', digits: '312454' });
  });
});
