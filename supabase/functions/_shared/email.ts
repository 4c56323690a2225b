/**
 * The email provider module: Resend's wire format (`POST ${EMAIL_API_URL}/emails`, Bearer key, JSON
 * `{from, to, subject, html?, text?}` → `{id}`), so production uses Resend and the local stack its outbox.
 * Pass an idempotency key for anything that must not go out twice.
 */
import type { EnvSpec } from './env.ts';
import { HttpError } from './http.ts';

export const EMAIL_ENV = {
  EMAIL_API_KEY: true,
  EMAIL_API_URL: { default: 'https://api.resend.com' },
  EMAIL_FROM: { default: 'ServicePro <hello@servicepro.app>' },
} as const satisfies EnvSpec;

export interface EmailConfig {
  EMAIL_API_KEY: string;
  EMAIL_API_URL: string;
  EMAIL_FROM: string;
}

export interface EmailMessage {
  to: string | string[];
  subject: string;
  html?: string;
  text?: string;
  from?: string;
  reply_to?: string;
  tags?: Array<{ name: string; value: string }>;
}

export interface EmailSender {
  send(msg: EmailMessage, opts?: { idempotencyKey?: string }): Promise<{ id: string }>;
}

export function emailSender(cfg: EmailConfig, fetchImpl: typeof fetch = fetch): EmailSender {
  const base = cfg.EMAIL_API_URL.replace(/\/+$/, '');
  return {
    async send(msg, opts = {}) {
      if (!msg.html && !msg.text) throw new Error('an email needs html or text');
      const headers: Record<string, string> = {
        Authorization: `Bearer ${cfg.EMAIL_API_KEY}`,
        'Content-Type': 'application/json',
      };
      if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
      const res = await fetchImpl(`${base}/emails`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ ...msg, from: msg.from ?? cfg.EMAIL_FROM }),
      });
      const body = await res.json().catch(() => ({})) as { id?: string; message?: string; name?: string };
      if (!res.ok || typeof body.id !== 'string') {
        throw new HttpError(502, 'email_failed',
          `The email provider refused the message (${res.status} ${body.name ?? ''}: ${body.message ?? 'no details'}).`);
      }
      return { id: body.id };
    },
  };
}
