import { useEffect } from 'react';
import { Button, Loading } from '../../../lib/ui/index.ts';
import { Link } from '../../../lib/router.ts';
import { formatNumber } from '../../usage/model.ts';
import { failureReason, quotaWords } from '../model.ts';
import { dashboardStore, useDashboard } from '../store.ts';
import '../home.css';

const REFRESH_MS = 60_000;

/**
 * The owner's dashboard beside the technician home (tablet: the right column): today's texts, the latest delivery
 * failures with a plain reason and a link to the thread, and the month's SMS quota. Refreshes every minute while
 * visible.
 */
export function OwnerDashboard({ tenantId }: { tenantId: string }) {
  const today = useDashboard((s) => s.today);
  const failures = useDashboard((s) => s.failures);
  const quota = useDashboard((s) => s.quota);
  const loading = useDashboard((s) => s.loading);
  useEffect(() => {
    void dashboardStore.getState().load(tenantId);
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') void dashboardStore.getState().load(tenantId);
    }, REFRESH_MS);
    return () => clearInterval(t);
  }, [tenantId]);

  return (
    <div className="dashboard" aria-label="Shop dashboard" role="region">
      <section className="card" aria-labelledby="today-title">
        <div className="card-head">
          <h2 id="today-title">Today's texts</h2>
          <Button variant="link" busy={loading} busyLabel="Refreshing…" onClick={() => void dashboardStore.getState().load(tenantId)}>Refresh</Button>
        </div>
        {today.error ? <p role="alert" className="field-error"><span aria-hidden="true">⚠ </span>{today.error}</p> : null}
        {today.data ? (
          <dl className="stat-tiles">
            <div className="stat"><dt>Sent</dt><dd>{formatNumber(today.data.sent)}</dd></div>
            <div className="stat"><dt>Delivered</dt><dd>{formatNumber(today.data.delivered)}</dd></div>
            <div className={today.data.failed ? 'stat stat-bad' : 'stat'}>
              <dt>{today.data.failed ? <span aria-hidden="true">⚠ </span> : null}Failed</dt><dd>{formatNumber(today.data.failed)}</dd>
            </div>
            {today.data.scheduled ? <div className="stat"><dt>Waiting for the window</dt><dd>{formatNumber(today.data.scheduled)}</dd></div> : null}
          </dl>
        ) : !today.error ? <Loading label="Counting today's texts…" /> : null}
      </section>

      <section className="card" aria-labelledby="quota-title">
        <h2 id="quota-title">Texts this period</h2>
        {quota.error ? <p role="alert" className="field-error"><span aria-hidden="true">⚠ </span>{quota.error}</p> : null}
        {quota.data ? (
          <>
            <p>
              <strong>{formatNumber(quota.data.used)}</strong> of {formatNumber(quota.data.cap)} SMS segments
            </p>
            <div className={quota.data.exceeded ? 'quota-bar quota-over' : quota.data.percent >= 80 ? 'quota-bar quota-low' : 'quota-bar'}
              role="meter" aria-label="SMS segments used this period" aria-valuemin={0} aria-valuemax={quota.data.cap}
              aria-valuenow={Math.min(quota.data.used, quota.data.cap)} aria-valuetext={`${quota.data.used} of ${quota.data.cap} (${quotaWords(quota.data)})`}>
              <span style={{ width: `${quota.data.percent}%` }} />
            </div>
            <p className="hint">
              {quota.data.exceeded || quota.data.percent >= 80 ? <span aria-hidden="true">⚠ </span> : null}
              {quotaWords(quota.data)} Resets {new Date(quota.data.periodEnd).toLocaleDateString(undefined, { month: 'short', day: 'numeric' })}.{' '}
              {quota.data.exceeded && !quota.data.overageBilled ? <><Link to="/billing">Upgrade or choose what happens past the cap</Link> · </> : null}
              <Link to="/usage">See usage details</Link>
            </p>
          </>
        ) : quota.data === null && !quota.error && !loading ? (
          <p className="hint">This plan has no text allowance.</p>
        ) : !quota.error ? <Loading label="Loading the quota…" /> : null}
      </section>

      <section className="card" aria-labelledby="failures-title">
        <h2 id="failures-title">Delivery failures</h2>
        {failures.error ? <p role="alert" className="field-error"><span aria-hidden="true">⚠ </span>{failures.error}</p> : null}
        {failures.data ? (
          failures.data.length ? (
            <ul className="failure-list">
              {failures.data.map((f) => (
                <li key={f.id}>
                  <span className="failure-who">
                    <span aria-hidden="true">⚠ </span>
                    {f.customerId ? (
                      <Link to={`/customers/${f.customerId}/thread`}>{f.customerName ?? f.toPhone}<span className="visually-hidden">: open the texts</span></Link>
                    ) : (
                      f.toPhone
                    )}
                    <span className="hint"> · {f.status === 'undelivered' ? 'Not delivered' : 'Failed'} {new Date(f.at).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' })}</span>
                  </span>
                  <span className="failure-why">{failureReason(f)}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p><span aria-hidden="true">✓ </span>No failed or undelivered texts.</p>
          )
        ) : !failures.error ? <Loading label="Checking deliveries…" /> : null}
      </section>
    </div>
  );
}
