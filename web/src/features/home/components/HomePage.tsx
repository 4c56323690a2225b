import { lazy, Suspense, useEffect } from 'react';
import { ButtonLink, Icon, Loading, Page } from '../../../lib/ui/index.ts';
import { Link } from '../../../lib/router.ts';
import { useAuth } from '../../auth/store.ts';
import { selectActiveTenant, useTenancy } from '../../tenancy/store.ts';
import { ROLE_LABELS, STATUS_LABELS, canManageMembers } from '../../tenancy/model.ts';

// The dashboard (and its reads) is a lazy chunk: the technician's first paint never waits for it.
const OwnerDashboard = lazy(() => import('./OwnerDashboard.tsx').then((m) => ({ default: m.OwnerDashboard })));
// Snap is the next tap from here: fetch its screen once the home is up (the service worker also precaches it).
const preloadSnap = () => import('../../../app/lazy/capture.ts');

/**
 * The home. Technicians (phone first): which shop, in which role, and the one thing they come here to do — snap a
 * repair order — as the biggest target on the screen, reachable with a thumb (home → Snap → Review → Send).
 * Owners and admins also get their dashboard: beside it from 768 px (two columns), below it on a phone.
 */
export function HomePage() {
  const tenant = useTenancy(selectActiveTenant);
  const email = useAuth((s) => s.user?.email ?? null);
  useEffect(() => {
    const t = setTimeout(() => { void preloadSnap().catch(() => undefined); }, 2000);
    return () => clearTimeout(t);
  }, []);
  if (!tenant) return null;
  const attention = tenant.status === 'past_due' || tenant.status === 'suspended' || tenant.status === 'canceled';
  const manager = canManageMembers(tenant.role);
  return (
    <Page title={tenant.name} heading={tenant.name}>
      <div className={manager ? 'home-columns' : undefined}>
        <div>
          <p className="lead">
            You're working as <strong>{ROLE_LABELS[tenant.role]}</strong>
            {email ? (
              <>
                {' '}
                {/* One line, cut with an ellipsis when the column is narrower than the address (never over the dashboard). */}
                <span className="one-line" title={email}>({email}).</span>
              </>
            ) : '.'}
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
          {manager ? (
            <section className="card" aria-labelledby="manage-title">
              <h2 id="manage-title">Manage {tenant.name}</h2>
              <ul className="link-list">
                <li>
                  <Link to="/members">Members and invitations</Link>
                </li>
                <li>
                  <Link to="/usage">Usage, plan and billing</Link>
                </li>
                <li>
                  <Link to="/settings">Shop settings: review link, sending window, messages</Link>
                </li>
              </ul>
            </section>
          ) : null}
        </div>
        {manager ? (
          <Suspense fallback={<Loading label="Loading the dashboard…" />}>
            <OwnerDashboard tenantId={tenant.id} />
          </Suspense>
        ) : null}
      </div>
    </Page>
  );
}
