import { describe, expect, it } from 'vitest';
import { createHandler } from '../../supabase/functions/health/handler.ts';
import { createLogger } from '../../supabase/functions/_shared/log.ts';

const log = createLogger('health', { sink: () => {} });
const handler = createHandler({ runtimeVersion: '2.9.6', now: () => new Date('2026-01-02T03:04:05.000Z'), log });

describe('health function', () => {
  it('GET answers ok with the time and the Deno version, uncached', async () => {
    const res = await handler(new Request('http://x/health'));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({ status: 'ok', time: '2026-01-02T03:04:05.000Z', deno: '2.9.6' });
  });

  it('answers a CORS preflight', async () => {
    const res = await handler(new Request('http://x/health', { method: 'OPTIONS' }));
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-methods')).toContain('GET');
  });

  it('refuses other methods with 405 method_not_allowed and an Allow header', async () => {
    const res = await handler(new Request('http://x/health', { method: 'POST', body: '{}' }));
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(await res.json()).toMatchObject({ code: 'method_not_allowed' });
  });
});
