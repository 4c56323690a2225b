/**
 * A local email outbox shaped like Resend's API (`POST /emails`, `POST /emails/batch`, `GET /emails/:id`), for
 * local runs and tests only: nothing is sent anywhere; every email is kept in memory for inspection.
 *
 * Auth: `Authorization: Bearer <any non-empty key>`. Errors use Resend's body `{statusCode, name, message}`.
 * `Idempotency-Key` is honoured like Resend's: same key + same payload → the same id; another payload → 409.
 */
import crypto from 'node:crypto';
import type { Logger, RunningService } from '../../lib/types.ts';
import { bearerToken } from '../_lib/auth.ts';
import { controlError, json, Router, serveHttp, type EmuRequest, type EmuResponse } from '../_lib/http.ts';
import { RequestLog } from '../_lib/record.ts';

export interface EmailOutboxOptions { port: number; log: Logger }

export interface OutboxEmail {
  object: 'email';
  id: string;
  from: string;
  to: string[];
  cc: string[] | null;
  bcc: string[] | null;
  reply_to: string[] | null;
  subject: string;
  html: string | null;
  text: string | null;
  headers: Record<string, string> | null;
  tags: { name: string; value: string }[] | null;
  attachments: { filename: string; size: number }[];
  created_at: string;
  last_event: 'delivered';
  scheduled_at: string | null;
}

const ADDRESS = /^(?:[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+|[^<>]*<[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>)$/;

function resendError(statusCode: number, name: string, message: string): EmuResponse {
  return json(statusCode, { statusCode, name, message });
}

class Invalid extends Error {}

function addresses(v: unknown, field: string, required: boolean, max = 50): string[] | null {
  if (v === undefined || v === null) {
    if (required) throw new Invalid(`Missing \`${field}\` field.`);
    return null;
  }
  const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : null;
  if (!list || !list.every((x) => typeof x === 'string')) throw new Invalid(`\`${field}\` must be a string or an array of strings.`);
  if (required && list.length === 0) throw new Invalid(`Missing \`${field}\` field.`);
  if (list.length > max) throw new Invalid(`\`${field}\` accepts at most ${max} addresses.`);
  for (const a of list as string[]) if (!ADDRESS.test(a.trim())) throw new Invalid(`Invalid \`${field}\` field. The email address needs to follow the \`email@example.com\` or \`Name <email@example.com>\` format.`);
  return (list as string[]).map((a) => a.trim());
}

function toEmail(body: unknown): OutboxEmail {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Invalid('The request body must be a JSON object.');
  const b = body as Record<string, unknown>;
  const from = addresses(b.from, 'from', true, 1)![0];
  const to = addresses(b.to, 'to', true)!;
  if (typeof b.subject !== 'string' || b.subject === '') throw new Invalid('Missing `subject` field.');
  if (b.html !== undefined && typeof b.html !== 'string') throw new Invalid('`html` must be a string.');
  if (b.text !== undefined && typeof b.text !== 'string') throw new Invalid('`text` must be a string.');
  if (b.html === undefined && b.text === undefined) throw new Invalid('Missing `html` or `text` field.');
  const replyTo = b.reply_to ?? b.replyTo;
  let headers: Record<string, string> | null = null;
  if (b.headers !== undefined) {
    if (!b.headers || typeof b.headers !== 'object' || Array.isArray(b.headers) || !Object.values(b.headers).every((x) => typeof x === 'string')) {
      throw new Invalid('`headers` must be an object of string values.');
    }
    headers = b.headers as Record<string, string>;
  }
  let tags: OutboxEmail['tags'] = null;
  if (b.tags !== undefined) {
    if (!Array.isArray(b.tags) || !b.tags.every((t) => t && typeof t.name === 'string' && typeof t.value === 'string' && /^[A-Za-z0-9_-]+$/.test(t.name) && /^[A-Za-z0-9_-]+$/.test(t.value))) {
      throw new Invalid('`tags` must be an array of {name, value} with only ASCII letters, numbers, underscores or dashes.');
    }
    tags = b.tags as OutboxEmail['tags'];
  }
  const attachments: OutboxEmail['attachments'] = [];
  if (b.attachments !== undefined) {
    if (!Array.isArray(b.attachments)) throw new Invalid('`attachments` must be an array.');
    for (const a of b.attachments) {
      if (!a || typeof a.filename !== 'string' || (typeof a.content !== 'string' && typeof a.path !== 'string')) {
        throw new Invalid('Each attachment needs a `filename` and a base64 `content` or a `path`.');
      }
      attachments.push({ filename: a.filename, size: typeof a.content === 'string' ? Buffer.from(a.content, 'base64').length : 0 });
    }
  }
  return {
    object: 'email',
    id: crypto.randomUUID(),
    from,
    to,
    cc: addresses(b.cc, 'cc', false),
    bcc: addresses(b.bcc, 'bcc', false),
    reply_to: addresses(replyTo, 'reply_to', false),
    subject: b.subject,
    html: (b.html as string | undefined) ?? null,
    text: (b.text as string | undefined) ?? null,
    headers,
    tags,
    attachments,
    created_at: new Date().toISOString(),
    last_event: 'delivered',
    scheduled_at: typeof b.scheduled_at === 'string' ? b.scheduled_at : null,
  };
}

export async function startEmailOutbox(opts: EmailOutboxOptions): Promise<RunningService & { url: string }> {
  const requests = new RequestLog();
  let emails: OutboxEmail[] = [];
  let idempotency = new Map<string, { payload: string; response: EmuResponse }>();

  const api = new Router<(req: EmuRequest, body: unknown, params: Record<string, string>) => EmuResponse>();
  api.add('POST', '/emails', (_req, body) => {
    const email = toEmail(body);
    emails.push(email);
    opts.log.info(`outbox: "${email.subject}" to ${email.to.length} recipient(s)`);
    return json(200, { id: email.id });
  });
  api.add('POST', '/emails/batch', (_req, body) => {
    if (!Array.isArray(body) || body.length === 0 || body.length > 100) throw new Invalid('The batch must be an array of 1 to 100 emails.');
    const batch = body.map(toEmail); // all validated before any is kept
    emails.push(...batch);
    return json(200, { data: batch.map((e) => ({ id: e.id })) });
  });
  api.add('GET', '/emails/:id', (_req, _body, params) => {
    const e = emails.find((x) => x.id === params.id);
    return e ? json(200, e) : resendError(404, 'not_found', 'Email not found');
  });

  const controls = new Router();
  controls.add('GET', '/_emulator/requests', () => json(200, requests.list()));
  controls.add('GET', '/_emulator/emails', () => json(200, emails));
  controls.add('POST', '/_emulator/reset', () => {
    emails = [];
    idempotency = new Map();
    requests.clear();
    return json(200, { reset: true });
  });

  const server = await serveHttp({
    name: 'email',
    port: opts.port,
    log: opts.log,
    handler: async (req) => {
      if (req.path.startsWith('/_emulator/')) {
        const hit = controls.match(req.method, req.path);
        if (hit === null) return controlError(404, 'not_found', `No emulator control at ${req.path}`);
        if (hit === 'method_not_allowed') return controlError(405, 'method_not_allowed', `${req.method} is not supported on ${req.path}`);
        return hit.handler(req, hit.params);
      }
      let body: unknown = null;
      let badJson = false;
      if (req.method === 'POST') {
        try { body = JSON.parse(req.text); } catch { badJson = true; body = req.text; }
      }
      const entry = requests.add({ method: req.method, path: req.path, body });
      const res = ((): EmuResponse => {
        const hit = api.match(req.method, req.path);
        if (hit === null) return resendError(404, 'not_found', 'The requested endpoint does not exist.');
        if (hit === 'method_not_allowed') return resendError(405, 'method_not_allowed', 'Method not allowed.');
        if (req.headers.authorization === undefined) {
          return resendError(401, 'missing_api_key', 'Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY');
        }
        if (!bearerToken(req.headers)) return resendError(403, 'invalid_api_key', 'API key is invalid');
        if (badJson) return resendError(400, 'invalid_request', 'The request body is not valid JSON.');
        const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
        const payload = JSON.stringify(body);
        if (key) {
          const prior = idempotency.get(`${req.path}|${key}`);
          if (prior) {
            if (prior.payload !== payload) return resendError(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload. Change your idempotency key or payload.');
            return prior.response;
          }
        }
        let out: EmuResponse;
        try {
          out = hit.handler(req, body, hit.params);
        } catch (err) {
          if (err instanceof Invalid) return resendError(422, 'validation_error', err.message);
          throw err;
        }
        if (key && out.status === 200) idempotency.set(`${req.path}|${key}`, { payload, response: out });
        return out;
      })();
      entry.status = res.status;
      return res;
    },
  });
  return { name: 'email', url: server.url, stop: () => server.stop() };
}
