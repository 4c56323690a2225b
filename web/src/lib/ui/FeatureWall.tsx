/**
 * The feature wall: one dialog, shown whenever a gated feature is touched ("part of Pro — your setup stays as it
 * is"). Lib-level so any feature can raise it without importing billing: call `showFeatureWall(detail)`, or hand
 * any error to `showFeatureWallFor(error)` (true when it was a 402 `feature_not_in_plan`). The host mounts itself
 * on first use; it links to /billing?plan=<required plan>.
 */
import { useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ButtonLink, Button } from './Button.tsx';
import './feature-wall.css';
import { FEATURE_WALL_EVENT, featureWallDetailOf, planName, wallSentence, type FeatureWallDetail } from '../featureWall.ts';

export { FEATURE_WALL_EVENT, featureName, featureWallDetailOf, planName, wallSentence, type FeatureWallDetail } from '../featureWall.ts';

let mounted = false;
/** The wall asked for before the host subscribed (the first call mounts it). */
let pending: FeatureWallDetail | null = null;

function ensureHost() {
  if (mounted || typeof document === 'undefined') return;
  mounted = true;
  const el = document.createElement('div');
  el.id = 'feature-wall-host';
  document.body.appendChild(el);
  createRoot(el).render(<FeatureWallHost />);
}

export function showFeatureWall(detail: FeatureWallDetail): void {
  pending = detail;
  ensureHost();
  window.dispatchEvent(new CustomEvent<FeatureWallDetail>(FEATURE_WALL_EVENT, { detail }));
}

/** For a supabase-js FunctionsHttpError (reads its Response) or a parsed body: shows the wall when it is one. */
export async function showFeatureWallFor(e: unknown): Promise<boolean> {
  let body: unknown = e;
  const ctx = (e as { context?: unknown } | null)?.context;
  if (ctx && typeof (ctx as Response).clone === 'function') {
    try { body = await (ctx as Response).clone().json(); } catch { return false; }
  }
  const d = featureWallDetailOf(body);
  if (d) showFeatureWall(d);
  return !!d;
}

export function FeatureWallHost() {
  const [detail, setDetail] = useState<FeatureWallDetail | null>(() => pending);
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const on = (ev: Event) => setDetail((ev as CustomEvent<FeatureWallDetail>).detail);
    window.addEventListener(FEATURE_WALL_EVENT, on);
    if (pending) setDetail(pending);
    return () => window.removeEventListener(FEATURE_WALL_EVENT, on);
  }, []);
  useEffect(() => {
    const dlg = ref.current;
    if (!dlg) return;
    if (detail && !dlg.open) {
      if (typeof dlg.showModal === 'function') dlg.showModal(); else dlg.setAttribute('open', '');
    }
    if (!detail && dlg.open) dlg.close();
  }, [detail]);
  const close = () => { pending = null; setDetail(null); };
  return (
    <dialog ref={ref} className="feature-wall" aria-labelledby="feature-wall-title" onClose={close} onCancel={close}>
      {detail ? (
        <>
          <h2 id="feature-wall-title">Part of {planName(detail.requiredPlan)}</h2>
          <p>{detail.message ?? wallSentence(detail)}</p>
          <div className="feature-wall-actions">
            <ButtonLink to={`/billing${detail.requiredPlan ? `?plan=${encodeURIComponent(detail.requiredPlan)}` : ''}`} onClick={close}>
              See {planName(detail.requiredPlan)}
            </ButtonLink>
            <Button variant="secondary" onClick={close}>Not now</Button>
          </div>
        </>
      ) : null}
    </dialog>
  );
}
