/** The email outbox accepts Resend-shaped requests, validates them like Resend, and keeps what it received. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmailOutbox } from '../../local/emulators/email/index.ts';
import type { RunningService } from '../../local/lib/types.ts';
import { freePort } from '../helpers/ports.ts';

const PORT = await freePort();
let outbox: RunningService & { url: string };

beforeAll(async () => { outbox = await startEmailOutbox({ port: PORT, log: { info() {}, warn() {}, error() {} } }); });
afterAll(async () => { await outbox?.stop(); });
beforeEach(async () => { await fetch(`${outbox.url}/_emulator/reset`, { method: 'POST' }); });

function post(path: string, body: unknown, headers: Record<string, string> = { authorization: 'Bearer re_test_key' }) {
  return fetch(`${outbox.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}
const inspect = async (what: string) => (await fetch(`${outbox.url}/_emulator/${what}`)).json();

describe('email outbox', () => {
  it('accepts an email, answers {id}, and lists it for inspection', async () => {
    const res = await post('/emails', { from: 'ServicePro <no-reply@servicepro.test>', to: 'owner@shop.test', subject: 'Welcome', html: '<p>Hi</p>' });
    expect(res.status).toBe(200);
    const { id } = await res.json();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const emails = await inspect('emails');
    expect(emails).toEqual([expect.objectContaining({ id, from: 'ServicePro <no-reply@servicepro.test>', to: ['owner@shop.test'], subject: 'Welcome', html: '<p>Hi</p>', text: null })]);
    const fetched = await (await fetch(`${outbox.url}/emails/${id}`, { headers: { authorization: 'Bearer re_test_key' } })).json();
    expect(fetched).toMatchObject({ object: 'email', id, last_event: 'delivered' });
    const log = await inspect('requests');
    expect(log).toEqual([
      expect.objectContaining({ method: 'POST', path: '/emails', status: 200, body: expect.objectContaining({ subject: 'Welcome' }) }),
      expect.objectContaining({ method: 'GET', path: `/emails/${id}`, status: 200 }),
    ]);
    expect(JSON.stringify(log)).not.toContain('re_test_key');
  });

  it('refuses missing or empty keys and invalid emails with Resend\'s error body, keeping nothing', async () => {
    const noKey = await post('/emails', { from: 'a@b.test', to: 'c@d.test', subject: 's', text: 't' }, {});
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ statusCode: 401, name: 'missing_api_key' });
    expect((await post('/emails', { from: 'a@b.test', to: 'c@d.test', subject: 's', text: 't' }, { authorization: 'Bearer ' })).status).toBe(403);
    const cases: [unknown, string][] = [
      [{ to: 'c@d.test', subject: 's', text: 't' }, 'Missing `from` field.'],
      [{ from: 'a@b.test', subject: 's', text: 't' }, 'Missing `to` field.'],
      [{ from: 'a@b.test', to: 'c@d.test', text: 't' }, 'Missing `subject` field.'],
      [{ from: 'a@b.test', to: 'c@d.test', subject: 's' }, 'Missing `html` or `text` field.'],
      [{ from: 'a@b.test', to: 'not an address', subject: 's', text: 't' }, 'Invalid `to` field.'],
      [{ from: 'a@b.test', to: Array.from({ length: 51 }, (_, i) => `u${i}@x.test`), subject: 's', text: 't' }, 'at most 50'],
    ];
    for (const [body, message] of cases) {
      const r = await post('/emails', body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      const err = await r.json();
      expect(err).toMatchObject({ statusCode: 422, name: 'validation_error' });
      expect(err.message).toContain(message);
    }
    expect((await post('/emails', '{not json')).status).toBe(400);
    expect(await inspect('emails')).toEqual([]);
  });

  it('sends a batch all-or-nothing and honours Idempotency-Key', async () => {
    const good = { from: 'a@b.test', to: ['c@d.test'], subject: 's', text: 't' };
    const bad = await post('/emails/batch', [good, { ...good, to: 'nope' }]);
    expect(bad.status).toBe(422);
    expect(await inspect('emails')).toEqual([]);
    const batch = await post('/emails/batch', [good, { ...good, subject: 's2' }]);
    expect((await batch.json()).data).toHaveLength(2);

    const key = { authorization: 'Bearer re_test_key', 'idempotency-key': 'welcome/user-1' };
    const first = await (await post('/emails', good, key)).json();
    const again = await (await post('/emails', good, key)).json();
    expect(again.id).toBe(first.id);
    const conflict = await post('/emails', { ...good, subject: 'other' }, key);
    expect(conflict.status).toBe(409);
    expect((await conflict.json()).name).toBe('invalid_idempotent_request');
    expect(await inspect('emails')).toHaveLength(3);
  });
});
