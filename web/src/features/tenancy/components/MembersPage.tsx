import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Alert, Button, ErrorRegion, Loading, Page, SelectField, TextField } from '../../../lib/ui/index.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { navigate } from '../../../lib/router.ts';
import { membersStore, selectActiveTenant, tenancyStore, useMembers, useTenancy, type SentInvitation } from '../store.ts';
import { ROLE_LABELS, assignableRoles, canManageMembers, canRemove, invitableRoles, type Member, type PendingInvitation, type Role, type TenantSummary } from '../model.ts';
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
  const pending = useMembers((s) => s.pending);
  const tenantId = tenant?.id ?? null;
  const manage = canManageMembers(tenant?.role);

  useEffect(() => {
    if (tenantId) void membersStore.getState().load(tenantId, { withInvitations: manage });
  }, [tenantId, manage]);

  if (!tenant) return null;

  return (
    <Page title="Members" heading={`Members of ${tenant.name}`}>
      <div className="columns">
        <section aria-labelledby="members-list" className="card">
          <h2 id="members-list">People in this shop</h2>
          {status === 'loading' && !members.length ? <Loading label="Loading members…" /> : null}
          {loadError ? (
            <>
              <Alert>{loadError.message}</Alert>
              <Button variant="secondary" onClick={() => void membersStore.getState().load(tenant.id, { withInvitations: manage })}>
                Try again
              </Button>
            </>
          ) : null}
          {members.length ? (
            <ul className="member-list">
              {members.map((m) => (
                <MemberRow key={m.userId} member={m} tenant={tenant} isSelf={m.userId === myId} />
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
          {manage && pending && pending.length ? <PendingList tenantId={tenant.id} pending={pending} /> : null}
        </section>
      </div>
    </Page>
  );
}

function MemberRow({ member, tenant, isSelf }: { member: Member; tenant: TenantSummary; isSelf: boolean }) {
  const roles = assignableRoles(tenant.role);
  const [role, setRole] = useState<Role>(member.role);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const label = isSelf ? 'You' : `Member ${member.userId.slice(0, 8)}`;
  const removable = canRemove(tenant.role, member.role, isSelf);

  const run = async (what: () => Promise<void>, success: string) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await what();
      setDone(success);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const leaveOrRemove = () => {
    const question = isSelf
      ? `Leave ${tenant.name}? You will lose access until someone invites you again.`
      : `Remove ${label} from ${tenant.name}? They lose access at once.`;
    if (!window.confirm(question)) return;
    void run(async () => {
      await membersStore.getState().remove(tenant.id, member.userId);
      if (isSelf) {
        await tenancyStore.getState().refresh();
        navigate('/', { replace: true });
      }
    }, isSelf ? 'You left the shop.' : `${label} was removed.`);
  };

  return (
    <li>
      <span className="member-name">{label}</span>
      <span className={`role-badge role-${member.role}`}>{ROLE_LABELS[member.role]}</span>
      {member.createdAt ? <span className="muted">Joined {formatDate(member.createdAt)}</span> : null}
      {roles.length || removable ? (
        <div className="member-actions row">
          {roles.length ? (
            <>
              <SelectField
                className="inline-field"
                label={`Role for ${label}`}
                value={role}
                onChange={(e) => setRole(e.target.value as Role)}
                options={roles.map((r) => ({ value: r, label: ROLE_LABELS[r] }))}
                disabled={busy}
              />
              <Button
                variant="secondary"
                disabled={role === member.role}
                busy={busy}
                onClick={() => void run(() => membersStore.getState().setRole(tenant.id, member.userId, role), `${label} is now ${ROLE_LABELS[role]}.`)}
              >
                Change role
              </Button>
            </>
          ) : null}
          {removable ? (
            <Button variant="secondary" disabled={busy} onClick={leaveOrRemove}>
              {isSelf ? 'Leave shop' : 'Remove'}
            </Button>
          ) : null}
        </div>
      ) : null}
      {error ? (
        <p role="alert" className="field-error">
          Error: {error}
        </p>
      ) : null}
      {done ? (
        <p role="status" className="hint">
          {done}
        </p>
      ) : null}
    </li>
  );
}

function PendingList({ tenantId, pending }: { tenantId: string; pending: PendingInvitation[] }) {
  const [error, setError] = useState<string | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  return (
    <div className="invitations">
      <h3>Waiting to be accepted</h3>
      <ErrorRegion error={error} />
      <ul className="member-list">
        {pending.map((p) => (
          <li key={p.id}>
            <span className="member-name">{p.email}</span>
            <span className={`role-badge role-${p.role}`}>{ROLE_LABELS[p.role]}</span>
            {p.expiresAt ? <span className="muted">Expires {formatDate(p.expiresAt)}</span> : null}
            <Button
              variant="secondary"
              busy={busyId === p.id}
              busyLabel="Withdrawing…"
              onClick={async () => {
                setBusyId(p.id);
                setError(null);
                try {
                  await membersStore.getState().revoke(tenantId, p.id);
                } catch (err) {
                  setError(errorMessage(err));
                } finally {
                  setBusyId(null);
                }
              }}
            >
              Withdraw<span className="visually-hidden"> the invitation for {p.email}</span>
            </Button>
          </li>
        ))}
      </ul>
    </div>
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
      <p className="hint">
        Send each link to the person it is for. It works once, only for that email address, and expires. Copy it now: it
        is not shown again.
      </p>
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
        {inv.expiresAt ? <span className="muted"> · expires {formatDate(inv.expiresAt)}</span> : null}
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
