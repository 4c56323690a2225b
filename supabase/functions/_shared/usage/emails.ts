/**
 * The usage emails: 80 % / 100 % cap alerts and the optional daily usage email. Pure text/HTML builders (no I/O),
 * so the handler and the tests share them. Numbers are formatted for people; nothing secret goes into an email.
 */

/** How each capped counter (tenant_quota / usage_alerts.metric) reads in an email. */
export const LIMIT_LABELS: Readonly<Record<string, { label: string; unit: string }>> = {
  sms_segments: { label: 'Text messages (SMS)', unit: 'segments' },
  mms: { label: 'Picture messages (MMS)', unit: 'messages' },
  voice_minutes: { label: 'Voice', unit: 'minutes' },
  emails: { label: 'Emails', unit: 'emails' },
  ai_requests: { label: 'AI assistant', unit: 'requests' },
  ocr_pages: { label: 'Repair-order scans', unit: 'pages' },
};

export interface AlertForEmail {
  alert_id: string;
  tenant_id: string;
  tenant_name: string;
  metric: string;
  threshold: number;
  used: number;
  cap: number;
  period_start: string;
  period_end: string;
  owner_emails: string[];
}

export interface LimitRow {
  key: string;
  used: number;
  cap: number;
  remaining: number;
  percent: number | null;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const num = (n: number) => new Intl.NumberFormat('en-US').format(n);
const day = (iso: string) => new Date(iso).toLocaleDateString('en-US', { month: 'long', day: 'numeric', timeZone: 'UTC' });

export function alertEmail(a: AlertForEmail, appUrl: string): { subject: string; text: string; html: string } {
  const l = LIMIT_LABELS[a.metric] ?? { label: a.metric, unit: 'units' };
  const full = a.threshold >= 100;
  const subject = full
    ? `${a.tenant_name}: you have used all of this month's ${l.label.toLowerCase()}`
    : `${a.tenant_name}: ${a.threshold}% of this month's ${l.label.toLowerCase()} used`;
  const usage = `${num(a.used)} of ${num(a.cap)} ${l.unit}`;
  const until = day(a.period_end);
  const lead = full
    ? `${a.tenant_name} has used ${usage} included in its plan for the period ending ${until}.`
    : `${a.tenant_name} has used ${usage} (${a.threshold}%) included in its plan for the period ending ${until}.`;
  const next = full
    ? 'Depending on your overage setting, further sends are either paused or billed as overage until the period ends. You can upgrade your plan at any time.'
    : 'No action is needed yet. If you expect to need more, you can upgrade your plan at any time.';
  const link = `${appUrl.replace(/\/+$/, '')}/usage`;
  return {
    subject,
    text: `${lead}\n\n${next}\n\nSee your usage: ${link}\n`,
    html: `<p>${esc(lead)}</p><p>${esc(next)}</p><p><a href="${esc(link)}">See your usage</a></p>`,
  };
}

export function dailyEmail(tenantName: string, limits: LimitRow[], appUrl: string): { subject: string; text: string; html: string } {
  const rows = limits.map((r) => {
    const l = LIMIT_LABELS[r.key] ?? { label: r.key, unit: '' };
    return { label: l.label, line: `${num(r.used)} of ${num(r.cap)} ${l.unit} used, ${num(r.remaining)} left` };
  });
  const link = `${appUrl.replace(/\/+$/, '')}/usage`;
  return {
    subject: `${tenantName}: your usage today`,
    text: `Usage this billing period for ${tenantName}:\n\n${rows.map((r) => `- ${r.label}: ${r.line}`).join('\n')}\n\nDetails: ${link}\n` +
      '\nTurn this email off on the Usage & Billing page.\n',
    html: `<p>Usage this billing period for ${esc(tenantName)}:</p><ul>${rows.map((r) => `<li><b>${esc(r.label)}</b>: ${esc(r.line)}</li>`).join('')}</ul>` +
      `<p><a href="${esc(link)}">Details</a> · Turn this email off on the Usage &amp; Billing page.</p>`,
  };
}
