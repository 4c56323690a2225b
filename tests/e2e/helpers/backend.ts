/**
 * What the capture and outbox flows check or arrange behind the browser, beside helpers/stack.ts: the team's shared
 * repair-order photos with their truth, a shop's id for assertions through the service key, one run of the
 * scheduler's message dispatcher (the clock of quiet hours), and polling that hands back what it last saw.
 */
import { loadSet, type Sample } from '../../fixtures/repair-orders/tools/eval.ts';
import { operatorClient } from './stack.ts';

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the e2e project through vitest (its global setup acquires the stack)`);
  return v;
}

/**
 * One of the team's photographed repair orders with its truth (name, phone, vehicle, RO number):
 * ../shared/samples/repair-orders beside the clone, or SP_RO_SAMPLES (as the OCR tests find them).
 */
export function sharedSample(id: string): Sample {
  const sample = loadSet('shared').find((s) => s.id === id);
  if (!sample) throw new Error(`no shared sample ${id}`);
  return sample;
}

/** The id of the shop this run created, by its (unique per run) name, seen through the service key. */
export async function tenantIdByName(name: string): Promise<string> {
  const { data, error } = await operatorClient().from('tenants').select('id').eq('name', name);
  if (error) throw new Error(`tenants: ${error.message}`);
  if (data?.length !== 1) throw new Error(`expected one shop named "${name}", found ${data?.length ?? 0}`);
  return data[0]!.id as string;
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

/** Polls `read` until `ok` holds; returns the last value either way, so the assertion after it says what was seen. */
export async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
