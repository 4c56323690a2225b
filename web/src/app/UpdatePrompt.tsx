import { Button } from '../lib/ui/index.ts';
import { applyUpdate, dismissUpdate, usePwa } from './pwa.ts';

export function UpdatePrompt() {
  const ready = usePwa((s) => s.updateReady);
  const updating = usePwa((s) => s.updating);
  if (!ready) return null;
  return (
    <div className="update-prompt" role="status" aria-live="polite">
      <p>A new version is ready —</p>
      <div className="row">
        <Button onClick={applyUpdate} busy={updating} busyLabel="Reloading…">
          Reload
        </Button>
        <Button variant="link" onClick={dismissUpdate} disabled={updating}>
          Later
        </Button>
      </div>
    </div>
  );
}
