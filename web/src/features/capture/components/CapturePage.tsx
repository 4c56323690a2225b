import { useEffect, useRef, useState, type ChangeEvent } from 'react';
import { Alert, Button, Icon, Page, useOnline } from '../../../lib/ui/index.ts';
import { Link, navigate } from '../../../lib/router.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { selectActiveTenant, useTenancy } from '../../tenancy/store.ts';
import { captureApi } from '../api.ts';
import { captureStore, useCapture } from '../store.ts';
import type { RepairOrder } from '../model.ts';
import type { OutboxEntry } from '../outbox.ts';
import '../capture.css';

const STATE_TEXT: Record<OutboxEntry['state'], string> = {
  queued: 'Waiting to upload',
  uploading: 'Uploading',
  reading: 'Reading the repair order…',
  failed: 'Needs your attention',
};

/**
 * /capture — snap (camera) or pick (gallery) a repair-order photo. The photo is prepared on the phone (≤ 2000 px,
 * upright, no EXIF), saved in the outbox, uploaded with progress, then read; the review opens when it is ready.
 * Offline, it waits on the phone and goes when the connection returns.
 */
export function CapturePage() {
  const tenant = useTenancy(selectActiveTenant);
  const online = useOnline();
  const entries = useCapture((s) => s.entries);
  const progress = useCapture((s) => s.progress);
  const completed = useCapture((s) => s.completed);
  const preparing = useCapture((s) => s.preparing);
  const error = useCapture((s) => s.error);
  const [current, setCurrent] = useState<string | null>(null);
  const camera = useRef<HTMLInputElement>(null);
  const gallery = useRef<HTMLInputElement>(null);

  // The capture just taken became a repair order: open its review.
  useEffect(() => {
    if (current && completed[current]) navigate(`/capture/review/${completed[current]!.id}`);
  }, [current, completed]);

  if (!tenant) return null;
  const mine = entries.filter((e) => e.tenantId === tenant.id).sort((a, b) => b.createdAt - a.createdAt);
  const active = current ? mine.find((e) => e.clientId === current) : undefined;

  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = ''; // the same photo can be picked again
    if (!file) return;
    const id = await captureStore.getState().capture(tenant.id, file);
    if (id) setCurrent(id);
  };

  return (
    <Page title="Snap a repair order" narrow>
      {!online ? (
        <p className="status-line status-attention" role="status">
          <span aria-hidden="true">⚠ </span>You're offline. Photos are saved on this phone and upload when you're back online.
        </p>
      ) : null}
      <div className="capture-actions">
        <Button size="hero" onClick={() => camera.current?.click()} busy={preparing} busyLabel="Preparing the photo…">
          <Icon name="camera" size={32} /> Take a photo
        </Button>
        <Button variant="secondary" onClick={() => gallery.current?.click()} disabled={preparing}>
          Choose from gallery
        </Button>
        <input ref={camera} className="visually-hidden" type="file" accept="image/*" capture="environment" onChange={onFile} tabIndex={-1} aria-hidden="true" />
        <input ref={gallery} className="visually-hidden" type="file" accept="image/*" onChange={onFile} tabIndex={-1} aria-hidden="true" />
      </div>
      <p className="hint">Fill the frame with the repair order, in good light. The photo is shrunk and its location data removed on this phone before it is sent.</p>
      {error ? <Alert>{error}</Alert> : null}

      {active ? <CurrentCapture entry={active} progress={progress[active.clientId] ?? 0} online={online} /> : null}

      {mine.length ? (
        <section className="card" aria-labelledby="outbox-title">
          <h2 id="outbox-title">On this phone ({mine.length})</h2>
          <ul className="outbox-list">
            {mine.map((e) => (
              <OutboxRow key={e.clientId} entry={e} progress={progress[e.clientId] ?? 0} />
            ))}
          </ul>
        </section>
      ) : null}

      <RecentRepairOrders tenantId={tenant.id} refreshKey={Object.keys(completed).length} />
    </Page>
  );
}

function CurrentCapture({ entry, progress, online }: { entry: OutboxEntry; progress: number; online: boolean }) {
  const pct = Math.round(progress * 100);
  return (
    <section className="card capture-progress" aria-live="polite">
      {entry.state === 'uploading' ? (
        <>
          <p>Uploading… {pct}%</p>
          <progress max={100} value={pct} aria-label="Upload progress" />
        </>
      ) : entry.state === 'reading' ? (
        <>
          <p>Reading the repair order…</p>
          <progress aria-label="Reading the repair order" />
        </>
      ) : entry.state === 'failed' ? (
        <p role="alert">
          <span aria-hidden="true">⚠ </span>
          {entry.lastError?.message ?? 'This photo could not be read.'}
        </p>
      ) : (
        <p>{online ? 'Saved on this phone; sending…' : 'Saved on this phone. It will upload when you are back online.'}</p>
      )}
    </section>
  );
}

function OutboxRow({ entry, progress }: { entry: OutboxEntry; progress: number }) {
  const [busy, setBusy] = useState(false);
  const when = new Date(entry.createdAt).toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' });
  return (
    <li>
      <span className="outbox-when">Photo taken {when}</span>
      <span className={`outbox-state outbox-${entry.state}`}>
        {entry.state === 'failed' ? <span aria-hidden="true">⚠ </span> : null}
        {STATE_TEXT[entry.state]}
        {entry.state === 'uploading' ? ` ${Math.round(progress * 100)}%` : ''}
      </span>
      {entry.lastError ? <span className="hint">{entry.lastError.message}</span> : null}
      <span className="row">
        <Button
          variant="secondary"
          busy={busy}
          busyLabel="Sending…"
          onClick={async () => {
            setBusy(true);
            try {
              await captureStore.getState().drain({ includePermanent: true });
            } finally {
              setBusy(false);
            }
          }}
        >
          Try again
        </Button>
        <Button
          variant="secondary"
          onClick={() => {
            if (window.confirm('Delete this photo from the phone? It has not been read yet.')) void captureStore.getState().discard(entry.clientId);
          }}
        >
          Discard
        </Button>
      </span>
    </li>
  );
}

const STATUS_TEXT: Record<RepairOrder['status'], string> = {
  uploaded: 'Uploaded',
  processing: 'Being read',
  needs_review: 'To review',
  reviewed: 'Saved',
  failed: 'Could not be read',
};

function RecentRepairOrders({ tenantId, refreshKey }: { tenantId: string; refreshKey: number }) {
  const [items, setItems] = useState<RepairOrder[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    captureApi.recentRepairOrders(tenantId, 15).then(
      (r) => { if (!cancelled) { setItems(r); setError(null); } },
      (e) => { if (!cancelled) setError(errorMessage(e)); },
    );
    return () => { cancelled = true; };
  }, [tenantId, refreshKey]);
  if (error) return <Alert>{error}</Alert>;
  if (!items || !items.length) return null;
  return (
    <section className="card" aria-labelledby="recent-title">
      <h2 id="recent-title">Recent repair orders</h2>
      <ul className="link-list">
        {items.map((ro) => (
          <li key={ro.id}>
            <Link to={`/capture/review/${ro.id}`}>
              {ro.parsed.name ?? 'Unknown customer'}
              {ro.ro_number ? ` · RO ${ro.ro_number}` : ''}
              <span className={`ro-status ro-status-${ro.status}`}>
                {ro.status === 'needs_review' || ro.status === 'failed' ? <span aria-hidden="true">⚠ </span> : null}
                {STATUS_TEXT[ro.status]}
              </span>
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}
