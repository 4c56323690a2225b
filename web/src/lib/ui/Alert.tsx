import type { ReactNode } from 'react';

/**
 * Messages for the whole screen. Errors use role="alert" (announced at once); notices use role="status".
 * Each starts with a word ("Error", "Done", "Note") so meaning never depends on colour.
 */
export function Alert({ kind = 'error', title, children }: { kind?: 'error' | 'success' | 'info'; title?: string; children: ReactNode }) {
  const word = kind === 'error' ? 'Error' : kind === 'success' ? 'Done' : 'Note';
  return (
    <div className={`alert alert-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      <p>
        <strong>{title ?? word}:</strong> {children}
      </p>
    </div>
  );
}

/**
 * A live region that announces whatever error it holds; renders nothing (but stays mounted) when empty. `action`
 * (e.g. a link to the screen that fixes it) is shown under the error, inside the same region.
 */
export function ErrorRegion({ error, action }: { error: string | null | undefined; action?: ReactNode }) {
  return (
    <div role="alert" className={error ? 'alert alert-error' : 'visually-hidden'}>
      {error ? (
        <p>
          <strong>Error:</strong> {error}
        </p>
      ) : null}
      {error && action ? <p className="alert-action">{action}</p> : null}
    </div>
  );
}
