/**
 * Signed Twilio form webhooks (twilio-status, twilio-inbound): read the form, verify X-Twilio-Signature over the
 * configured public URL with the token of the account named by AccountSid, fail closed (403, nothing written).
 */
import { HttpError } from '../http.ts';
import type { Log } from '../log.ts';
import type { Rpc } from './deliver.ts';
import { formParams, publicWebhookUrl, validateSignature, type FormParams, type TokenResolver } from '../twilio.ts';

export interface TwilioWebhookDeps {
  rpc: Rpc;
  tokens: TokenResolver;
  /** TWILIO_WEBHOOK_BASE_URL: the public functions base Twilio is configured with. */
  webhookBase: string;
  log: Log;
}

/** The first value of a form field, or null. */
export const field = (p: FormParams, k: string): string | null => {
  const v = p[k];
  return v === undefined ? null : Array.isArray(v) ? v[0] ?? null : v;
};

export async function verifiedForm(req: Request, deps: TwilioWebhookDeps, fnName: string): Promise<FormParams> {
  const ct = req.headers.get('content-type') ?? '';
  if (!ct.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new HttpError(403, 'invalid_signature', 'Twilio webhooks are signed form posts.');
  }
  const raw = await req.text();
  if (raw.length > 64 * 1024) throw new HttpError(413, 'payload_too_large', 'The request body is too large.');
  const params = formParams(raw);
  const signature = req.headers.get('x-twilio-signature');
  const token = await deps.tokens.tokenFor(field(params, 'AccountSid'));
  const url = publicWebhookUrl(deps.webhookBase, fnName, req);
  if (!token || !(await validateSignature(token, signature, url, params))) {
    deps.log.warn('rejected webhook: bad or missing signature', { endpoint: fnName, account: field(params, 'AccountSid'), signed: !!signature });
    throw new HttpError(403, 'invalid_signature', 'The request is not signed by Twilio for this endpoint.');
  }
  return params;
}
