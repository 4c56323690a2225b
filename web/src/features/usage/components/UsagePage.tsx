import { useEffect, useMemo, useState } from 'react';
import { Alert, Button, ButtonLink, Loading, Page } from '../../../lib/ui/index.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { selectActiveTenant, useTenancy } from '../../tenancy/store.ts';
import { usageApi } from '../api.ts';
import { formatMoney, formatNumber, formatPeriod, usageCards, type UsageCard } from '../model.ts';
import { limitsStore, summaryStore, useSummary } from '../store.ts';
import { UsageChart } from './UsageChart.tsx';
import '../usage.css';

const LIMIT_NAMES: Record<string, string> = {
  sms_segments: 'SMS', mms: 'picture messages', voice_minutes: 'voice minutes', emails: 'emails',
  ai_requests: 'AI requests', ocr_pages: 'repair-order scans',
};

function Card({ c }: { c: UsageCard }) {
  const tone = c.percent === null ? '' : c.percent >= 100 ? 'over' : c.percent >= 80 ? 'warn' : '';
  return (
    <article className={`card usage-card ${tone}`} aria-labelledby={`card-${c.key}`}>
      <h2 id={`card-${c.key}`}>{c.title}</h2>
      <p className="usage-figure">
        <strong>{formatNumber(c.used)}</strong>
        {c.cap !== null ? <> / {formatNumber(c.cap)}</> : null} <span>{c.unit}</span>
      </p>
      {c.cap !== null ? (
        <progress max={Math.max(c.cap, 1)} value={Math.min(c.used, c.cap)} aria-label={`${c.title}: ${c.percent ?? 0}% of the plan`} />
      ) : null}
      {c.detail ? <p className="muted">{c.detail}</p> : null}
      {c.forecast && c.cap !== null ? (
        <p className={c.forecast.willExceed ? 'usage-forecast over' : 'usage-forecast'}>
          Forecast: {formatNumber(c.forecast.projected)} by the end of the period
          {c.forecast.willExceed ? ' — above your plan' : ''}
        </p>
      ) : null}
    </article>
  );
}

export function UsagePage() {
  const tenant = useTenancy(selectActiveTenant);
  const summary = useSummary((s) => s.summary);
  const status = useSummary((s) => s.status);
  const error = useSummary((s) => s.error);
  const tenantId = tenant?.id ?? null;
  const canManage = tenant?.role === 'owner' || tenant?.role === 'admin';
  const [daily, setDaily] = useState<boolean | null>(null);
  const [dailyError, setDailyError] = useState<string | null>(null);

  useEffect(() => {
    if (!tenantId) return;
    void summaryStore.getState().load(tenantId);
    void limitsStore.getState().refresh(tenantId).catch(() => {});
    if (canManage) usageApi.dailyEmail(tenantId).then(setDaily, () => setDaily(null));
  }, [tenantId, canManage]);

  const chart = useMemo(() => {
    const days = summary?.dailyUsage ?? [];
    return {
      labels: days.map((d) => d.day.slice(5)),
      series: [
        { label: 'SMS segments', values: days.map((d) => d.smsOutboundSegments), color: '#2563eb' },
        { label: 'AI requests', values: days.map((d) => d.aiRequests), color: '#db2777' },
        { label: 'Emails', values: days.map((d) => d.emailsSent), color: '#059669' },
      ],
    };
  }, [summary]);

  if (!tenant) return null;
  const s = summary;

  return (
    <Page title="Usage & Billing" heading="Usage & Billing"
      actions={s ? <span className={`badge plan-${s.currentPlan.name}`}>{s.currentPlan.label}</span> : undefined}>
      {status === 'loading' && !s ? <Loading label="Loading usage…" /> : null}
      {error ? (
        <>
          <Alert>{error.message}</Alert>
          <Button variant="secondary" onClick={() => void summaryStore.getState().load(tenant.id)}>Try again</Button>
        </>
      ) : null}
      {s ? (
        <>
          <p className="muted">Billing period: {formatPeriod(s.currentPeriod.start, s.currentPeriod.end)} (UTC) ·
            day {Math.ceil(s.currentPeriod.daysElapsed)} of {Math.round(s.currentPeriod.daysTotal)}</p>
          {s.alerts.length ? (
            <Alert kind="info" title="Usage alert">
              {s.alerts.map((a) => `${a.threshold >= 100 ? 'All' : `${a.threshold}%`} of this period's ${LIMIT_NAMES[a.metric] ?? a.metric} used (${formatNumber(a.used)} of ${formatNumber(a.cap)}).`).join(' ')}
            </Alert>
          ) : null}
          <div className="usage-cards">{usageCards(s).map((c) => <Card key={c.key} c={c} />)}</div>
          <section className="card" aria-labelledby="usage-chart-title">
            <h2 id="usage-chart-title">Last 30 days</h2>
            <UsageChart labels={chart.labels} series={chart.series} title="Daily usage over the last 30 days" />
          </section>
          <section className="card" aria-labelledby="plan-title">
            <h2 id="plan-title">Plan & billing</h2>
            <p><strong>{s.currentPlan.label}</strong> — {s.currentPlan.monthlyPrice > 0 ? `${formatMoney(s.currentPlan.monthlyPrice)} per month` : 'free during the trial'}</p>
            {canManage ? <ButtonLink to="/billing">Manage billing</ButtonLink> : <p className="muted">Owners and admins manage billing.</p>}
            {canManage && daily !== null ? (
              <label className="checkbox">
                <input type="checkbox" checked={daily} onChange={(e) => {
                  const on = e.target.checked;
                  setDailyError(null);
                  usageApi.setDailyEmail(tenant.id, on).then(() => setDaily(on), (err) => setDailyError(errorMessage(err)));
                }} /> Email the owners a daily usage summary
              </label>
            ) : null}
            {dailyError ? <Alert>{dailyError}</Alert> : null}
          </section>
        </>
      ) : null}
    </Page>
  );
}
