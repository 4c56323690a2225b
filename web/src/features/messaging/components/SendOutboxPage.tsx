import { useEffect, useState } from 'react';
import { Button, ButtonLink, Page, useOnline } from '../../../lib/ui/index.ts';
import { Link } from '../../../lib/router.ts';
import { useOutboxStatus } from '../../../lib/outboxStatus.ts';
import { selectActiveTenant, useTenancy } from '../../tenancy/store.ts';
import { sendStore, useSends } from '../sendStore.ts';
import { outboxLead, sendStateText, waitingPhotos } from '../outboxModel.ts';
import type { SendEntry } from '../outbox.ts';
import './messaging.css';

/**
 * /outbox — texts kept on this device: waiting for the connection or a retry, or refused and waiting for a person.
 * Each says where it stands in words; Retry sends again with the same idempotency key (never a second text).
 * Photos waiting in the capture outbox (counted app-wide by lib/outboxStatus) are named too, with the way to Snap,
 * where they are listed.
 */
export function SendOutboxPage() {
  const tenant = useTenancy(selectActiveTenant);
  const online = useOnline();
  const entries = useSends((s) => s.entries);
  const photos = useOutboxStatus((s) => s.captures);
  const photoWords = waitingPhotos(photos);
  const [busy, setBusy] = useState(false);
  const [, tick] = useState(0);
  useEffect(() => { void sendStore.getState().refresh(); }, []);
  useEffect(() => { const t = setInterval(() => tick((n) => n + 1), 1000); return () => clearInterval(t); }, []);
  if (!tenant) return null;
  const mine = entries.filter((e) => e.tenantId === tenant.id).sort((a, b) => a.createdAt - b.createdAt);
  const failed = mine.filter((e) => e.permanent || e.state === 'failed').length;
  const retryAll = async () => {
    setBusy(true);
    try { await sendStore.getState().drain({ force: true }); } finally { setBusy(false); }
  };
  return (
    <Page title="Outbox" heading="Waiting to send">
      <p className="lead" role="status">{outboxLead({ waiting: mine.length - failed, failed }, photos, online)}</p>
      {photoWords ? (
        <p>
          {photoWords} on this device, listed on the <Link to="/capture">Snap screen</Link>.
        </p>
      ) : null}
      {mine.length ? (
        <>
          <Button onClick={() => void retryAll()} busy={busy} busyLabel="Sending…" disabled={!online}>
            Retry now
          </Button>
          <ul className="send-outbox">
            {mine.map((e) => <SendRow key={e.key} entry={e} online={online} />)}
          </ul>
        </>
      ) : photoWords ? (
        <ButtonLink to="/capture" variant="secondary">Go to Snap</ButtonLink>
      ) : (
        <ButtonLink to="/customers" variant="secondary">Go to customers</ButtonLink>
      )}
    </Page>
  );
}

function SendRow({ entry, online }: { entry: SendEntry; online: boolean }) {
  const failed = entry.permanent || entry.state === 'failed';
  const when = new Date(entry.createdAt).toLocaleString(undefined, { hour: 'numeric', minute: '2-digit', month: 'short', day: 'numeric' });
  return (
    <li className={failed ? 'send-row send-row-failed' : 'send-row'}>
      <span className="send-label">{entry.label}</span>
      <span className="hint">
        Written {when}
        {entry.customerId ? <> · <Link to={`/customers/${entry.customerId}/thread`}>Open the thread</Link></> : null}
      </span>
      <span className="send-state">
        {failed ? <span aria-hidden="true">⚠ </span> : null}
        {sendStateText(entry, online)}
      </span>
      {entry.lastError ? <span className="hint">{entry.lastError.message}</span> : null}
      <span className="row">
        <Button variant="secondary" disabled={!online || entry.state === 'sending'} onClick={() => void sendStore.getState().drain({ force: true })}>
          Try again<span className="visually-hidden">: {entry.label}</span>
        </Button>
        <Button variant="secondary" onClick={() => {
          if (window.confirm('Delete this text from the device? It has not been sent.')) void sendStore.getState().discard(entry.key);
        }}>
          Discard<span className="visually-hidden">: {entry.label}</span>
        </Button>
      </span>
    </li>
  );
}
