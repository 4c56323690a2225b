/**
 * POST /functions/v1/twilio-inbound (verify_jwt = false) — Twilio's incoming-message webhook.
 * Same signature rule as twilio-status (the platform's token, or the token of the shop's subaccount / BYO account
 * named by AccountSid; a shop's account may only speak for its own numbers, else 403 and nothing written). The shop
 * is found by the To number: a shop's own number → that shop (a STOP there concerns that shop only); the shared
 * number → the shop that last texted this person from it (a STOP there concerns every shop using it). STOP/STOPALL/UNSUBSCRIBE/CANCEL/END/QUIT opt out, START/UNSTOP/YES opt back
 * in, HELP/INFO get a reply naming the shop; everything else lands in the customer's thread (a new customer when
 * the number is unknown), counts as sms_inbound usage and shows as unread in the app. Replies are TwiML.
 */
import { getterOf, readEnv, PLATFORM_ENV } from '../_shared/env.ts';
import { allowMethods, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger } from '../_shared/log.ts';
import { serviceClient } from '../_shared/supabase.ts';
import { rpcFromClient } from '../_shared/messaging/deliver.ts';
import { classifyKeyword } from '../_shared/messaging/keywords.ts';
import { lazyKeyring } from '../_shared/messaging/sender.ts';
import { field as one, notYours, verifiedForm, type TwilioWebhookDeps } from '../_shared/messaging/webhook.ts';
import { credentialStore, numberByE164, tenantAccountResolver } from '../_shared/telephony/accounts.ts';
import { keyringFromEnv } from '../_shared/telephony/crypto.ts';
import { platformAccountResolver, twimlResponse } from '../_shared/twilio.ts';

export interface InboundDeps extends TwilioWebhookDeps {
  sharedNumber: string;
  /** The shop whose live (not released) number this is, or null. */
  numberOwner(e164: string): Promise<string | null>;
}

export function createHandler(deps: InboundDeps): Handler {
  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    const { params: p, account } = await verifiedForm(req, deps, 'twilio-inbound');
    const from = one(p, 'From') ?? '', to = one(p, 'To') ?? '', body = one(p, 'Body') ?? '';
    if (account.tenantId !== null) {
      // Signed by a shop's account: only a text to that shop's own number (never the shared one, never another's).
      if (to === deps.sharedNumber || (await deps.numberOwner(to)) !== account.tenantId) {
        throw notYours(deps, 'twilio-inbound', account, to);
      }
    }
    const sid = one(p, 'MessageSid') ?? one(p, 'SmsSid');
    if (!sid || !/^\+[1-9]\d{6,14}$/.test(from) || !/^\+[1-9]\d{6,14}$/.test(to)) {
      deps.log.warn('inbound without sid or E.164 numbers; ignored', { sid });
      return twimlResponse();
    }
    const n = Number(one(p, 'NumMedia') ?? '0');
    const media: string[] = [];
    for (let i = 0; i < Math.min(Number.isFinite(n) ? n : 0, 10); i++) {
      const u = one(p, `MediaUrl${i}`);
      if (u) media.push(u);
    }
    const keyword = classifyKeyword(body, one(p, 'OptOutType'));
    const r = await deps.rpc('messaging_record_inbound', {
      sms_sid: sid, from_phone: from, to_phone: to, body, media_urls: media, to_shared: to === deps.sharedNumber,
      keyword, num_segments: Number(one(p, 'NumSegments') ?? '1') || 1,
    }) as { tenant_id: string | null; tenant_name?: string; tenant_phone?: string | null; duplicate: boolean };
    deps.log.info('inbound', { sid, keyword, tenant_id: r.tenant_id, duplicate: r.duplicate });
    if (r.duplicate || !r.tenant_id) return twimlResponse();
    if (keyword === 'help') {
      const reach = r.tenant_phone ? ` Call us at ${r.tenant_phone}.` : ' Reply here and we will get back to you.';
      return twimlResponse([`${r.tenant_name}: texts about your service.${reach} Reply STOP to opt out. Msg&data rates may apply.`]);
    }
    // STOP/START: carriers and Twilio's Advanced Opt-Out send the confirmation themselves.
    return twimlResponse();
  }, deps.log);
}

export function depsFromEnv(env: { get(name: string): string | undefined }): InboundDeps {
  const e = readEnv(getterOf(env), {
    SUPABASE_URL: PLATFORM_ENV.SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY: PLATFORM_ENV.SUPABASE_SERVICE_ROLE_KEY,
    TWILIO_ACCOUNT_SID: true, TWILIO_AUTH_TOKEN: true, TWILIO_WEBHOOK_BASE_URL: true, TWILIO_SHARED_NUMBER: true,
  });
  const service = serviceClient(e);
  const store = credentialStore(service, lazyKeyring(() => keyringFromEnv((k) => env.get(k))));
  return {
    rpc: rpcFromClient(service),
    accounts: platformAccountResolver(e.TWILIO_ACCOUNT_SID, e.TWILIO_AUTH_TOKEN, tenantAccountResolver(store)),
    numberOwner: async (e164) => (/^\+[1-9]\d{6,14}$/.test(e164) ? (await numberByE164(service, e164))?.tenant_id ?? null : null),
    webhookBase: e.TWILIO_WEBHOOK_BASE_URL,
    sharedNumber: e.TWILIO_SHARED_NUMBER,
    log: createLogger('twilio-inbound'),
  };
}
