/**
 * Onboarding when a shop first becomes active: a welcome email (email module) and, when the owner gave a phone,
 * a welcome SMS through Twilio's REST API from the platform's shared number. The SMS is platform mail, not the
 * shop's messaging: it is not counted against the shop's quota. Runs once per shop (billing_claim_welcome); a
 * failed email releases the claim so the next event (Stripe's retry) tries again.
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import type { EmailSender } from '../email.ts';
import type { EnvSpec } from '../env.ts';
import type { Log } from '../log.ts';

export const TWILIO_WELCOME_ENV = {
  TWILIO_API_URL: { default: 'https://api.twilio.com' },
  TWILIO_ACCOUNT_SID: { optional: true },
  TWILIO_AUTH_TOKEN: { optional: true },
  TWILIO_SHARED_NUMBER: { optional: true },
} as const satisfies EnvSpec;

export interface SmsConfig {
  TWILIO_API_URL: string;
  TWILIO_ACCOUNT_SID?: string;
  TWILIO_AUTH_TOKEN?: string;
  TWILIO_SHARED_NUMBER?: string;
}

/** Minimal Twilio Messages create (form POST, Basic auth). Returns the message SID. */
export async function sendPlatformSms(cfg: SmsConfig, to: string, body: string, fetchImpl: typeof fetch = fetch): Promise<string> {
  if (!cfg.TWILIO_ACCOUNT_SID || !cfg.TWILIO_AUTH_TOKEN || !cfg.TWILIO_SHARED_NUMBER) {
    throw new Error('Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_SHARED_NUMBER)');
  }
  const url = `${cfg.TWILIO_API_URL.replace(/\/+$/, '')}/2010-04-01/Accounts/${cfg.TWILIO_ACCOUNT_SID}/Messages.json`;
  const res = await fetchImpl(url, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${btoa(`${cfg.TWILIO_ACCOUNT_SID}:${cfg.TWILIO_AUTH_TOKEN}`)}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ To: to, From: cfg.TWILIO_SHARED_NUMBER, Body: body }),
  });
  const json = await res.json().catch(() => ({})) as { sid?: string; code?: number; message?: string };
  if (!res.ok || !json.sid) throw new Error(`Twilio refused the welcome SMS (${res.status} ${json.code ?? ''}: ${json.message ?? ''})`);
  return json.sid;
}

export interface WelcomeDeps {
  db: SupabaseClient;
  email: EmailSender;
  sms: SmsConfig;
  appUrl: string;
  log: Log;
  fetch?: typeof fetch;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));

/** Sends the welcome once. Returns what was sent; throws (after releasing the claim) when the email failed. */
export async function welcomeIfFirst(deps: WelcomeDeps, tenantId: string, planLabel: string): Promise<{ email: boolean; sms: boolean }> {
  const claim = await deps.db.rpc('billing_claim_welcome', { tenant_id: tenantId });
  if (claim.error) throw new Error(`billing_claim_welcome failed: ${claim.error.message}`);
  if (claim.data !== true) return { email: false, sms: false };
  const release = async () => { await deps.db.rpc('billing_claim_welcome', { tenant_id: tenantId, release: true }); };
  const contact = await deps.db.rpc('billing_onboarding_contact', { tenant_id: tenantId }).maybeSingle();
  if (contact.error) {
    await release();
    throw new Error(`billing_onboarding_contact failed: ${contact.error.message}`);
  }
  const c = (contact.data ?? {}) as { tenant_name?: string; shop_phone?: string | null; owner_email?: string | null; owner_phone?: string | null };
  const shop = c.tenant_name ?? 'your shop';
  let email = false;
  if (c.owner_email) {
    try {
      await deps.email.send({
        to: c.owner_email,
        subject: `Welcome to ServicePro ${planLabel}, ${shop}!`,
        text: `Your ${planLabel} subscription for ${shop} is active.\n\nOpen ServicePro: ${deps.appUrl}\n` +
          `Manage billing any time: ${deps.appUrl}/billing\n`,
        html: `<p>Your <strong>${escapeHtml(planLabel)}</strong> subscription for ${escapeHtml(shop)} is active.</p>` +
          `<p><a href="${escapeHtml(deps.appUrl)}">Open ServicePro</a> · ` +
          `<a href="${escapeHtml(deps.appUrl)}/billing">Manage billing</a></p>`,
        tags: [{ name: 'category', value: 'welcome' }],
      }, { idempotencyKey: `welcome-${tenantId}` });
      email = true;
    } catch (e) {
      await release();
      throw e;
    }
  }
  let sms = false;
  const phone = c.owner_phone ?? c.shop_phone;
  if (phone) {
    try {
      await sendPlatformSms(deps.sms, phone,
        `ServicePro: welcome aboard, ${shop}! Your ${planLabel} plan is active. Reply STOP to opt out.`, deps.fetch);
      sms = true;
    } catch (e) {
      // The email went out; a missing welcome SMS is not worth a second email, so the claim stays.
      deps.log.warn('welcome sms not sent', { tenant_id: tenantId, error: e });
    }
  }
  deps.log.info('welcomed', { tenant_id: tenantId, email, sms });
  return { email, sms };
}
