/**
 * The environment the Stripe functions share, read once at boot (see supabase/functions/.env.example).
 */
import { EMAIL_ENV } from '../email.ts';
import { PLATFORM_ENV, readEnv, getterOf } from '../env.ts';
import { STRIPE_ENV } from '../stripe.ts';
import { OVERAGE_ENV } from './overage.ts';
import { PRICE_ENV } from './prices.ts';
import { TWILIO_WELCOME_ENV } from './welcome.ts';

export const BILLING_ENV = {
  ...PLATFORM_ENV,
  ...STRIPE_ENV,
  ...PRICE_ENV,
  ...OVERAGE_ENV,
  APP_URL: { description: 'Public URL of the PWA: Checkout and the portal return here.' },
} as const;

export const WEBHOOK_ENV = {
  ...BILLING_ENV,
  STRIPE_WEBHOOK_SECRET: true,
  ...EMAIL_ENV,
  ...TWILIO_WELCOME_ENV,
} as const;

export function readBillingEnv(env: { get(name: string): string | undefined }) {
  return readEnv(getterOf(env), { ...BILLING_ENV, APP_URL: true });
}

export function readWebhookEnv(env: { get(name: string): string | undefined }) {
  return readEnv(getterOf(env), { ...WEBHOOK_ENV, APP_URL: true });
}
