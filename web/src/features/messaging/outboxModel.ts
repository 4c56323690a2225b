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

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * The /outbox screen's opening sentence about this device's texts. It speaks for texts only when photos wait too
 * (they are listed on Snap, see `waitingPhotos`), so it never says "nothing is waiting" while a photo is.
 */
export function outboxLead(texts: { waiting: number; failed: number }, photos: { pending: number; failed: number }, online: boolean): string {
  const total = texts.waiting + texts.failed;
  if (total === 0) {
    return photos.pending + photos.failed > 0
      ? 'No texts are waiting: every text from this device has gone out.'
      : 'Nothing is waiting: every text and photo from this device has gone out.';
  }
  const parts = [texts.waiting ? `${count(texts.waiting, 'text', 'texts')} waiting` : null, texts.failed ? `${count(texts.failed, 'text', 'texts')} not sent` : null];
  const offline = !online && texts.waiting ? ` You're offline: ${texts.waiting === 1 ? 'it goes' : 'they go'} out when you're back online.` : '';
  return `${parts.filter(Boolean).join(', ')}.${offline}`;
}

/** "2 photos waiting to upload and 1 not uploaded" — the capture outbox in words; null when it is empty. */
export function waitingPhotos(photos: { pending: number; failed: number }): string | null {
  const { pending, failed } = photos;
  if (pending && failed) return `${count(pending, 'photo', 'photos')} waiting to upload and ${failed} not uploaded`;
  if (pending) return `${count(pending, 'photo', 'photos')} waiting to upload`;
  if (failed) return `${count(failed, 'photo', 'photos')} not uploaded`;
  return null;
}
