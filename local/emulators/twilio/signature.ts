/**
 * X-Twilio-Signature as Twilio computes it for form webhooks: HMAC-SHA1 keyed with the Auth Token of the
 * account that owns the resource, over the exact URL requested (scheme, host, port, path, query as sent)
 * followed by every POST parameter sorted by name, as name+value with no separators (a list value: each
 * distinct value, sorted). Base64-encoded.
 */
import crypto from 'node:crypto';
import type { FlatForm } from '../_lib/form.ts';

export function twilioSignature(authToken: string, url: string, params: FlatForm): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const v = params[key];
    if (Array.isArray(v)) for (const one of Array.from(new Set(v)).sort()) data += key + one;
    else data += key + v;
  }
  return crypto.createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}
