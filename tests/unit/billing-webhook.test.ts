/**
 * stripe-webhook's handler with fake deps (no stack): what is retried (500, claim withdrawn) and what is not
 * (200, outcome recorded), dedupe before work, ignored types never touching the database, signature failures.
 */
import Stripe from 'stripe';
import { describe, expect, it, vi } from 'vitest';
import { createHandler, type WebhookDeps } from '../../supabase/functions/stripe-webhook/handler.ts';
import { createLogger } from '../../supabase/functions/_shared/log.ts';

const SECRET = 'whsec_unit_test_secret';
const stripe = new Stripe('sk_test_unit', { httpClient: Stripe.createFetchHttpClient() });

type Rpc = (name: string, args: Record<string, unknown>) => { data: unknown; error: { code?: string; message: string } | null };

function fakeDb(rpc: Rpc) {
  const calls: Array<[string, Record<string, unknown>]> = [];
  const db = {
    rpc: vi.fn(async (name: string, args: Record<string, unknown>) => { calls.push([name, args]); return rpc(name, args); }),
    from: vi.fn(() => ({ select: () => ({ eq: () => ({ maybeSingle: async () => ({ data: { label: 'Pro' }, error: null }) }) }) })),
  };
  return { db, calls };
}

function deps(db: unknown, retrieve: (id: string) => Promise<unknown>): WebhookDeps {
  const lines: string[] = [];
  return {
    stripe: Object.assign(Object.create(stripe), { subscriptions: { retrieve: vi.fn(retrieve) }, webhooks: stripe.webhooks }) as Stripe,
    crypto: Stripe.createSubtleCryptoProvider(),
    webhookSecret: SECRET,
    db: db as never,
    priceIds: {},
    email: { send: vi.fn(async () => ({ id: 'em_1' })) },
    sms: { TWILIO_API_URL: 'http://127.0.0.1:9' },
    appUrl: 'http://app.test',
    log: createLogger('stripe-webhook', { sink: (_l, line) => lines.push(line) }),
  };
}

function request(type: string, object: unknown, secret = SECRET) {
  const payload = JSON.stringify({ id: `evt_unit${Math.random().toString(36).slice(2)}`, object: 'event', type, created: 1_800_000_000, data: { object } });
  const header = stripe.webhooks.generateTestHeaderString({ payload, secret });
  return new Request('http://fn.test/stripe-webhook', { method: 'POST', body: payload, headers: { 'stripe-signature': header } });
}

const SUB = {
  id: 'sub_unit', customer: 'cus_unit', status: 'active', created: 1_800_000_000, metadata: {},
  items: { data: [{ id: 'si_1', price: { id: 'price_1', lookup_key: 'servicepro_pro_monthly' }, current_period_start: 1_800_000_000, current_period_end: 1_802_592_000 }] },
};

const applied = { changed: true, ignored: false, previous_status: 'trialing', status: 'active', plan: 'pro', period_reset: true, first_activation: true };

describe('stripe-webhook handler', () => {
  it('a Stripe outage while re-fetching → 500 and the claim is withdrawn (Stripe retries)', async () => {
    const { db, calls } = fakeDb((name) => ({ data: name === 'billing_claim_event' ? true : null, error: null }));
    const err = Object.assign(new Error('connect ECONNREFUSED'), { type: 'StripeConnectionError' });
    const res = await createHandler(deps(db, async () => { throw err; }))(request('customer.subscription.updated', SUB));
    expect(res.status).toBe(500);
    expect((await res.json()).code).toBe('processing_failed');
    expect(calls.find(([n]) => n === 'billing_finish_event')?.[1]).toMatchObject({ ok: false });
  });

  it('a database outage in apply → 500, claim withdrawn; a rule violation (P0001) → 200, recorded as failed', async () => {
    for (const [code, status, ok] of [['', 500, false], ['P0001', 200, true]] as const) {
      const { db, calls } = fakeDb((name) => {
        if (name === 'billing_claim_event') return { data: true, error: null };
        if (name === 'billing_tenant_for_customer') return { data: '7d1b6f5e-8a7b-4c1e-9a51-0d3c3f1b2a10', error: null };
        if (name === 'billing_apply_subscription') return { data: null, error: { code, message: code ? 'customer_mismatch: …' : 'fetch failed' } };
        return { data: null, error: null };
      });
      const res = await createHandler(deps(db, async () => SUB))(request('customer.subscription.updated', SUB));
      expect(res.status).toBe(status);
      expect(calls.find(([n]) => n === 'billing_finish_event')?.[1]).toMatchObject({ ok });
    }
  });

  it('applies the RE-FETCHED subscription, not the payload, then welcomes once', async () => {
    const { db, calls } = fakeDb((name) => {
      if (name === 'billing_claim_event') return { data: true, error: null };
      if (name === 'billing_tenant_for_customer') return { data: '7d1b6f5e-8a7b-4c1e-9a51-0d3c3f1b2a10', error: null };
      if (name === 'billing_apply_subscription') return { data: applied, error: null };
      if (name === 'billing_claim_welcome') return { data: false, error: null };
      return { data: null, error: null };
    });
    const res = await createHandler(deps(db, async () => SUB))(request('customer.subscription.created', { ...SUB, status: 'incomplete' }));
    expect(res.status).toBe(200);
    const apply = calls.find(([n]) => n === 'billing_apply_subscription')![1];
    expect(apply).toMatchObject({ subscription_status: 'active', plan: 'pro', period_start: new Date(1_800_000_000_000).toISOString() });
    expect(calls.map(([n]) => n)).toContain('billing_claim_welcome');
  });

  it('reconciles the recorded overage item with the re-fetched items: a removed one is forgotten; a stale read writes nothing', async () => {
    const TENANT = '7d1b6f5e-8a7b-4c1e-9a51-0d3c3f1b2a10';
    for (const stale of [false, true]) {
      const { db, calls } = fakeDb((name) => {
        if (name === 'billing_claim_event') return { data: true, error: null };
        if (name === 'billing_tenant_for_customer') return { data: TENANT, error: null };
        if (name === 'billing_apply_subscription') return { data: { ...applied, stale }, error: null };
        if (name === 'billing_claim_welcome') return { data: false, error: null };
        return { data: null, error: null };
      });
      const tables: string[] = [];
      db.from = vi.fn((table: string) => {
        tables.push(table);
        const row = table === 'billing_overage_items'
          ? { subscription_id: 'sub_unit', item_id: 'si_over', price_id: 'price_over' } : { label: 'Pro' };
        return { select: () => ({ eq: () => ({ maybeSingle: async () => ({ data: row, error: null }) }) }) };
      }) as never;
      // The payload still lists the overage item; Stripe (re-fetched) no longer has it.
      const payload = { ...SUB, items: { data: [...SUB.items.data, { id: 'si_over', price: { id: 'price_over', lookup_key: 'servicepro_sms_overage' } }] } };
      const res = await createHandler(deps(db, async () => SUB))(request('customer.subscription.updated', payload));
      expect(res.status).toBe(200);
      const set = calls.filter(([n]) => n === 'billing_overage_item_set');
      if (stale) {
        expect(set).toEqual([]);
        expect(tables).not.toContain('billing_overage_items');
      } else {
        expect(set.map(([, a]) => a)).toEqual([{ tenant_id: TENANT, subscription_id: 'sub_unit', item_id: null, price_id: null }]);
        expect((await res.json()).result).toMatch(/overage item gone at Stripe; forgotten/);
      }
    }
  });

  it('a duplicate does no work; an ignored type never touches the database; a bad signature → 400', async () => {
    const { db, calls } = fakeDb(() => ({ data: false, error: null }));
    const retrieve = vi.fn(async () => SUB);
    const h = createHandler(deps(db, retrieve));
    const dup = await h(request('invoice.paid', { id: 'in_1', customer: 'cus_unit', created: 1 }));
    expect(await dup.json()).toMatchObject({ duplicate: true });
    expect(retrieve).not.toHaveBeenCalled();
    expect(calls.map(([n]) => n)).toEqual(['billing_claim_event']);
    const ignored = await h(request('payment_intent.created', {}));
    expect(await ignored.json()).toMatchObject({ ignored: true });
    expect(calls).toHaveLength(1);
    expect((await h(request('invoice.paid', {}, 'whsec_other'))).status).toBe(400);
    expect((await h(new Request('http://fn.test', { method: 'GET' }))).status).toBe(405);
  });
});
