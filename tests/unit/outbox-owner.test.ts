/**
 * Shared devices (issue 8): an outbox entry is sent with the session of whoever drains it, so each entry remembers
 * who made it and only that person's session lists or sends it. The previous person's entries stay on the device
 * (nothing is lost) and go when they sign in again.
 */
import { describe, expect, it, vi } from 'vitest';
import { memoryKeyedStore, ownedKeyedStore } from '../../web/src/lib/outbox.ts';
import { onOutboxOwnerChange, outboxOwner, setOutboxOwner } from '../../web/src/lib/outboxOwner.ts';
import { createSendOutbox, type SendEntry, type SendTransport } from '../../web/src/features/messaging/outbox.ts';
import { createOutbox, memoryStorage, type CaptureTransport, type OutboxEntry } from '../../web/src/features/capture/outbox.ts';
import type { SendArgs } from '../../web/src/features/messaging/api.ts';

const send = (key: string) => ({ key, tenantId: 't', customerId: 'c', template: 'pickup_ready' as const, label: 'Ready for pickup to Victor Silva' });

function sendServer() {
  const calls: Array<SendArgs & { as: string | null }> = [];
  let session: string | null = null;
  const transport: SendTransport = {
    async send(args) {
      calls.push({ ...args, as: session });
      return { id: `m-${calls.length}`, status: 'pending', segments: 1, send_at: null };
    },
  };
  return { transport, calls, signIn(u: string | null) { session = u; } };
}

describe('owned outbox storage', () => {
  it('lists only the signed-in user\'s entries, nothing while signed out, and stamps new entries with the owner', async () => {
    let me: string | null = 'alice';
    const raw = memoryKeyedStore<SendEntry>('key');
    const store = ownedKeyedStore(raw, () => me);
    await store.put({ ...send('a1'), createdAt: 1, state: 'queued', attempts: 0 });
    expect((await raw.all())[0]!.userId).toBe('alice');
    me = 'bob';
    expect(await store.all()).toEqual([]);
    await store.put({ ...send('b1'), createdAt: 2, state: 'queued', attempts: 0 });
    expect((await store.all()).map((e) => e.key)).toEqual(['b1']);
    me = null;
    expect(await store.all()).toEqual([]);
    me = 'alice';
    expect((await store.all()).map((e) => e.key)).toEqual(['a1']);
    // An entry saved before entries had owners belongs to whoever is signed in (it cannot be attributed).
    await raw.put({ ...send('old'), createdAt: 0, state: 'queued', attempts: 0 });
    expect((await store.all()).map((e) => e.key).sort()).toEqual(['a1', 'old']);
    // A put of an existing entry never changes its owner.
    await store.put({ ...(await raw.all()).find((e) => e.key === 'b1')!, attempts: 3 });
    expect((await raw.all()).find((e) => e.key === 'b1')).toMatchObject({ userId: 'bob', attempts: 3 });
  });

  it('the send outbox never sends someone else\'s text with the current session', async () => {
    let me: string | null = 'alice';
    const server = sendServer();
    const box = createSendOutbox(ownedKeyedStore(memoryKeyedStore<SendEntry>('key'), () => me), server.transport);
    await box.add(send('k-alice'));
    // Alice signs out on the shop's tablet before it was back online; Bob signs in.
    me = 'bob';
    server.signIn('bob');
    expect(await box.list()).toEqual([]);
    expect(await box.drain({ online: () => true })).toMatchObject({ sent: 0, waiting: 0, failed: 0 });
    expect(server.calls).toEqual([]);
    // Alice again: her text goes, under her session, once.
    me = 'alice';
    server.signIn('alice');
    expect(await box.drain({ online: () => true })).toMatchObject({ sent: 1 });
    expect(server.calls.map((c) => [c.idempotencyKey, c.as])).toEqual([['k-alice', 'alice']]);
    expect(await box.drain({ online: () => true })).toMatchObject({ sent: 0 });
  });

  it('the capture outbox uploads only the signed-in user\'s photos', async () => {
    let me: string | null = 'alice';
    const uploads: string[] = [];
    const transport: CaptureTransport = {
      async upload(e) { uploads.push(`${e.clientId}@${me}`); return `t/${e.clientId}.jpg`; },
      async ocr(_t, _p, clientId) { return { id: clientId } as never; },
    };
    const box = createOutbox(ownedKeyedStore<OutboxEntry>(memoryStorage(), () => me), transport);
    await box.add({ clientId: 'photo-1', tenantId: 't', blob: new Blob(['x']) });
    me = 'bob';
    expect(await box.drain({ online: () => true })).toMatchObject({ done: 0, waiting: 0 });
    expect(await box.list()).toEqual([]);
    me = 'alice';
    expect(await box.drain({ online: () => true })).toMatchObject({ done: 1 });
    expect(uploads).toEqual(['photo-1@alice']);
  });

  it('the session sets the owner once per change and tells the outboxes', () => {
    const seen = vi.fn();
    const off = onOutboxOwnerChange(seen);
    setOutboxOwner('u1');
    setOutboxOwner('u1');
    setOutboxOwner(null);
    off();
    setOutboxOwner('u2');
    expect(seen.mock.calls).toEqual([['u1'], [null]]);
    expect(outboxOwner()).toBe('u2');
    setOutboxOwner(null);
  });
});
