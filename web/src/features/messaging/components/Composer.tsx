import { useRef, useState } from 'react';
import { Button, ErrorRegion } from '../../../lib/ui/index.ts';
import { Link } from '../../../lib/router.ts';
import { toAppError } from '../../../lib/errors.ts';
import type { MessageTemplate } from '../api.ts';
import { sendStore } from '../sendStore.ts';
import { sendLabel } from '../outboxModel.ts';
import { billingActionFor, sendErrorMessage } from '../errors.ts';
import { canFix, countSegments, fixToGsm, MAX_BODY_CHARS } from '../segments.ts';
import { SegmentMeter } from './SegmentMeter.tsx';

/**
 * Write and send: a free text with the live segment meter and a one-click GSM fix, or one of the two templates
 * (rendered by the server with the shop's wording). One idempotency key per message, kept across retries.
 */
export function Composer({ tenantId, customerId, onSent }: { tenantId: string; customerId: string; onSent?: () => void }) {
  const [body, setBody] = useState('');
  const [busy, setBusy] = useState<MessageTemplate | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** Set when the refusal is one Billing lifts: the error then links there (the upgrade prompt). */
  const [billingAction, setBillingAction] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const key = useRef<string>(crypto.randomUUID());

  async function send(template: MessageTemplate) {
    setBusy(template);
    setError(null);
    setBillingAction(null);
    setNotice(null);
    try {
      const text = template === 'custom' ? body : undefined;
      const outcome = await sendStore.getState().send({ key: key.current, tenantId, customerId, template, body: text, label: sendLabel(template, text) });
      key.current = crypto.randomUUID();
      if (template === 'custom') setBody('');
      if (outcome.kind === 'queued') {
        setNotice(outcome.message);
        return;
      }
      const m = outcome.message;
      if (m.status === 'scheduled' && m.send_at) {
        setNotice(`It is quiet hours for this customer. The text goes out at ${new Date(m.send_at).toLocaleString()}.`);
      }
      onSent?.();
    } catch (e) {
      const err = toAppError(e);
      // A definite refusal will not change on retry: start a new message next time.
      if (err.status && err.status < 500 && err.code !== 'rate_limited') key.current = crypto.randomUUID();
      setError(sendErrorMessage(err));
      setBillingAction(billingActionFor(err.code));
    } finally {
      setBusy(null);
    }
  }

  const info = countSegments(body);
  const tooLong = [...body].length > MAX_BODY_CHARS;
  return (
    <form className="composer" onSubmit={(e) => { e.preventDefault(); if (body.trim()) void send('custom'); }}>
      <ErrorRegion error={error} action={billingAction ? <Link to="/billing">{billingAction}</Link> : null} />
      {notice ? <p role="status" className="alert alert-info">{notice}</p> : null}
      <label htmlFor="composer-body" className="visually-hidden">Message</label>
      <textarea id="composer-body" value={body} rows={3} maxLength={MAX_BODY_CHARS + 200}
        onChange={(e) => { setBody(e.target.value); key.current = crypto.randomUUID(); }} placeholder="Write a text…" />
      <SegmentMeter body={body} />
      {info.encoding === 'UCS-2' && canFix(body) ? (
        <Button variant="link" onClick={() => setBody(fixToGsm(body))}>Fix characters (use plain quotes and dashes)</Button>
      ) : null}
      <div className="composer-actions">
        <Button type="submit" busy={busy === 'custom'} busyLabel="Sending…" disabled={!body.trim() || tooLong || !!busy}>Send</Button>
        <Button variant="secondary" busy={busy === 'pickup_ready'} busyLabel="Sending…" disabled={!!busy} onClick={() => void send('pickup_ready')}>
          Ready for pickup
        </Button>
        <Button variant="secondary" busy={busy === 'review_request'} busyLabel="Sending…" disabled={!!busy} onClick={() => void send('review_request')}>
          Ask for a review
        </Button>
      </div>
    </form>
  );
}
