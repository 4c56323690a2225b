/**
 * What an end-to-end test arranges or checks outside the browser, against the same stack the app talks to:
 * a person's own supabase-js session (the API as that signed-in user — never the service key, unless a step is an
 * operator's), the Twilio and Stripe emulators' control surfaces, and a shop time zone where it is midday now (texts
 * go out only inside the recipient's 08:00–21:00 window, so a send made at night would be scheduled, not sent).
 * The global setup puts the stack's settings (API_URL, ANON_KEY, TWILIO_API_URL, STRIPE_API_URL …) in process.env.
 */
import { randomBytes } from 'node:crypto';
import { createClient, FunctionsHttpError, type SupabaseClient } from '@supabase/supabase-js';
import { PASSWORD } from './app.ts';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the e2e project through vitest (its global setup acquires the stack)`);
  return v;
}

const noSession = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };

/** supabase-js signed in as someone who signed up (in the browser or through the API). */
export async function signedInClient(email: string, password = PASSWORD): Promise<SupabaseClient> {
  const client = createClient(need('API_URL'), need('ANON_KEY'), noSession);
  const { error } = await client.auth.signInWithPassword({ email, password });
  if (error) throw new Error(`sign-in of ${email} through the API: ${error.message}`);
  return client;
}

/** A new account through the API (its sign-up screen is covered by tenancy.test.ts), signed in. */
export async function signedUpClient(email: string, password = PASSWORD): Promise<{ id: string; client: SupabaseClient }> {
  const client = createClient(need('API_URL'), need('ANON_KEY'), noSession);
  const { data, error } = await client.auth.signUp({ email, password });
  if (error || !data.user) throw new Error(`sign-up of ${email}: ${error?.message ?? 'no user'}`);
  return { id: data.user.id, client };
}

/** The service key: only for what an operator does outside the app (e.g. granting platform admin). */
export function operatorClient(): SupabaseClient {
  return createClient(need('API_URL'), need('SERVICE_ROLE_KEY'), noSession);
}

/** The id of the shop with this name among the signed-in person's shops. */
export async function shopId(client: SupabaseClient, name: string): Promise<string> {
  const { data, error } = await client.from('tenants').select('id').eq('name', name).single();
  if (error || !data) throw new Error(`shop "${name}": ${error?.message ?? 'not found'}`);
  return (data as { id: string }).id;
}

/** A function call as the signed-in person: the status and the JSON body, errors included. */
export async function invoke(client: SupabaseClient, fn: string, body: Record<string, unknown>): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const { data, error } = await client.functions.invoke(fn, { body });
  if (!error) return { status: 200, body: data };
  if (error instanceof FunctionsHttpError) {
    const res = error.context as Response;
    return { status: res.status, body: await res.json().catch(() => null) };
  }
  throw error;
}

/**
 * A Jamaican mobile number (+1 876): NANP, so the shop can text it, but outside the US and Canada, so its quiet
 * hours follow the shop's time zone (see middayTimeZone). Random per call: earlier runs' texts never match.
 */
export function offshoreMobile(): string {
  return `+1876${2_000_000 + (randomBytes(3).readUIntBE(0, 3) % 7_000_000)}`;
}

/** One zone per UTC offset from −11 to +14 (every one a canonical IANA name Chromium lists). */
const ZONES = [
  'Pacific/Pago_Pago', 'Pacific/Honolulu', 'America/Anchorage', 'America/Los_Angeles', 'America/Denver', 'America/Phoenix',
  'America/Chicago', 'America/New_York', 'America/Halifax', 'America/Sao_Paulo', 'Atlantic/South_Georgia',
  'Atlantic/Cape_Verde', 'Europe/London', 'Africa/Lagos', 'Europe/Berlin', 'Africa/Johannesburg', 'Europe/Moscow',
  'Asia/Dubai', 'Asia/Karachi', 'Asia/Dhaka', 'Asia/Bangkok', 'Asia/Shanghai', 'Asia/Tokyo', 'Australia/Brisbane',
  'Pacific/Noumea', 'Pacific/Auckland', 'Pacific/Tongatapu', 'Pacific/Kiritimati',
];

/** Hours since local midnight in `zone` at `at`. */
export function localHour(zone: string, at = new Date()): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get('hour') + get('minute') / 60;
}

/** The zone where it is closest to 12:30 now: a run of any length stays inside the 08:00–21:00 sending window. */
export function middayTimeZone(at = new Date()): string {
  return [...ZONES].sort((a, b) => Math.abs(localHour(a, at) - 12.5) - Math.abs(localHour(b, at) - 12.5))[0]!;
}

// ------------------------------------------------------------------------------------------------ Twilio emulator
export interface EmulatedSms {
  sid: string; to: string; from: string | null; body: string; status: string;
  /** The status callbacks the emulator made for it, in order, each with our webhook's HTTP answer. */
  callbacks: Array<{ message_status: string; status: number | null }>;
}

/** Every text the Twilio emulator accepted for this number (the emulator keeps earlier runs' messages). */
export async function twilioMessagesTo(phone: string): Promise<EmulatedSms[]> {
  const res = await fetch(`${need('TWILIO_API_URL')}/_emulator/messages`);
  if (!res.ok) throw new Error(`Twilio emulator /_emulator/messages: HTTP ${res.status}`);
  const list = (await res.json()) as EmulatedSms[];
  return list.filter((m) => m.to === phone);
}

// ------------------------------------------------------------------------------------------------ Stripe emulator
export interface EmulatedEvent {
  id: string;
  type: string;
  data: { object: { id?: string; customer?: string; client_reference_id?: string | null; metadata?: Record<string, string> } };
  deliveries: Array<{ url: string; status: number | null; ok: boolean }>;
}

/** The events the Stripe emulator emitted, each with its webhook deliveries (oldest first). */
export async function stripeEvents(): Promise<EmulatedEvent[]> {
  const res = await fetch(`${need('STRIPE_API_URL')}/_emulator/events`);
  if (!res.ok) throw new Error(`Stripe emulator /_emulator/events: HTTP ${res.status}`);
  return (await res.json()) as EmulatedEvent[];
}

/** Polls `fn` until it returns something truthy. */
export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
