import './messaging.css';
import { useEffect } from 'react';
import { Alert, Button, Loading } from '../../../lib/ui/index.ts';
import { messagingApi, type ThreadMessage } from '../api.ts';
import { DELIVERY_ERRORS } from '../errors.ts';
import { POLL_MS, threadStore, useThread } from '../store.ts';
import { Composer } from './Composer.tsx';

const STATUS_LABEL: Record<string, string> = {
  scheduled: 'Scheduled', pending: 'Sending…', accepted: 'Sending…', queued: 'Sent to carrier', sending: 'Sending…',
  sent: 'Sent', delivered: 'Delivered', undelivered: 'Not delivered', failed: 'Failed', unknown: 'Checking…',
  received: 'Received', canceled: 'Canceled',
};

function Bubble({ m, tenantId }: { m: ThreadMessage; tenantId: string }) {
  const problem = (m.status === 'failed' || m.status === 'undelivered') && m.error_code ? DELIVERY_ERRORS[m.error_code] ?? `Error ${m.error_code}` : null;
  return (
    <li className={`bubble bubble-${m.direction}`}>
      <p className="bubble-body">{m.body || (m.media_paths.length ? '(photo)' : '')}</p>
      <p className="bubble-meta">
        <time dateTime={m.created_at}>{new Date(m.created_at).toLocaleString()}</time>
        {m.direction === 'outbound' ? <> · {STATUS_LABEL[m.status] ?? m.status}</> : null}
        {m.status === 'scheduled' && m.send_at ? <> for {new Date(m.send_at).toLocaleString()}</> : null}
        {m.segments > 1 ? <> · {m.segments} segments</> : null}
        {problem ? <> · {problem}</> : null}
      </p>
      {m.status === 'scheduled' ? (
        <Button variant="link" onClick={() => void messagingApi.cancel(tenantId, m.id).then(() => threadStore.getState().refresh())}>
          Cancel
        </Button>
      ) : null}
    </li>
  );
}

/**
 * A customer's text thread (outbound and inbound, with delivery statuses) and the composer. Polls every few
 * seconds while the page is visible. The customers page embeds it: <Thread tenantId customerId />.
 */
export function Thread({ tenantId, customerId }: { tenantId: string; customerId: string }) {
  const messages = useThread((s) => s.messages);
  const status = useThread((s) => s.status);
  const error = useThread((s) => s.error);
  useEffect(() => {
    void threadStore.getState().load(tenantId, customerId);
    const tick = () => { if (document.visibilityState === 'visible') void threadStore.getState().refresh(); };
    const timer = setInterval(tick, POLL_MS);
    document.addEventListener('visibilitychange', tick);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', tick);
      threadStore.getState().reset();
    };
  }, [tenantId, customerId]);

  return (
    <section className="thread" aria-label="Text messages">
      {status === 'loading' ? <Loading /> : null}
      {status === 'error' && error ? <Alert>{error.message}</Alert> : null}
      {status === 'ready' && !messages.length ? <p className="muted">No texts with this customer yet.</p> : null}
      <ol className="thread-list">
        {messages.map((m) => <Bubble key={m.id} m={m} tenantId={tenantId} />)}
      </ol>
      <Composer tenantId={tenantId} customerId={customerId} onSent={() => void threadStore.getState().refresh()} />
    </section>
  );
}
