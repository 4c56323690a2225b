/**
 * POST /functions/v1/stripe-overage — metered SMS overage: subscription items and usage reports to Stripe.
 *
 * Callers:
 * - the service role (pg_cron → pg_net every 15 minutes with the Vault key `cron_function_key`; any server job),
 *   body `{}` or `{ "tenant_id": "…" }`: every live subscription whose overage item does not match its policy is
 *   fixed, then every pending overage delta is reported (claim → meter event → mark sent). One shop's Stripe
 *   trouble never stops the others: failures are listed in the answer and retried by the next run.
 * - an owner/admin, body `{ "tenant_id": "…" }` (the billing page, right after switching the policy): that shop's
 *   item is added or removed now and its pending overage reported. Answers
 *   `{ overage_policy, subscription, item, reported }` where item is added | found | removed | removal_deferred |
 *   unchanged | none (no live subscription: checkout adds the item).
 * The job runs here rather than in usage-aggregate: see private.overage_cron_tick() in the migration.
 */
import type Stripe from 'stripe';
import type { SupabaseClient } from '@supabase/supabase-js';
import { authDepsFromClient, bearerToken, requireUser, type AuthDeps } from '../_shared/auth.ts';
import { parseTenantId, requireTenantRole } from '../_shared/billing/access.ts';
import { stripeHttpError } from '../_shared/billing/manage.ts';
import {
  OVERAGE_ENV, overageConfigFrom, overageItemWork, reportOverage, syncOverageItem,
  type ItemOutcome, type OverageConfig, type OverageDeps,
} from '../_shared/billing/overage.ts';
import { PLATFORM_ENV, getterOf, readEnv } from '../_shared/env.ts';
import { HttpError, allowMethods, json, readJson, withErrors, type Handler } from '../_shared/http.ts';
import { createLogger, type Log } from '../_shared/log.ts';
import { STRIPE_ENV, stripeClient } from '../_shared/stripe.ts';
import { anonClient, serviceClient } from '../_shared/supabase.ts';

export interface StripeOverageDeps {
  serviceRoleKey: string;
  auth: AuthDeps;
  db: SupabaseClient;
  stripe: Stripe;
  overage: OverageConfig;
  log: Log;
  now?: () => number;
}

/** Constant-time comparison (length leaks, content does not). */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

export function parseBody(raw: unknown): { tenantId: string | null } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new HttpError(400, 'invalid_body', 'The body must be a JSON object such as {"tenant_id": "…"}.');
  }
  const b = raw as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (k !== 'tenant_id') throw new HttpError(400, 'invalid_body', `Unknown field "${k.slice(0, 40)}".`);
  }
  return { tenantId: b.tenant_id === undefined || b.tenant_id === null ? null : parseTenantId(b.tenant_id) };
}

export function createHandler(deps: StripeOverageDeps): Handler {
  const od: OverageDeps = { stripe: deps.stripe, db: deps.db, overage: deps.overage, log: deps.log, now: deps.now };
  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    const token = bearerToken(req);
    const isService = token !== null && sameSecret(token, deps.serviceRoleKey);
    if (!isService) {
      const user = await requireUser(req, deps.auth);
      const { tenantId } = parseBody(await readJson(req, 4096));
      if (!tenantId) throw new HttpError(400, 'invalid_tenant_id', 'tenant_id must be the id (uuid) of one of your shops.');
      await requireTenantRole(deps.db, user.id, tenantId, 'admin');
      const [work] = await overageItemWork(deps.db, tenantId);
      const policy = await deps.db.from('tenants').select('overage_policy').eq('id', tenantId).single();
      if (policy.error) throw new HttpError(503, 'database_unavailable', 'The shop could not be read. Please try again.');
      let item: ItemOutcome | 'none' = 'none';
      let reported = 0;
      try {
        if (work) {
          item = await syncOverageItem(od, work);
          reported = (await reportOverage(od, { tenantId, rounds: 2 })).segments;
        }
      } catch (e) {
        throw stripeHttpError(e, deps.log);
      }
      return json(200, {
        overage_policy: (policy.data as { overage_policy: string }).overage_policy,
        subscription: !!work, item, reported,
      }, { 'Cache-Control': 'no-store' });
    }

    const { tenantId } = parseBody(await readJson(req, 4096));
    const items: Record<string, number> = {};
    const failures: Array<{ tenant_id: string; step: string; error: string }> = [];
    for (const w of await overageItemWork(deps.db, tenantId)) {
      try {
        const outcome = await syncOverageItem(od, w);
        items[outcome] = (items[outcome] ?? 0) + 1;
      } catch (e) {
        const err = e as { type?: string; statusCode?: number; message?: string };
        failures.push({ tenant_id: w.tenant_id, step: 'item', error: `${err.type ?? 'Error'} ${err.statusCode ?? ''}: ${err.message ?? e}`.slice(0, 300) });
        deps.log.error('overage item sync failed', { tenant_id: w.tenant_id, error: e });
      }
    }
    const report = await reportOverage(od, { tenantId });
    for (const f of report.failures) failures.push({ tenant_id: f.tenant_id, step: 'report', error: f.error });
    deps.log.info('overage run', { items, sent: report.sent, segments: report.segments, failed: report.failed });
    return json(200, { items, reported: { events: report.sent, segments: report.segments }, failures },
      { 'Cache-Control': 'no-store' });
  }, deps.log, { cors: true });
}

export function depsFromEnv(env: { get(name: string): string | undefined }): StripeOverageDeps {
  const e = readEnv(getterOf(env), { ...PLATFORM_ENV, ...STRIPE_ENV, ...OVERAGE_ENV });
  return {
    serviceRoleKey: e.SUPABASE_SERVICE_ROLE_KEY,
    auth: authDepsFromClient(anonClient(e)),
    db: serviceClient(e),
    stripe: stripeClient(e),
    overage: overageConfigFrom(e),
    log: createLogger('stripe-overage'),
  };
}
