/**
 * Opening hours (tenant_phone_numbers.hours) in the shop's IANA time zone. `{}` = always open; a weekday missing
 * or null = closed all day; `{open, close}` as "HH:MM" local time, close exclusive ("24:00" allowed).
 */
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export type Hours = Partial<Record<Weekday, { open: string; close: string } | null>>;
export const WEEKDAYS: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** A clear problem with `hours`, or null when it is valid (same rules as private.valid_phone_hours). */
export function hoursProblem(hours: unknown): string | null {
  if (!hours || typeof hours !== 'object' || Array.isArray(hours)) return 'hours must be an object keyed by weekday (mon..sun).';
  for (const [day, v] of Object.entries(hours as Record<string, unknown>)) {
    if (!(WEEKDAYS as string[]).includes(day)) return `hours: "${day}" is not a weekday (use mon, tue, wed, thu, fri, sat, sun).`;
    if (v === null) continue;
    const o = v as { open?: unknown; close?: unknown };
    if (typeof v !== 'object' || Object.keys(v as object).length !== 2 || typeof o.open !== 'string' || typeof o.close !== 'string') {
      return `hours.${day} must be null (closed) or {"open": "HH:MM", "close": "HH:MM"}.`;
    }
    if (!HHMM.test(o.open) || !(HHMM.test(o.close) || o.close === '24:00')) return `hours.${day}: times are 24-hour "HH:MM".`;
    if (o.open >= o.close) return `hours.${day}: opening time must be before closing time.`;
  }
  return null;
}

/** Local weekday and "HH:MM" of `now` in `timeZone`. */
export function localClock(now: Date, timeZone: string): { day: Weekday; time: string } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(now);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const day = get('weekday').slice(0, 3).toLowerCase() as Weekday;
  return { day, time: `${get('hour')}:${get('minute')}` };
}

export function isOpen(hours: Hours | null | undefined, timeZone: string, now: Date): boolean {
  if (!hours || Object.keys(hours).length === 0) return true;
  const { day, time } = localClock(now, timeZone);
  const slot = hours[day];
  if (!slot) return false;
  return time >= slot.open && time < slot.close;
}
