import { ButtonLink, Icon, Page } from '../../../lib/ui/index.ts';
import { Link } from '../../../lib/router.ts';
import { useAuth } from '../../auth/store.ts';
import { selectActiveTenant, useTenancy } from '../../tenancy/store.ts';
import { ROLE_LABELS, STATUS_LABELS, canManageMembers } from '../../tenancy/model.ts';

/**
 * The technician's home: which shop, in which role, and the one thing they come here to do — snap a repair
 * order — as the biggest target on the screen, reachable with a thumb.
 */
export function HomePage() {
  const tenant = useTenancy(selectActiveTenant);
  const email = useAuth((s) => s.user?.email ?? null);
  if (!tenant) return null;
  const attention = tenant.status === 'past_due' || tenant.status === 'suspended' || tenant.status === 'canceled';
  return (
    <Page title={tenant.name} heading={tenant.name}>
      <p className="lead">
        You're working as <strong>{ROLE_LABELS[tenant.role]}</strong>
        {email ? (
          <>
            {' '}
            (<span className="nowrap">{email}</span>)
          </>
        ) : null}
        .
      </p>
      <p className={attention ? 'status-line status-attention' : 'status-line'}>
        <span className="visually-hidden">Shop status: </span>
        {attention ? <span aria-hidden="true">⚠ </span> : null}
        {STATUS_LABELS[tenant.status]}
        {tenant.plan ? ` · ${tenant.plan} plan` : ''}
      </p>
      <div className="hero-action">
        <ButtonLink to="/capture" size="hero">
          <Icon name="camera" size={32} /> Snap a repair order
        </ButtonLink>
        <p className="hint">Photograph the repair order; ServicePro reads the customer and vehicle details for you.</p>
      </div>
      {canManageMembers(tenant.role) ? (
        <section className="card" aria-labelledby="manage-title">
          <h2 id="manage-title">Manage {tenant.name}</h2>
          <ul className="link-list">
            <li>
              <Link to="/members">Members and invitations</Link>
            </li>
          </ul>
        </section>
      ) : null}
    </Page>
  );
}
