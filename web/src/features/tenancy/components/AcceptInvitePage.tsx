import { useState } from 'react';
import { Alert, Button, ButtonLink, ErrorRegion, Page } from '../../../lib/ui/index.ts';
import { navigate, withNext } from '../../../lib/router.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { tenancyStore } from '../store.ts';
import { ROLE_LABELS, type TenantSummary } from '../model.ts';
import { authStore, useAuth } from '../../auth/store.ts';

/** /invite/:token — sign in or sign up first, then accept with one press. */
export function AcceptInvitePage({ token }: { token: string }) {
  const status = useAuth((s) => s.status);
  const email = useAuth((s) => s.user?.email ?? null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [joined, setJoined] = useState<TenantSummary | 'unknown' | null>(null);
  const here = `/invite/${encodeURIComponent(token)}`;

  if (status === 'loading') {
    return (
      <Page title="Invitation" heading="You're invited to ServicePro" narrow>
        <p role="status">Checking your session…</p>
      </Page>
    );
  }

  if (status === 'signed_out') {
    return (
      <Page title="Invitation" heading="You're invited to ServicePro" narrow>
        <p className="lead">A shop has invited you to work with them on ServicePro. Sign in or create an account to accept.</p>
        <div className="stack">
          <ButtonLink to={withNext('/sign-up', here)}>Create an account</ButtonLink>
          <ButtonLink to={withNext('/sign-in', here)} variant="secondary">
            I already have an account
          </ButtonLink>
        </div>
      </Page>
    );
  }

  if (joined) {
    return (
      <Page title="Invitation accepted" narrow>
        <Alert kind="success">
          {joined === 'unknown'
            ? 'You joined the shop.'
            : `You joined ${joined.name} as ${ROLE_LABELS[joined.role]}.`}
        </Alert>
        <ButtonLink to="/" replace>
          Go to {joined === 'unknown' ? 'your shop' : joined.name}
        </ButtonLink>
      </Page>
    );
  }

  const accept = async () => {
    setBusy(true);
    setError(null);
    try {
      const shop = await tenancyStore.getState().acceptInvitation(token);
      setJoined(shop ?? 'unknown');
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title="Invitation" heading="Join a shop on ServicePro" narrow>
      <p className="lead">
        You're signed in as <strong>{email ?? 'your account'}</strong>. Accept to join the shop that invited you with this account.
      </p>
      <ErrorRegion error={error} />
      <div className="stack">
        <Button busy={busy} busyLabel="Accepting…" onClick={() => void accept()}>
          Accept invitation
        </Button>
        <Button
          variant="secondary"
          disabled={busy}
          onClick={async () => {
            try {
              await authStore.getState().signOut();
              navigate(withNext('/sign-in', here), { replace: true });
            } catch (err) {
              setError(`Couldn't sign out: ${errorMessage(err)}`);
            }
          }}
        >
          Not you? Sign out
        </Button>
      </div>
    </Page>
  );
}
