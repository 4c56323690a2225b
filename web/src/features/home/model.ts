/** The owner dashboard's pure parts (unit-tested): "today" in the shop's time zone, failure reasons, the quota bar. */
import { DELIVERY_ERRORS } from '../messaging/errors.ts';

export interface TodayCounts {
  /** Outbound texts handed to the carrier today (everything but scheduled and canceled). */
  sent: number;
  delivered: number;
  /** failed + undelivered */
  failed: number;
  /** Waiting for the sending window. */
  scheduled: number;
}

export interface DeliveryFailure {
  id: string;
  customerId: string | null;
  customerName: string | null;
  toPhone: string;
  status: 'failed' | 'undelivered';
  errorCode: number | null;
  errorMessage: string | null;
  template: string | null;
  at: string;
}

export interface Quota {
  used: number;
  cap: number;
  percent: number;
  exceeded: boolean;
  overagePolicy: string;
  periodEnd: string;
  /** An owner/admin chose the policy (tenants.overage_policy_chosen_at): a hard stop then holds pickup notices too. */
  overageChosen: boolean;
  /** Past the cap, texts keep going out and each extra segment is billed (a paying shop that chose metered). */
  overageBilled: boolean;
  /** The plan's price of an extra segment, when known. */
  overageCentsPerSegment: number | null;
}

/** What decides what happens past the cap, beyond check_limits: the owner's explicit choice and whether overage bills. */
export interface OverageStanding {
  overageChosen: boolean;
  overageBilled: boolean;
  overageCentsPerSegment: number | null;
}

export const UNCHOSEN_OVERAGE: OverageStanding = { overageChosen: false, overageBilled: false, overageCentsPerSegment: null };

/**
 * The instant the current day began in `timeZone` (IANA), for "today" in the shop's own clock (not the tablet's,
 * not UTC). DST-safe: the offset is read at the candidate midnight itself.
 */
export function startOfDayIn(timeZone: string, now: Date = new Date()): Date {
  const parts = (d: Date) => {
    const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    const p = Object.fromEntries(f.formatToParts(d).map((x) => [x.type, x.value]));
    return { y: Number(p.year), mo: Number(p.month), d: Number(p.day), h: Number(p.hour), mi: Number(p.minute), s: Number(p.second) };
  };
  const offsetAt = (d: Date) => {
    const p = parts(d);
    return Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - Math.floor(d.getTime() / 1000) * 1000;
  };
  const local = parts(now);
  const midnightAsUtc = Date.UTC(local.y, local.mo - 1, local.d);
  let guess = midnightAsUtc - offsetAt(now);
  guess = midnightAsUtc - offsetAt(new Date(guess));
  return new Date(guess);
}

/** Why a text did not arrive, in plain words (Twilio's code first, then what the server recorded). */
export function failureReason(f: Pick<DeliveryFailure, 'errorCode' | 'errorMessage' | 'status'>): string {
  if (f.errorCode !== null && DELIVERY_ERRORS[f.errorCode]) return DELIVERY_ERRORS[f.errorCode]!;
  if (f.errorMessage && f.errorMessage.trim()) return f.errorMessage.trim();
  return f.status === 'undelivered' ? 'The carrier could not deliver it.' : 'It could not be sent.';
}

/** The SMS row of check_limits as the quota bar shows it (null when the plan has no SMS row). */
export function smsQuota(
  limits: { overagePolicy: string; period: { end: string }; limits: Array<{ key: string; used: number; cap: number; exceeded: boolean }> },
  overage: OverageStanding = UNCHOSEN_OVERAGE,
): Quota | null {
  const row = limits.limits.find((l) => l.key === 'sms_segments');
  if (!row) return null;
  const percent = row.cap > 0 ? Math.min(100, Math.round((row.used / row.cap) * 100)) : 100;
  return {
    used: row.used, cap: row.cap, percent, exceeded: row.exceeded || row.used >= row.cap, overagePolicy: limits.overagePolicy, periodEnd: limits.period.end,
    ...overage, overageBilled: overage.overageBilled && limits.overagePolicy === 'metered',
  };
}

const dollars = (c: number) => `$${(c / 100).toFixed(c % 1 ? 3 : 2)}`;

/**
 * "87% used" plus what happens next, so the bar never speaks by colour alone. Past the cap it says what the server
 * does (private.messaging_allow_overage): a paying shop on metered overage keeps sending and is billed per segment;
 * otherwise texts stop — except "ready for pickup" notices while nobody has explicitly chosen the hard stop.
 */
export function quotaWords(q: Quota): string {
  if (q.exceeded) {
    if (q.overageBilled) {
      const price = q.overageCentsPerSegment !== null ? ` at ${dollars(q.overageCentsPerSegment)} each` : '';
      return `Over the plan: texts keep going out; extra segments are billed${price} on the next invoice.`;
    }
    if (!q.overageChosen) return 'Used up: only “ready for pickup” notices still go out until the next period or an upgrade.';
    return 'Used up: texting stops until the next period or an upgrade.';
  }
  if (q.percent >= 80) return `${q.percent}% used: running low.`;
  return `${q.percent}% used.`;
}
