import { useEffect, useMemo, useState } from 'react';
import { Alert, Button, Loading, Page, TextField } from '../../../lib/ui/index.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { UsageChart } from '../../usage/components/UsageChart.tsx';
import { adminApi, type DailyRow } from '../api.ts';
import { cents, filterRows, rate, sortRows, toCsv, type OverviewRow, type SortKey } from '../model.ts';
import { adminStore, useAdmin } from '../store.ts';
import '../admin.css';

const ymd = (d: Date) => d.toISOString().slice(0, 10);
const monthStart = () => { const d = new Date(); return ymd(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1))); };
const monthEnd = () => { const d = new Date(); return ymd(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0))); };
const n = (v: number | null) => v === null ? '—' : new Intl.NumberFormat('en-US').format(v);

const COLUMNS: Array<{ key: SortKey; label: string; show: (r: OverviewRow) => string }> = [
  { key: 'name', label: 'Shop', show: (r) => r.name },
  { key: 'plan', label: 'Plan', show: (r) => r.plan_label },
  { key: 'status', label: 'Status', show: (r) => r.status },
  { key: 'sms_outbound_segments', label: 'SMS', show: (r) => n(r.sms_outbound_segments) },
  { key: 'voice_minutes_outbound', label: 'Voice min', show: (r) => n(r.voice_minutes_inbound + r.voice_minutes_outbound) },
  { key: 'emails_sent', label: 'Emails', show: (r) => n(r.emails_sent) },
  { key: 'ai_requests', label: 'AI', show: (r) => n(r.ai_requests) },
  { key: 'provider_cost_cents', label: 'Cost', show: (r) => cents(r.provider_cost_cents) },
  { key: 'plan_revenue_cents', label: 'Revenue', show: (r) => cents(r.plan_revenue_cents + r.overage_cents) },
  { key: 'margin_cents', label: 'Margin', show: (r) => cents(r.margin_cents) },
  { key: 'opt_out_rate', label: 'Opt-out', show: (r) => rate(r.opt_out_rate) },
  { key: 'carrier_error_rate', label: 'Carrier err', show: (r) => rate(r.carrier_error_rate) },
];

export function AdminPage() {
  const isAdmin = useAdmin((s) => s.isAdmin);
  const [from, setFrom] = useState(monthStart);
  const [to, setTo] = useState(monthEnd);
  const [rows, setRows] = useState<OverviewRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; dir: 'asc' | 'desc' }>({ key: 'sms_outbound_segments', dir: 'desc' });
  const [selected, setSelected] = useState<OverviewRow | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => { void adminStore.getState().check(); }, []);
  const load = () => {
    setError(null);
    adminApi.overview(from, to).then(setRows, (e) => setError(errorMessage(e)));
  };
  useEffect(() => { if (isAdmin) load(); }, [isAdmin, from, to]); // eslint-disable-line react-hooks/exhaustive-deps

  const shown = useMemo(() => sortRows(filterRows(rows ?? [], query), sort.key, sort.dir), [rows, query, sort]);

  if (isAdmin === null) return <Loading label="Checking access…" />;
  if (!isAdmin) {
    return <Page title="Not found" narrow><p>This page does not exist.</p></Page>;
  }

  const download = () => {
    const blob = new Blob([toCsv(shown)], { type: 'text/csv;charset=utf-8' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `servicepro-usage-${from}-to-${to}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };

  return (
    <Page title="Tenants overview" heading="Tenants overview"
      actions={<>
        <Button variant="secondary" onClick={download} disabled={!shown.length}>Download CSV</Button>
        <Button variant="secondary" busy={busy} busyLabel="Aggregating…" onClick={() => {
          setBusy(true);
          adminApi.runAggregation(from, to < ymd(new Date()) ? to : ymd(new Date())).then(load, (e) => setError(errorMessage(e))).finally(() => setBusy(false));
        }}>Run aggregation</Button>
      </>}>
      <div className="filters">
        <TextField label="Filter by name" value={query} onChange={(e) => setQuery(e.target.value)} />
        <TextField label="From (UTC)" type="date" value={from} onChange={(e) => e.target.value && setFrom(e.target.value)} />
        <TextField label="To (UTC)" type="date" value={to} onChange={(e) => e.target.value && setTo(e.target.value)} />
      </div>
      {error ? <Alert>{error}</Alert> : null}
      {!rows && !error ? <Loading label="Loading tenants…" /> : null}
      {rows ? (
        <div className="table-scroll">
          <table className="data-table">
            <thead>
              <tr>{COLUMNS.map((c) => (
                <th key={c.key} aria-sort={sort.key === c.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
                  <button type="button" className="link" onClick={() => setSort((s) => ({ key: c.key, dir: s.key === c.key && s.dir === 'desc' ? 'asc' : 'desc' }))}>
                    {c.label}{sort.key === c.key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                  </button>
                </th>))}
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={r.tenant_id} className={selected?.tenant_id === r.tenant_id ? 'selected' : ''}>
                  {COLUMNS.map((c, i) => (
                    <td key={c.key}>{i === 0 ? <button type="button" className="link" onClick={() => setSelected(r)}>{c.show(r)}</button> : c.show(r)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {!shown.length ? <p>No shops match.</p> : null}
        </div>
      ) : null}
      {selected ? <TenantDrillDown key={selected.tenant_id} row={selected} from={from} to={to} onClose={() => setSelected(null)} /> : null}
    </Page>
  );
}

function TenantDrillDown({ row, from, to, onClose }: { row: OverviewRow; from: string; to: string; onClose: () => void }) {
  const [days, setDays] = useState<DailyRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => { adminApi.tenantDaily(row.tenant_id, from, to).then(setDays, (e) => setError(errorMessage(e))); }, [row.tenant_id, from, to]);
  const chart = useMemo(() => ({
    labels: (days ?? []).map((d) => d.day.slice(5)),
    series: [
      { label: 'SMS segments', values: (days ?? []).map((d) => d.sms_outbound_segments), color: '#2563eb' },
      { label: 'AI requests', values: (days ?? []).map((d) => d.ai_requests), color: '#db2777' },
      { label: 'Voice minutes', values: (days ?? []).map((d) => d.voice_minutes_inbound + d.voice_minutes_outbound), color: '#d97706' },
    ],
  }), [days]);
  return (
    <section className="card" aria-labelledby="drill-title">
      <h2 id="drill-title">{row.name} — daily usage</h2>
      <Button variant="secondary" onClick={onClose}>Close</Button>
      {error ? <Alert>{error}</Alert> : null}
      {days ? <UsageChart labels={chart.labels} series={chart.series} title={`Daily usage of ${row.name}`} /> : !error ? <Loading label="Loading…" /> : null}
    </section>
  );
}
