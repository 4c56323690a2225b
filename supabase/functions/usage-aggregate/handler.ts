/**
 * POST /functions/v1/usage-aggregate — runs the usage aggregation and sends the usage emails.
 *
 * Callers: the service role (pg_cron through pg_net with the Vault key `cron_function_key`; any server job) or a
 * signed-in platform admin (the /admin page's "Run aggregation"). Body (all optional):
 *   { "from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "aggregate": true, "digest": false }
 * - aggregate: run public.aggregate_usage(from, to) (default the trailing 62 days through today, UTC);
 * - then, always: email the owners every 80 % / 100 % alert not yet emailed (claimed in the database, sent with
 *   the Idempotency-Key `usage-alert/<alert id>/<address>`, marked emailed only once every owner got it);
 * - digest (service role only): the daily usage email of shops that turned it on, once per UTC day.
 * Answers 200 { aggregation, alertsEmailed, digestsEmailed, failures }.
 */
import type { AuthDeps } from '../_shared/auth.ts';
import { bearerToken, requireUser } from '../_shared/auth.ts';
import type { EmailSender } from '../_shared/email.ts';
import { allowMethods, HttpError, json, readJson, withErrors, type Handler } from '../_shared/http.ts';
import type { Log } from '../_shared/log.ts';
import { alertEmail, dailyEmail, type AlertForEmail, type LimitRow } from '../_shared/usage/emails.ts';

/** The part of a supabase-js client this function uses. */
export interface RpcClient {
  rpc(fn: string, args?: Record<string, unknown>): PromiseLike<{ data: unknown; error: { code?: string; message: string } | null }>;
}

export interface UsageAggregateDeps {
  serviceRoleKey: string;
  auth: AuthDeps;
  /** A client that acts with the caller's access token (RLS and the RPCs' own checks apply). */
  userRpc(authorization: string): RpcClient;
  /** The service-role client (claiming and marking alerts, aggregation for the service caller). */
  serviceRpc: RpcClient;
  email: EmailSender;
  appUrl: string;
  log: Log;
}

export interface UsageAggregateBody {
  from?: string;
  to?: string;
  aggregate?: boolean;
  digest?: boolean;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function validDate(v: unknown, name: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || !DATE.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))
      || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) {
    throw new HttpError(400, 'invalid_argument', `${name} must be a date written YYYY-MM-DD.`);
  }
  return v;
}

export function parseBody(raw: unknown): Required<Pick<UsageAggregateBody, 'aggregate' | 'digest'>> & { from: string | null; to: string | null } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new HttpError(400, 'invalid_argument', 'The body must be a JSON object.');
  }
  const b = raw as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!['from', 'to', 'aggregate', 'digest'].includes(k)) throw new HttpError(400, 'invalid_argument', `Unknown field "${k.slice(0, 40)}".`);
  }
  for (const k of ['aggregate', 'digest'] as const) {
    if (b[k] !== undefined && typeof b[k] !== 'boolean') throw new HttpError(400, 'invalid_argument', `${k} must be true or false.`);
  }
  const from = validDate(b.from, 'from');
  const to = validDate(b.to, 'to');
  if (from && to && from > to) throw new HttpError(400, 'invalid_argument', 'from must not be after to.');
  return { from, to, aggregate: b.aggregate !== false, digest: b.digest === true };
}

/** Constant-time comparison of two strings (length leaks, content does not). */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

function rpcError(what: string, e: { code?: string; message: string }): HttpError {
  if (e.code === '42501') return new HttpError(403, 'forbidden', 'Platform admins only.');
  if (e.code === '22023') return new HttpError(400, 'invalid_argument', e.message.replace(/^[a-z_]+:\s*/, ''));
  return new HttpError(502, 'database_error', `${what} failed.`);
}

export function createHandler(deps: UsageAggregateDeps): Handler {
  const { log } = deps;
  return withErrors(async (req) => {
    allowMethods(req, ['POST']);
    const token = bearerToken(req);
    const isService = token !== null && sameSecret(token, deps.serviceRoleKey);
    let caller: RpcClient = deps.serviceRpc;
    let who = 'service';
    if (!isService) {
      const user = await requireUser(req, deps.auth);
      caller = deps.userRpc(`Bearer ${user.token}`);
      const admin = await caller.rpc('am_i_platform_admin');
      if (admin.error) throw rpcError('The admin check', admin.error);
      if (admin.data !== true) throw new HttpError(403, 'forbidden', 'Platform admins only.');
      who = `admin:${user.id}`;
    }
    const body = parseBody(await readJson(req, 4096));
    if (body.digest && !isService) throw new HttpError(403, 'forbidden', 'Only the scheduler sends the daily emails.');

    let aggregation: unknown = null;
    if (body.aggregate) {
      const r = await caller.rpc('aggregate_usage', { from_date: body.from, to_date: body.to });
      if (r.error) throw rpcError('The aggregation', r.error);
      aggregation = r.data;
      log.info('usage aggregated', { who, result: r.data });
    }

    const failures: Array<{ kind: string; id: string; code: string }> = [];
    let alertsEmailed = 0;
    const claimed = await deps.serviceRpc.rpc('usage_claim_alert_emails', { max_rows: 100 });
    if (claimed.error) throw rpcError('Claiming alert emails', claimed.error);
    const sent: string[] = [];
    for (const a of (claimed.data ?? []) as AlertForEmail[]) {
      const mail = alertEmail(a, deps.appUrl);
      let ok = a.owner_emails.length > 0;
      for (const to of a.owner_emails) {
        try {
          await deps.email.send({ to, subject: mail.subject, text: mail.text, html: mail.html,
            tags: [{ name: 'kind', value: 'usage_alert' }] }, { idempotencyKey: `usage-alert/${a.alert_id}/${to}` });
        } catch (e) {
          ok = false;
          failures.push({ kind: 'alert', id: a.alert_id, code: e instanceof HttpError ? e.code : 'email_failed' });
        }
      }
      if (ok) sent.push(a.alert_id);
    }
    if (sent.length) {
      const marked = await deps.serviceRpc.rpc('usage_mark_alerts_emailed', { alert_ids: sent });
      if (marked.error) throw rpcError('Marking alert emails', marked.error);
      alertsEmailed = sent.length;
    }

    let digestsEmailed = 0;
    if (body.digest) {
      const due = await deps.serviceRpc.rpc('usage_claim_daily_emails', { max_rows: 200 });
      if (due.error) throw rpcError('Claiming daily emails', due.error);
      const today = new Date().toISOString().slice(0, 10);
      for (const d of (due.data ?? []) as Array<{ tenant_id: string; tenant_name: string; owner_emails: string[]; limits: { limits: LimitRow[] } }>) {
        const mail = dailyEmail(d.tenant_name, d.limits?.limits ?? [], deps.appUrl);
        for (const to of d.owner_emails) {
          try {
            await deps.email.send({ to, subject: mail.subject, text: mail.text, html: mail.html,
              tags: [{ name: 'kind', value: 'usage_daily' }] }, { idempotencyKey: `usage-daily/${d.tenant_id}/${today}/${to}` });
            digestsEmailed++;
          } catch (e) {
            failures.push({ kind: 'daily', id: d.tenant_id, code: e instanceof HttpError ? e.code : 'email_failed' });
          }
        }
      }
    }
    if (failures.length) log.warn('usage emails failed', { count: failures.length });
    return json(200, { aggregation, alertsEmailed, digestsEmailed, failures }, { 'Cache-Control': 'no-store' });
  }, log, { cors: true });
}
