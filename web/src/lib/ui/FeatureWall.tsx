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

export interface FeatureWallDetail {
  feature: string;
  /** Plan id that includes the feature ('pro'), from the 402 body's details.required_plan. */
  requiredPlan: string | null;
  /** Shown instead of the generic sentence when given. */
  message?: string;
}

export const FEATURE_WALL_EVENT = 'servicepro:feature-wall';

const FEATURE_NAMES: Record<string, string> = {
  ai_sms_agent: 'The AI text assistant',
  ai_voice_agent: 'The AI voice agent',
  dedicated_number: 'A dedicated phone number',
  campaigns: 'Campaigns',
  data_export: 'Data export',
  website_generator: 'The website generator',
};

export const planName = (id: string | null) => (id ? id.charAt(0).toUpperCase() + id.slice(1) : 'a paid plan');
export const featureName = (f: string) => FEATURE_NAMES[f] ?? f.replace(/_/g, ' ');

/** The wall's sentence: "<Feature> is part of <Plan> — your setup stays as it is." */
export function wallSentence(d: FeatureWallDetail): string {
  return `${featureName(d.feature)} is part of ${planName(d.requiredPlan)} — your setup stays as it is.`;
}

/** Reads a 402 feature_not_in_plan body ({code, message, details: {feature, required_plan}}); null otherwise. */
export function featureWallDetailOf(body: unknown): FeatureWallDetail | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as { code?: unknown; details?: { feature?: unknown; required_plan?: unknown } };
  if (b.code !== 'feature_not_in_plan') return null;
  const feature = typeof b.details?.feature === 'string' ? b.details.feature : 'This feature';
  const requiredPlan = typeof b.details?.required_plan === 'string' ? b.details.required_plan : null;
  return { feature, requiredPlan };
}

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
