import { useState } from 'react';
import { Button } from '../../../lib/ui/index.ts';
import { navigate } from '../../../lib/router.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { authStore } from '../store.ts';

export function SignOutButton({ className }: { className?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span className={className}>
      <Button
        variant="secondary"
        busy={busy}
        busyLabel="Signing out…"
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await authStore.getState().signOut();
            navigate('/sign-in', { replace: true });
          } catch (e) {
            setError(`Couldn't sign out: ${errorMessage(e)}`);
          } finally {
            setBusy(false);
          }
        }}
      >
        Sign out
      </Button>
      {error ? (
        <span role="alert" className="inline-error">
          <strong>Error:</strong> {error}
        </span>
      ) : null}
    </span>
  );
}
