import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Alert, Button, ErrorRegion, Loading, Page, SelectField, TextField } from '../../../lib/ui/index.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { membersStore, selectActiveTenant, useMembers, useTenancy, type SentInvitation } from '../store.ts';
import { ROLE_LABELS, canManageMembers, invitableRoles, type Role } from '../model.ts';
import { useAuth } from '../../auth/store.ts';

function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

export function MembersPage() {
  const tenant = useTenancy(selectActiveTenant);
  const myId = useAuth((s) => s.user?.id ?? null);
  const members = useMembers((s) => s.members);
  const status = useMembers((s) => s.status);
  const loadError = useMembers((s) => s.error);
  const invitations = useMembers((s) => s.invitations);
  const tenantId = tenant?.id ?? null;

  useEffect(() => {
    if (tenantId) void membersStore.getState().load(tenantId);
  }, [tenantId]);

  if (!tenant) return null;
  const manage = canManageMembers(tenant.role);

  return (
    <Page title="Members" heading={`Members of ${tenant.name}`}>
      <div className="columns">
        <section aria-labelledby="members-list" className="card">
          <h2 id="members-list">People in this shop</h2>
          {status === 'loading' && !members.length ? <Loading label="Loading members…" /> : null}
          {loadError ? (
            <>
              <Alert>{loadError.message}</Alert>
              <Button variant="secondary" onClick={() => void membersStore.getState().load(tenant.id)}>
                Try again
              </Button>
            </>
          ) : null}
          {members.length ? (
            <ul className="member-list">
              {members.map((m) => (
                <li key={m.userId}>
                  <span className="member-name">
                    {m.userId === myId ? 'You' : `Member ${m.userId.slice(0, 8)}`}
                  </span>
                  <span className={`role-badge role-${m.role}`}>{ROLE_LABELS[m.role]}</span>
                  {m.createdAt ? <span className="muted">Joined {formatDate(m.createdAt)}</span> : null}
                </li>
              ))}
            </ul>
          ) : status === 'ready' ? (
            <p>No members to show.</p>
          ) : null}
        </section>
        <section aria-labelledby="invite-title" className="card">
          <h2 id="invite-title">Invite someone</h2>
          {manage ? (
            <InviteForm tenantId={tenant.id} roles={invitableRoles(tenant.role)} />
          ) : (
            <p>Only the shop's owners and admins can invite people. Ask one of them to send you an invite link for a colleague.</p>
          )}
          {invitations.length ? <InvitationList invitations={invitations} /> : null}
        </section>
      </div>
    </Page>
  );
}

function InviteForm({ tenantId, roles }: { tenantId: string; roles: Role[] }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>(roles[0] ?? 'technician');
  const [emailError, setEmailError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    const clean = email.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(clean)) {
      setEmailError('Enter the email address of the person to invite.');
      return;
    }
    setEmailError(null);
    setError(null);
    setBusy(true);
    try {
      await membersStore.getState().invite(tenantId, clean, role);
      setEmail('');
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate className="form">
      <ErrorRegion error={error} />
      <TextField
        label="Their email"
        type="email"
        inputMode="email"
        autoCapitalize="none"
        spellCheck={false}
        autoComplete="off"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        error={emailError}
        required
      />
      <SelectField
        label="Role"
        value={role}
        onChange={(e) => setRole(e.target.value as Role)}
        options={roles.map((r) => ({ value: r, label: ROLE_LABELS[r] }))}
        hint="Technicians snap repair orders and text customers. Admins and owners also manage members, settings and billing."
      />
      <Button type="submit" busy={busy} busyLabel="Creating invite link…">
        Create invite link
      </Button>
    </form>
  );
}

function InvitationList({ invitations }: { invitations: SentInvitation[] }) {
  return (
    <div className="invitations">
      <h3>Invite links created</h3>
      <p className="hint">Send each link to the person it is for. It works once and expires; copy it now, it is not shown again.</p>
      <ul>
        {invitations.map((inv) => (
          <InvitationItem key={inv.invitationId || inv.link} inv={inv} />
        ))}
      </ul>
    </div>
  );
}

function InvitationItem({ inv }: { inv: SentInvitation }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const canShare = typeof navigator !== 'undefined' && typeof navigator.share === 'function';
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(inv.link);
      setCopied('Link copied.');
    } catch {
      input.current?.select();
      setCopied('Select the link and copy it.');
    }
  };
  return (
    <li className="invitation">
      <p>
        <strong>{inv.email}</strong> as {ROLE_LABELS[inv.role]}
      </p>
      <TextField label={`Invite link for ${inv.email}`} ref={input} readOnly value={inv.link} onFocus={(e) => e.currentTarget.select()} />
      <div className="row">
        <Button variant="secondary" onClick={() => void copy()}>
          Copy link
        </Button>
        {canShare ? (
          <Button
            variant="secondary"
            onClick={() => void navigator.share({ title: 'Join my shop on ServicePro', url: inv.link }).catch(() => undefined)}
          >
            Share…
          </Button>
        ) : null}
      </div>
      <p role="status" className="hint">
        {copied}
      </p>
    </li>
  );
}
