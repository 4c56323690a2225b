/** Words for the send outbox (pure, unit-tested). */
import type { MessageTemplate } from './api.ts';
import type { SendEntry } from './outbox.ts';

const TEMPLATE_LABELS: Record<MessageTemplate, string> = {
  pickup_ready: 'Ready for pickup',
  review_request: 'Review request',
  custom: 'Text',
};

/** "Ready for pickup", or a custom text's first words ("Text: “Your car is…”"). */
export function sendLabel(template: MessageTemplate, body?: string): string {
  if (template !== 'custom' || !body) return TEMPLATE_LABELS[template];
  const oneLine = body.replace(/\s+/g, ' ').trim();
  const chars = [...oneLine];
  return `Text: “${chars.length > 40 ? `${chars.slice(0, 40).join('').trimEnd()}…` : oneLine}”`;
}

/** Where an entry stands, in words (never by colour alone). */
export function sendStateText(e: Pick<SendEntry, 'state' | 'permanent' | 'notBefore'>, online: boolean, now = Date.now()): string {
  if (e.state === 'sending') return 'Sending…';
  if (e.permanent || e.state === 'failed') return 'Not sent: needs your attention';
  if (!online) return 'Waiting for the connection';
  if (e.notBefore && e.notBefore > now) return `Trying again in ${Math.max(1, Math.round((e.notBefore - now) / 1000))} s`;
  return 'Waiting to send';
}
