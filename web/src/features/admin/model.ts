/** The operator overview's rows, sorting, filtering and CSV (pure, unit-tested). */

export interface OverviewRow {
  tenant_id: string;
  name: string;
  plan: string;
  plan_label: string;
  status: string;
  overage_policy: string;
  sms_outbound_segments: number;
  sms_inbound: number;
  mms_outbound: number;
  voice_minutes_inbound: number;
  voice_minutes_outbound: number;
  emails_sent: number;
  ai_requests: number;
  ocr_pages: number;
  sms_cap: number;
  provider_cost_cents: number;
  plan_revenue_cents: number;
  overage_cents: number;
  margin_cents: number;
  opt_outs: number;
  opt_out_rate: number | null;
  carrier_sent: number | null;
  carrier_failed: number | null;
  carrier_error_rate: number | null;
}

const NUMERIC: Array<keyof OverviewRow> = [
  'sms_outbound_segments', 'sms_inbound', 'mms_outbound', 'voice_minutes_inbound', 'voice_minutes_outbound',
  'emails_sent', 'ai_requests', 'ocr_pages', 'sms_cap', 'provider_cost_cents', 'plan_revenue_cents',
  'overage_cents', 'margin_cents', 'opt_outs', 'opt_out_rate', 'carrier_sent', 'carrier_failed', 'carrier_error_rate',
];

/** PostgREST returns bigint/numeric as numbers or strings depending on size: normalise to numbers (null stays). */
export function parseOverview(data: unknown): OverviewRow[] {
  if (!Array.isArray(data)) throw new Error('The overview came back in an unexpected shape.');
  return data.map((r) => {
    const row = { ...(r as Record<string, unknown>) };
    for (const k of NUMERIC) row[k] = row[k] === null || row[k] === undefined ? null : Number(row[k]);
    return row as unknown as OverviewRow;
  });
}

export type SortKey = keyof OverviewRow;

export function sortRows(rows: OverviewRow[], key: SortKey, dir: 'asc' | 'desc'): OverviewRow[] {
  const sign = dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === y) return a.name.localeCompare(b.name);
    if (x === null || x === undefined) return 1; // nulls last either way
    if (y === null || y === undefined) return -1;
    return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * sign;
  });
}

export function filterRows(rows: OverviewRow[], query: string): OverviewRow[] {
  const q = query.trim().toLowerCase();
  return q ? rows.filter((r) => r.name.toLowerCase().includes(q)) : rows;
}

export const CSV_COLUMNS: Array<[keyof OverviewRow, string]> = [
  ['tenant_id', 'Tenant ID'], ['name', 'Shop'], ['plan', 'Plan'], ['status', 'Status'],
  ['sms_outbound_segments', 'SMS segments'], ['sms_inbound', 'SMS inbound'], ['mms_outbound', 'MMS'],
  ['voice_minutes_inbound', 'Voice min in'], ['voice_minutes_outbound', 'Voice min out'], ['emails_sent', 'Emails'],
  ['ai_requests', 'AI requests'], ['ocr_pages', 'OCR pages'], ['provider_cost_cents', 'Provider cost (cents)'],
  ['plan_revenue_cents', 'Plan revenue (cents)'], ['overage_cents', 'Overage (cents)'], ['margin_cents', 'Margin (cents)'],
  ['opt_outs', 'Opt-outs'], ['opt_out_rate', 'Opt-out rate'], ['carrier_error_rate', 'Carrier error rate'],
];

/** RFC 4180 CSV; cells that a spreadsheet would run as a formula (=,+,-,@) are prefixed with ' (CSV injection). */
export function toCsv(rows: OverviewRow[]): string {
  const cell = (v: unknown) => {
    let s = v === null || v === undefined ? '' : String(v);
    if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [CSV_COLUMNS.map(([, h]) => cell(h)).join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map(([k]) => cell(r[k])).join(','));
  return lines.join('\r\n') + '\r\n';
}

export const cents = (c: number | null) => c === null ? '—' : new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(c / 100);
export const rate = (r: number | null) => r === null ? '—' : `${(r * 100).toFixed(1)}%`;
