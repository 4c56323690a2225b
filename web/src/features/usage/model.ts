/**
 * The usage screens' data shapes and pure helpers (unit-tested): parsing the RPC answers defensively, the cards,
 * percentages and the limits cache's freshness rule.
 */

export interface UsageTotals {
  smsOutboundSegments: number;
  smsInbound: number;
  mmsOutbound: number;
  voiceMinutesInbound: number;
  voiceMinutesOutbound: number;
  voiceMinutes: number;
  emailsSent: number;
  aiRequests: number;
  ocrPages: number;
}

export interface DailyUsage {
  day: string;
  smsOutboundSegments: number;
  smsInbound: number;
  mmsOutbound: number;
  voiceMinutes: number;
  emailsSent: number;
  aiRequests: number;
  ocrPages: number;
}

export interface ForecastEntry {
  projected: number;
  cap: number | null;
  projectedPercent: number | null;
  willExceed: boolean;
}

export interface UsageSummary {
  currentPlan: { name: string; label: string; monthlyPrice: number; status: string; overagePolicy: string };
  planLimits: { smsSegments: number; mmsMessages: number; voiceMinutes: number; emails: number; aiRequests: number; ocrPages: number };
  currentPeriod: { start: string; end: string; daysElapsed: number; daysTotal: number };
  totalsForPeriod: UsageTotals;
  dailyUsage: DailyUsage[];
  forecast: Record<string, ForecastEntry>;
  alerts: Array<{ metric: string; threshold: number; used: number; cap: number; at: string }>;
}

export interface LimitRow {
  key: string;
  used: number;
  cap: number;
  remaining: number;
  percent: number | null;
  exceeded: boolean;
}

export interface Limits {
  tenantId: string;
  plan: string;
  planLabel: string;
  status: string;
  overagePolicy: string;
  period: { start: string; end: string };
  limits: LimitRow[];
  features: string[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseSummary(data: unknown): UsageSummary {
  if (!isObj(data) || !isObj(data.currentPlan) || !isObj(data.totalsForPeriod) || !Array.isArray(data.dailyUsage)) {
    throw new Error('The usage summary came back in an unexpected shape.');
  }
  return data as unknown as UsageSummary;
}

export function parseLimits(data: unknown): Limits {
  if (!isObj(data) || !Array.isArray(data.limits)) throw new Error('The limits came back in an unexpected shape.');
  return data as unknown as Limits;
}

export interface UsageCard {
  key: string;
  title: string;
  used: number;
  cap: number | null;
  unit: string;
  percent: number | null;
  forecast: ForecastEntry | null;
  detail?: string;
}

/** The cards of the Usage & Billing page, in order. */
export function usageCards(s: UsageSummary): UsageCard[] {
  const t = s.totalsForPeriod;
  const card = (key: string, title: string, used: number, cap: number | null, unit: string, detail?: string): UsageCard => ({
    key, title, used, cap, unit, detail,
    percent: cap && cap > 0 ? Math.min(100, Math.round((used / cap) * 1000) / 10) : null,
    forecast: s.forecast?.[key] ?? null,
  });
  return [
    card('smsOutboundSegments', 'SMS sent', t.smsOutboundSegments, s.planLimits.smsSegments, 'segments', `${t.smsInbound} received`),
    card('mmsOutbound', 'Picture messages', t.mmsOutbound, s.planLimits.mmsMessages, 'messages'),
    card('voiceMinutes', 'Voice minutes', t.voiceMinutes, s.planLimits.voiceMinutes, 'minutes',
      `${t.voiceMinutesInbound} in · ${t.voiceMinutesOutbound} out`),
    card('emailsSent', 'Emails sent', t.emailsSent, s.planLimits.emails, 'emails'),
    card('aiRequests', 'AI requests', t.aiRequests, s.planLimits.aiRequests, 'requests'),
  ];
}

export const formatNumber = (n: number) => new Intl.NumberFormat('en-US').format(n);
export const formatMoney = (dollars: number) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: dollars % 1 ? 2 : 0 }).format(dollars);
export function formatPeriod(start: string, end: string): string {
  const opts: Intl.DateTimeFormatOptions = { month: 'short', day: 'numeric', timeZone: 'UTC' };
  const last = new Date(new Date(end).getTime() - 1);
  return `${new Date(start).toLocaleDateString('en-US', opts)} – ${last.toLocaleDateString('en-US', { ...opts, year: 'numeric' })}`;
}

/** How long check_limits answers stay fresh in the PWA (the server decides again on every action). */
export const LIMITS_TTL_MS = 30_000;

export function isFresh(fetchedAt: number | undefined, now: number, ttl = LIMITS_TTL_MS): boolean {
  return fetchedAt !== undefined && now - fetchedAt < ttl;
}
