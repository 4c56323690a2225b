/**
 * The send outbox (issue 8): texts that cannot go now wait on the device with their idempotency key and are sent
 * once when the drain runs; the fake server dedupes by (tenant, idempotency_key) exactly as send-sms does.
 */
import { describe, expect, it } from 'vitest';
import { memoryKeyedStore } from '../../web/src/lib/outbox.ts';
import { backoffMs, createSendOutbox, type SendEntry, type SendTransport } from '../../web/src/features/messaging/outbox.ts';
import { createSendStore, QUEUED_OFFLINE } from '../../web/src/features/messaging/sendStore.ts';
import { outboxLead, sendLabel, sendStateText, waitingPhotos } from '../../web/src/features/messaging/outboxModel.ts';
import type { SendArgs, SentMessage } from '../../web/src/features/messaging/api.ts';

const err = (status: number | undefined, code: string, message = code) => Object.assign(new Error(message), { status, code });

/** send-sms as far as the outbox can tell: one message per (tenant, idempotency key), whatever the replays. */
function fakeSendSms() {
  const messages = new Map<string, SentMessage>();
  const calls: SendArgs[] = [];
  let fail: Error | null = null;
  let failAfterSend = false;
  const transport: SendTransport = {
    async send(args) {
      calls.push(args);
      if (fail && !failAfterSend) throw fail;
      const k = `${args.tenantId}/${args.idempotencyKey}`;
      if (!messages.has(k)) messages.set(k, { id: `m-${messages.size + 1}`, status: 'pending', segments: 1, send_at: null });
      if (fail && failAfterSend) throw fail; // the text went; the answer was lost
      return messages.get(k)!;
    },
  };
  return {
    transport, messages, calls,
    fail(e: Error | null, afterSend = false) { fail = e; failAfterSend = afterSend; },
  };
}

const send = (key: string, over: Partial<SendEntry> = {}) => ({ key, tenantId: 't', customerId: 'c', template: 'pickup_ready' as const, label: 'Ready for pickup', ...over });

describe('send outbox drain', () => {
  it('keeps texts while offline and sends each exactly once when back online (concurrent drains share a run)', async () => {
    const server = fakeSendSms();
    const sent: string[] = [];
    const box = createSendOutbox(memoryKeyedStore<SendEntry>('key'), server.transport, { onSent: (e) => sent.push(e.key) });
    let online = false;
    await box.add(send('k1'));
    await box.add(send('k2', { template: 'custom', body: 'Your car is ready' }));
    await box.add(send('k1')); // the same key again: still one entry
    expect(await box.drain({ online: () => online })).toMatchObject({ sent: 0, waiting: 2, offline: true });
    expect(server.calls).toEqual([]);

    online = true;
    const [a, b] = await Promise.all([box.drain({ online: () => online }), box.drain({ online: () => online })]);
    expect(a.sent + b.sent).toBeGreaterThanOrEqual(2);
    expect(server.calls.map((c) => c.idempotencyKey)).toEqual(['k1', 'k2']);
    expect(server.calls[1]).toMatchObject({ template: 'custom', body: 'Your car is ready', customerId: 'c', tenantId: 't' });
    expect(sent).toEqual(['k1', 'k2']);
    expect(await box.list()).toEqual([]);
  });

  it('a lost answer replays with the same key: the customer gets ONE text', async () => {
    const server = fakeSendSms();
    const box = createSendOutbox(memoryKeyedStore<SendEntry>('key'), server.transport);
    await box.add(send('k'));
    server.fail(err(undefined, 'network_error'), true);
    let t = 1_000_000;
    const r = await box.drain({ online: () => true, now: () => t });
    expect(r).toMatchObject({ sent: 0, waiting: 1, offline: true });
    const [entry] = await box.list();
    expect(entry).toMatchObject({ state: 'queued', attempts: 1, lastError: { code: 'network_error' } });
    server.fail(null);
    await box.drain({ online: () => true, now: () => t });
    expect(server.calls.map((c) => c.idempotencyKey)).toEqual(['k', 'k']);
    expect(server.messages.size).toBe(1);
    expect(await box.list()).toEqual([]);
  });

  it('a 5xx/429 while online backs off; an automatic drain waits, "Retry" (force) goes now', async () => {
    const server = fakeSendSms();
    const box = createSendOutbox(memoryKeyedStore<SendEntry>('key'), server.transport);
    await box.add(send('k'));
    let t = 5_000_000;
    server.fail(err(429, 'rate_limited'));
    expect(await box.drain({ online: () => true, now: () => t })).toMatchObject({ waiting: 1, offline: false });
    expect((await box.list())[0]).toMatchObject({ state: 'queued', notBefore: t + backoffMs(1) });
    server.fail(null);
    await box.drain({ online: () => true, now: () => t + 1000 });
    expect(server.calls.length).toBe(1); // still backing off
    await box.drain({ online: () => true, now: () => t + 1000, force: true });
    expect(server.calls.length).toBe(2);
    expect(await box.list()).toEqual([]);
    expect(backoffMs(1)).toBe(5000);
    expect(backoffMs(3)).toBe(20000);
    expect(backoffMs(40)).toBe(300000);
  });

  it('a refusal that will not pass (opted out) waits for a person instead of retrying forever', async () => {
    const server = fakeSendSms();
    const box = createSendOutbox(memoryKeyedStore<SendEntry>('key'), server.transport);
    await box.add(send('k'));
    server.fail(err(409, 'opted_out', 'This customer opted out.'));
    expect(await box.drain({ online: () => true })).toMatchObject({ failed: 1 });
    expect((await box.list())[0]).toMatchObject({ state: 'failed', permanent: true, lastError: { code: 'opted_out', message: 'This customer opted out.' } });
    await box.drain({ online: () => true });
    expect(server.calls.length).toBe(1);
    await box.discard('k');
    expect(await box.list()).toEqual([]);
  });
});

describe('send store', () => {
  const deps = (server: ReturnType<typeof fakeSendSms>, online: () => boolean) => {
    const timers: Array<{ fn: () => void; ms: number }> = [];
    const storage = memoryKeyedStore<SendEntry>('key');
    const later: string[] = [];
    const { store } = createSendStore({
      storage, transport: server.transport, online, onSentLater: (e) => later.push(e.key),
      setTimer: (fn, ms) => { timers.push({ fn, ms }); return timers.length; }, clearTimer: () => {},
    });
    return { store, storage, timers, later };
  };

  it('sends at once when online; offline it queues and says so; the drain sends it later', async () => {
    const server = fakeSendSms();
    let online = true;
    const { store, later } = deps(server, () => online);
    expect(await store.getState().send(send('a'))).toMatchObject({ kind: 'sent', message: { id: 'm-1' } });
    online = false;
    expect(await store.getState().send(send('b'))).toEqual({ kind: 'queued', reason: 'offline', message: QUEUED_OFFLINE });
    expect(store.getState().entries.map((e) => e.key)).toEqual(['b']);
    online = true;
    await store.getState().drain();
    expect(later).toEqual(['b']);
    expect(store.getState().entries).toEqual([]);
    expect(server.messages.size).toBe(2);
  });

  it('a retryable failure queues with the same key and schedules a retry; a refusal is thrown, nothing queued', async () => {
    const server = fakeSendSms();
    const { store, timers } = deps(server, () => true);
    server.fail(err(503, 'internal_error', 'ServicePro had a problem'));
    const r = await store.getState().send(send('a'));
    expect(r).toMatchObject({ kind: 'queued', reason: 'retry' });
    expect(r.kind === 'queued' && r.message).toMatch(/saved on this device/);
    expect(store.getState().entries[0]).toMatchObject({ key: 'a', attempts: 1 });
    expect(timers.length).toBe(1);
    server.fail(null);
    expect(timers[0]!.ms).toBeGreaterThan(4000); // the automatic retry waits out the backoff...
    await store.getState().drain(); // ...so an early drain (online/visible) leaves it alone
    expect(server.calls.length).toBe(1);
    await store.getState().drain({ force: true }); // Retry now
    expect(store.getState().entries).toEqual([]);
    expect(server.calls.map((c) => c.idempotencyKey)).toEqual(['a', 'a']);
    expect(server.messages.size).toBe(1);

    server.fail(err(402, 'quota_exceeded', 'Upgrade'));
    await expect(store.getState().send(send('q'))).rejects.toMatchObject({ code: 'quota_exceeded' });
    expect(store.getState().entries).toEqual([]);
  });

  it('labels and states read as words', () => {
    expect(sendLabel('pickup_ready')).toBe('Ready for pickup');
    expect(sendLabel('custom', 'Your   car is ready, and the invoice is attached to this text.')).toBe('Text: “Your car is ready, and the invoice is at…”');
    expect(sendStateText({ state: 'queued' }, false)).toBe('Waiting for the connection');
    expect(sendStateText({ state: 'queued', notBefore: 10_000 }, true, 4000)).toBe('Trying again in 6 s');
    expect(sendStateText({ state: 'failed', permanent: true }, true)).toMatch(/Not sent/);
  });

  it('the outbox screen never says nothing is waiting while photos are (they are listed on Snap)', () => {
    const none = { pending: 0, failed: 0 };
    expect(outboxLead({ waiting: 0, failed: 0 }, none, true)).toBe('Nothing is waiting: every text and photo from this device has gone out.');
    const lead = outboxLead({ waiting: 0, failed: 0 }, { pending: 1, failed: 0 }, true);
    expect(lead).not.toMatch(/nothing is waiting/i);
    expect(lead).toBe('No texts are waiting: every text from this device has gone out.');
    expect(outboxLead({ waiting: 0, failed: 0 }, { pending: 0, failed: 2 }, false)).toMatch(/^No texts are waiting/);
    expect(outboxLead({ waiting: 2, failed: 1 }, none, true)).toBe('2 texts waiting, 1 text not sent.');
    expect(outboxLead({ waiting: 1, failed: 0 }, none, false)).toBe("1 text waiting. You're offline: it goes out when you're back online.");
    expect(outboxLead({ waiting: 0, failed: 1 }, none, false)).toBe('1 text not sent.');
    expect(waitingPhotos(none)).toBeNull();
    expect(waitingPhotos({ pending: 1, failed: 0 })).toBe('1 photo waiting to upload');
    expect(waitingPhotos({ pending: 2, failed: 1 })).toBe('2 photos waiting to upload and 1 not uploaded');
    expect(waitingPhotos({ pending: 0, failed: 3 })).toBe('3 photos not uploaded');
  });
});
