/**
 * Signed Twilio form webhooks (twilio-status, twilio-inbound): read the form, verify X-Twilio-Signature over the
 * configured public URL with the token of the account named by AccountSid — the platform account, or a shop's
 * subaccount / bring-your-own account from the credential store — and fail closed (403, nothing written).
 * The verified account is returned so the handler can check that what the request is about (a message, a number)
 * belongs to that account's shop: a shop's valid signature never speaks for another shop.
 */
import { HttpError } from '../http.ts';
import type { Log } from '../log.ts';
import type { Rpc } from './deliver.ts';
import { formParams, publicWebhookUrl, validateSignature, type AccountResolver, type FormParams, type WebhookAccount } from '../twilio.ts';

export interface TwilioWebhookDeps {
  rpc: Rpc;
  accounts: AccountResolver;
  /** TWILIO_WEBHOOK_BASE_URL: the public functions base Twilio is configured with. */
  webhookBase: string;
  log: Log;
}

/** The first value of a form field, or null. */
export const field = (p: FormParams, k: string): string | null => {
  const v = p[k];
  return v === undefined ? null : Array.isArray(v) ? v[0] ?? null : v;
};

export interface VerifiedForm {
  params: FormParams;
  /** The account whose token signed the request (tenantId null: the platform account). */
  account: WebhookAccount;
}

export async function verifiedForm(req: Request, deps: TwilioWebhookDeps, fnName: string): Promise<VerifiedForm> {
  const ct = req.headers.get('content-type') ?? '';
  if (!ct.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new HttpError(403, 'invalid_signature', 'Twilio webhooks are signed form posts.');
  }
  const raw = await req.text();
  if (raw.length > 64 * 1024) throw new HttpError(413, 'payload_too_large', 'The request body is too large.');
  const params = formParams(raw);
  const signature = req.headers.get('x-twilio-signature');
  const account = await deps.accounts.accountFor(field(params, 'AccountSid'));
  const url = publicWebhookUrl(deps.webhookBase, fnName, req);
  if (!account || !(await validateSignature(account.authToken, signature, url, params))) {
    deps.log.warn('rejected webhook: bad or missing signature', { endpoint: fnName, account: field(params, 'AccountSid'), signed: !!signature });
    throw new HttpError(403, 'invalid_signature', 'The request is not signed by Twilio for this endpoint.');
  }
  return { params, account };
}

/** 403 for a validly signed request about something that is not the signing account's shop's. Nothing is written. */
export function notYours(deps: TwilioWebhookDeps, fnName: string, account: WebhookAccount, what: string): HttpError {
  deps.log.warn('rejected webhook: signed by an account that does not own it', { endpoint: fnName, account: account.accountSid, what });
  return new HttpError(403, 'invalid_signature', 'The request is not signed by Twilio for this endpoint.');
}
