/**
 * The Stripe client for edge functions. Production talks to api.stripe.com; with STRIPE_API_URL set (the local
 * stack's emulator) the same SDK is pointed at that host. Always the fetch HTTP client (Deno has no Node http).
 */
import Stripe from 'stripe';
import type { EnvSpec } from './env.ts';

export const STRIPE_ENV = {
  STRIPE_SECRET_KEY: true,
  STRIPE_API_URL: { optional: true, description: 'Only for the local emulator; unset in production.' },
} as const satisfies EnvSpec;

export function stripeClient(env: { STRIPE_SECRET_KEY: string; STRIPE_API_URL?: string }): Stripe {
  const host: Stripe.StripeConfig = {};
  if (env.STRIPE_API_URL) {
    const u = new URL(env.STRIPE_API_URL);
    host.host = u.hostname;
    host.port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    host.protocol = u.protocol.replace(':', '') as 'http' | 'https';
  }
  return new Stripe(env.STRIPE_SECRET_KEY, {
    httpClient: Stripe.createFetchHttpClient(),
    maxNetworkRetries: 2,
    timeout: 20_000,
    ...host,
  });
}

export { Stripe };
