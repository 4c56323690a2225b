/**
 * What a flow checks behind the browser: the database and storage through supabase-js with the service key (as an
 * operator would look), the Twilio emulator's inspection API, the scheduler's dispatcher, and the team's shared
 * repair-order photos. Tests assert on these; the steps themselves stay in the browser (helpers/app.ts).
 */
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { loadSet, type Sample } from '../../fixtures/repair-orders/tools/eval.ts';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the e2e project through vitest (its global setup acquires the stack)`);
  return v;
}

let service: SupabaseClient | null = null;
/** supabase-js with the service key: sees every shop's rows and objects (RLS bypassed), for assertions only. */
export function serviceClient(): SupabaseClient {
  return (service ??= createClient(need('API_URL'), need('SERVICE_ROLE_KEY'), { auth: { persistSession: false, autoRefreshToken: false } }));
}

/** The id of the shop this run created, by its (unique per run) name. */
export async function tenantIdByName(name: string): Promise<string> {
  const { data, error } = await serviceClient().from('tenants').select('id').eq('name', name);
  if (error) throw new Error(`tenants: ${error.message}`);
  if (data?.length !== 1) throw new Error(`expected one shop named "${name}", found ${data?.length ?? 0}`);
  return data[0]!.id as string;
}

/**
 * One of the team's photographed repair orders with its truth (name, phone, vehicle, RO number):
 * ../shared/samples/repair-orders beside the clone, or SP_RO_SAMPLES.
 */
export function sharedSample(id: string): Sample {
  const sample = loadSet('shared').find((s) => s.id === id);
  if (!sample) throw new Error(`no shared sample ${id}`);
  return sample;
}

export interface EmulatedMessage {
  sid: string;
  to: string;
  from: string | null;
  body: string;
  status: string;
  callbacks: { message_status: string; status?: number }[];
}

/** Every message the Twilio emulator has accepted (its inspection API: GET /_emulator/messages), to one number. */
export async function twilioMessagesTo(to: string): Promise<EmulatedMessage[]> {
  const res = await fetch(`${need('TWILIO_API_URL')}/_emulator/messages`);
  if (!res.ok) throw new Error(`twilio emulator: ${res.status}`);
  return ((await res.json()) as EmulatedMessage[]).filter((m) => m.to === to);
}

/** One run of the scheduler's message dispatcher (what pg_cron calls every minute), as the service. */
export async function runMessageDispatcher(): Promise<Record<string, number>> {
  const res = await fetch(`${need('API_URL')}/functions/v1/message-dispatcher`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${need('SERVICE_ROLE_KEY')}`, apikey: need('ANON_KEY') },
  });
  if (!res.ok) throw new Error(`message-dispatcher: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, number>;
}

/** Polls `read` until `ok` holds (returns the last value either way, so the assertion says what was seen). */
export async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
