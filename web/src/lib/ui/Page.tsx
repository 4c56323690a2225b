import { useEffect, useRef, type ReactNode } from 'react';

/**
 * A screen: sets document.title and moves focus to its heading when it mounts, so a screen-reader user hears
 * where a navigation landed (single-page apps otherwise stay silent).
 */
export function Page({ title, heading, children, narrow = false, actions }: { title: string; heading?: ReactNode; children: ReactNode; narrow?: boolean; actions?: ReactNode }) {
  const h1 = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · ServicePro`;
    h1.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <section className={narrow ? 'page page-narrow' : 'page'} aria-labelledby="page-title">
      <div className="page-head">
        <h1 id="page-title" ref={h1} tabIndex={-1}>
          {heading ?? title}
        </h1>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}
