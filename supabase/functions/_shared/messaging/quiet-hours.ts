/**
 * Quiet hours: texts go out only inside the recipient's local sending window.
 *   - The recipient's zone comes from the NANP area code (area-codes.ts), else the shop's time zone.
 *   - Default window 08:00–21:00; stricter state rules narrow it (FL, OK, MD, NJ, MS: until 20:00); the shop's
 *     own setting may narrow it further but never widen it (the database refuses a wider setting, and this
 *     module takes the intersection anyway).
 * Pure TypeScript (Intl only): edge functions, tests and the PWA share it.
 */
import { lookupNanp } from './area-codes.ts';

export interface SendWindow {
  /** "HH:MM", inclusive. */
  start: string;
  /** "HH:MM", exclusive. */
  end: string;
}

export const DEFAULT_WINDOW: SendWindow = { start: '08:00', end: '21:00' };

/** States whose telemarketing/texting rules end the day earlier than 21:00. */
export const STATE_WINDOWS: Readonly<Record<string, SendWindow>> = {
  FL: { start: '08:00', end: '20:00' },
  OK: { start: '08:00', end: '20:00' },
  MD: { start: '08:00', end: '20:00' },
  NJ: { start: '08:00', end: '20:00' },
  MS: { start: '08:00', end: '20:00' },
};

const toMin = (hhmm: string) => {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)(?::\d\d)?$/.exec(hhmm);
  if (!m) throw new Error(`invalid time "${hhmm}"`);
  return Number(m[1]) * 60 + Number(m[2]);
};
const toHhmm = (min: number) => `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;

/** The narrowest of the windows (the intersection). */
export function narrowest(...windows: Array<SendWindow | null | undefined>): SendWindow {
  let s = toMin(DEFAULT_WINDOW.start), e = toMin(DEFAULT_WINDOW.end);
  for (const w of windows) {
    if (!w) continue;
    s = Math.max(s, toMin(w.start));
    e = Math.min(e, toMin(w.end));
  }
  if (e <= s) e = s + 1; // degenerate settings never open "all day"
  return { start: toHhmm(s), end: toHhmm(e) };
}

export interface RecipientClock {
  zone: string;
  region: string | null;
  source: 'area_code' | 'tenant';
  window: SendWindow;
}

export function recipientClock(phone: string, tenantZone: string, tenantWindow?: SendWindow | null): RecipientClock {
  const info = lookupNanp(phone);
  const region = info?.region ?? null;
  return {
    zone: info?.zone ?? tenantZone,
    region,
    source: info ? 'area_code' : 'tenant',
    window: narrowest(region ? STATE_WINDOWS[region] : null, tenantWindow),
  };
}

const fmtCache = new Map<string, Intl.DateTimeFormat>();
function parts(at: Date, zone: string) {
  let f = fmtCache.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    fmtCache.set(zone, f);
  }
  const o: Record<string, number> = {};
  for (const p of f.formatToParts(at)) if (p.type !== 'literal') o[p.type] = Number(p.value);
  return { y: o.year!, mo: o.month!, d: o.day!, h: o.hour! % 24, mi: o.minute!, s: o.second! };
}

/** Offset of `zone` from UTC at `at`, in minutes. */
function offsetMin(at: Date, zone: string): number {
  const p = parts(at, zone);
  return Math.round((Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - at.getTime()) / 60000);
}

/** The instant at local wall time y-mo-d hh:mm in `zone` (DST-safe to the minute). */
export function zonedInstant(y: number, mo: number, d: number, minutes: number, zone: string): Date {
  const naive = Date.UTC(y, mo - 1, d, Math.floor(minutes / 60), minutes % 60);
  let t = naive - offsetMin(new Date(naive), zone) * 60000;
  t = naive - offsetMin(new Date(t), zone) * 60000;
  return new Date(t);
}

export interface QuietDecision extends RecipientClock {
  /** null: inside the window, send now; otherwise the instant the window next opens. */
  sendAt: Date | null;
  localTime: string;
}

/** Whether a text to `phone` may go at `now`, and if not, when. */
export function quietHoursDecision(
  now: Date, phone: string, tenantZone: string, tenantWindow?: SendWindow | null,
): QuietDecision {
  const clock = recipientClock(phone, tenantZone, tenantWindow);
  const p = parts(now, clock.zone);
  const cur = p.h * 60 + p.mi;
  const s = toMin(clock.window.start), e = toMin(clock.window.end);
  const localTime = toHhmm(cur);
  if (cur >= s && cur < e) return { ...clock, sendAt: null, localTime };
  // Before the window: today at start; after it: tomorrow at start (calendar arithmetic in UTC on the local date).
  const day = new Date(Date.UTC(p.y, p.mo - 1, p.d + (cur >= e ? 1 : 0)));
  const sendAt = zonedInstant(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), s, clock.zone);
  return { ...clock, sendAt, localTime };
}
