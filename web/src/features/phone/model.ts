/**
 * Phone settings, pure: the number row as the PWA sees it, the opening-hours form (weekday rows ↔ the hours
 * JSON the database checks), and input checks that mirror the server's so mistakes are caught before a round trip.
 */
export type IvrMode = 'forward' | 'sip' | 'ivr';
export type NumberStatus = 'active' | 'releasing' | 'released' | 'suspended';
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export type Hours = Partial<Record<Weekday, { open: string; close: string } | null>>;

export const WEEKDAYS: { key: Weekday; label: string }[] = [
  { key: 'mon', label: 'Monday' }, { key: 'tue', label: 'Tuesday' }, { key: 'wed', label: 'Wednesday' },
  { key: 'thu', label: 'Thursday' }, { key: 'fri', label: 'Friday' }, { key: 'sat', label: 'Saturday' }, { key: 'sun', label: 'Sunday' },
];

export interface PhoneNumber {
  id: string;
  e164: string;
  status: NumberStatus;
  ivrMode: IvrMode;
  forwardTo: string | null;
  sipUri: string | null;
  hours: Hours;
  greeting: string | null;
  afterHoursMessage: string | null;
  credentialKind: 'subaccount' | 'byo';
}

export interface Voicemail {
  id: string;
  customerId: string | null;
  fromPhone: string;
  durationSeconds: number | null;
  transcription: string | null;
  transcriptionStatus: 'pending' | 'completed' | 'failed';
  recordingUrl: string | null;
  readAt: string | null;
  createdAt: string;
}

export interface Alternative {
  phone_number: string;
  friendly_name: string;
  locality: string | null;
  region: string | null;
  kind: 'local' | 'toll_free';
}

export interface SettingsPatch {
  ivr_mode: IvrMode;
  forward_to: string | null;
  sip_uri: string | null;
  hours: Hours;
  greeting: string | null;
  after_hours_message: string | null;
}

/** One row of the hours form. */
export interface DayRow { day: Weekday; open: boolean; from: string; to: string }

export function parseNumber(r: Record<string, unknown> | null): PhoneNumber | null {
  if (!r) return null;
  return {
    id: String(r.id), e164: String(r.e164), status: r.status as NumberStatus, ivrMode: r.ivr_mode as IvrMode,
    forwardTo: (r.forward_to as string | null) ?? null, sipUri: (r.sip_uri as string | null) ?? null,
    hours: (r.hours as Hours) ?? {}, greeting: (r.greeting as string | null) ?? null,
    afterHoursMessage: (r.after_hours_message as string | null) ?? null,
    credentialKind: (r.credential_kind as 'subaccount' | 'byo') ?? 'subaccount',
  };
}

export function parseVoicemail(r: Record<string, unknown>): Voicemail {
  return {
    id: String(r.id), customerId: (r.customer_id as string | null) ?? null, fromPhone: String(r.from_phone),
    durationSeconds: (r.duration_seconds as number | null) ?? null, transcription: (r.transcription as string | null) ?? null,
    transcriptionStatus: r.transcription_status as Voicemail['transcriptionStatus'], recordingUrl: (r.recording_url as string | null) ?? null,
    readAt: (r.read_at as string | null) ?? null, createdAt: String(r.created_at),
  };
}

/** The form rows for `hours` ({} — always open — is a separate switch on the page, not seven open days). */
export function hoursToRows(h: Hours): DayRow[] {
  return WEEKDAYS.map(({ key }) => {
    const slot = h[key];
    return slot ? { day: key, open: true, from: slot.open, to: slot.close } : { day: key, open: false, from: '08:00', to: '17:00' };
  });
}

export function rowsToHours(rows: DayRow[]): Hours {
  const out: Hours = {};
  for (const r of rows) out[r.day] = r.open ? { open: r.from, close: r.to } : null;
  return out;
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
export const E164 = /^\+[1-9]\d{6,14}$/;
export const SIP = /^sips?:[^\s@]+@\S+$/;

/** US-style input → E.164 (+1 for 10 digits), or null when it cannot be one. */
export function toE164(input: string): string | null {
  const s = input.trim();
  if (E164.test(s.replace(/[\s().-]/g, ''))) return s.replace(/[\s().-]/g, '');
  const digits = s.replace(/\D/g, '');
  if (digits.length === 10 && /^[2-9]/.test(digits)) return `+1${digits}`;
  if (digits.length === 11 && digits.startsWith('1')) return `+${digits}`;
  return null;
}

/** Field → problem, empty when the settings can be saved. */
export function settingsProblems(p: { mode: IvrMode; forwardTo: string; sipUri: string; alwaysOpen: boolean; rows: DayRow[]; greeting: string; afterHours: string }): Record<string, string> {
  const out: Record<string, string> = {};
  if (p.forwardTo.trim() && !toE164(p.forwardTo)) out.forwardTo = 'Enter a phone number like (918) 555-0123 or +19185550123.';
  if (p.mode === 'forward' && !p.forwardTo.trim()) out.forwardTo = 'Calls are forwarded to this number: enter one.';
  if (p.sipUri.trim() && !SIP.test(p.sipUri.trim())) out.sipUri = 'A SIP address looks like sip:frontdesk@yourshop.example.com.';
  if (p.mode === 'sip' && !p.sipUri.trim()) out.sipUri = 'Calls go to this SIP address: enter one.';
  if (!p.alwaysOpen) {
    for (const r of p.rows) {
      if (!r.open) continue;
      if (!HHMM.test(r.from) || !HHMM.test(r.to)) out[`hours.${r.day}`] = 'Use 24-hour times like 08:00 and 17:30.';
      else if (r.from >= r.to) out[`hours.${r.day}`] = 'Opening time must be before closing time.';
    }
  }
  if (p.greeting.length > 500) out.greeting = 'Keep the greeting under 500 characters.';
  if (p.afterHours.length > 500) out.afterHours = 'Keep the message under 500 characters.';
  return out;
}

export const AREA_CODE = /^[2-9]\d{2}$/;
export const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;
export const AUTH_TOKEN = /^[0-9a-fA-F]{32}$/;

export function formatPhone(e164: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : e164;
}
