/**
 * Round trips through the running stack's provider emulators, the way production code talks to the real
 * providers: Twilio through plain fetch against TWILIO_API_URL, Stripe through the `stripe` SDK against
 * STRIPE_API_URL. Webhooks land on a tiny receiver this test starts on a free loopback port, and their
 * signatures are checked with the providers' own SDK validators.
 * Skipped when the stack is configured with real provider keys (no emulator to talk to).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import twilio from 'twilio';
import { env } from '../helpers/env.ts';
import { startReceiver, type Receiver } from '../../local/emulators/_lib/receiver.ts';

const isLoopback = (url: string | undefined) => !!url && /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?/.test(url);

describe.skipIf(!isLoopback(process.env.TWILIO_API_URL))('Twilio emulator round trip', () => {
  let rx: Receiver;
  beforeAll(async () => { rx = await startReceiver(); });
  afterAll(async () => { await rx?.stop(); });

  it('creates a message with a StatusCallback and receives the signed callbacks in order', async () => {
    const config = await (await fetch(`${env.twilioApiUrl}/_emulator/config`)).json();
    const callbackUrl = `${rx.url}/twilio-status?tenant=contract`;
    const res = await fetch(`${env.twilioApiUrl}/2010-04-01/Accounts/${env.twilioAccountSid}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from(`${env.twilioAccountSid}:${env.twilioAuthToken}`).toString('base64'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ To: '+14155550142', From: config.sharedNumber, Body: 'Contract test: your car is ready', StatusCallback: callbackUrl }),
    });
    expect(res.status).toBe(201);
    const message = await res.json();
    expect(message).toMatchObject({ status: 'queued', account_sid: env.twilioAccountSid, num_segments: '1' });

    const callbacks = await rx.waitFor(2, (r) => new URLSearchParams(r.raw).get('MessageSid') === message.sid);
    const statuses = callbacks.map((c) => new URLSearchParams(c.raw).get('MessageStatus'));
    expect(statuses).toEqual(['sent', 'delivered']);
    for (const c of callbacks) {
      const params = Object.fromEntries(new URLSearchParams(c.raw));
      expect(twilio.validateRequest(env.twilioAuthToken, String(c.headers['x-twilio-signature']), c.url, params)).toBe(true);
      expect(c.url).toBe(callbackUrl);
    }
    const log = await (await fetch(`${env.twilioApiUrl}/_emulator/requests`)).json();
    expect(log.some((r: { body: { Body?: string }; account?: string }) => r.body.Body === 'Contract test: your car is ready' && r.account === env.twilioAccountSid)).toBe(true);
  });
});

describe.skipIf(!isLoopback(process.env.STRIPE_API_URL))('Stripe emulator round trip', () => {
  let rx: Receiver;
  let stripe: Stripe;
  let previousWebhookUrl: string | null = null;
  let changed = false;
  beforeAll(async () => {
    rx = await startReceiver();
    const u = new URL(env.stripeApiUrl);
    stripe = new Stripe(env.stripeSecretKey, {
      host: u.hostname, port: Number(u.port), protocol: u.protocol.replace(':', '') as 'http', httpClient: Stripe.createFetchHttpClient(),
    });
  });
  afterAll(async () => {
    if (changed) await setWebhookUrl(previousWebhookUrl);
    await rx?.stop();
  });

  async function setWebhookUrl(url: string | null) {
    const res = await fetch(`${env.stripeApiUrl}/_emulator/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ webhookUrl: url }) });
    expect(res.status).toBe(200);
  }

  it('checks out through the hosted page and delivers a correctly signed checkout.session.completed', async () => {
    const product = await stripe.products.create({ name: 'Contract test plan' });
    const price = await stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 2900, recurring: { interval: 'month' } });
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription', line_items: [{ price: price.id, quantity: 1 }], customer_email: 'contract@servicepro.test',
      client_reference_id: 'contract-tenant', subscription_data: { metadata: { tenant_id: 'contract-tenant' } },
      success_url: 'http://127.0.0.1:5173/billing/success?session_id={CHECKOUT_SESSION_ID}',
    });
    const page = await (await fetch(session.url!)).text();
    expect(page).toContain('<button type="submit">Pay</button>');
    const action = /<form method="post" action="([^"]+)"/.exec(page)![1];

    previousWebhookUrl = (await (await fetch(`${env.stripeApiUrl}/_emulator/config`)).json()).webhookUrl;
    await setWebhookUrl(`${rx.url}/stripe-webhook`);
    changed = true;
    let paid: Response;
    try {
      // The Pay handler delivers the session's events before it answers, so the window stays short.
      paid = await fetch(new URL(action, session.url!), { method: 'POST', redirect: 'manual' });
    } finally {
      await setWebhookUrl(previousWebhookUrl);
      changed = false;
    }
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toBe(`http://127.0.0.1:5173/billing/success?session_id=${session.id}`);

    const [hook] = await rx.waitFor(1, (r) => r.raw.includes('"checkout.session.completed"') && r.raw.includes(session.id));
    const event = await stripe.webhooks.constructEventAsync(hook.raw, String(hook.headers['stripe-signature']), env.stripeWebhookSecret, 300, Stripe.createSubtleCryptoProvider());
    expect(event.type).toBe('checkout.session.completed');
    const completed = event.data.object as Stripe.Checkout.Session;
    expect(completed).toMatchObject({ id: session.id, status: 'complete', client_reference_id: 'contract-tenant' });
    const sub = await stripe.subscriptions.retrieve(completed.subscription as string);
    expect(sub).toMatchObject({ status: 'active', metadata: { tenant_id: 'contract-tenant' } });
    const types = rx.received.filter((r) => r.raw.includes(sub.id) || r.raw.includes(session.id)).map((r) => JSON.parse(r.raw).type);
    expect(types.indexOf('customer.subscription.created')).toBeLessThan(types.indexOf('invoice.paid'));
    expect(types.indexOf('invoice.paid')).toBeLessThan(types.indexOf('checkout.session.completed'));
  });
});
