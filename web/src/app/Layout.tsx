import { useEffect, useState, type ReactNode } from 'react';
import { Link, useLocation } from '../lib/router.ts';
import { Icon, useOnline } from '../lib/ui/index.ts';
import { describeOutbox, useOutboxStatus } from '../lib/outboxStatus.ts';
import { ShopSwitcher } from '../features/tenancy/components/ShopSwitcher.tsx';
import { SignOutButton } from '../features/auth/components/SignOutButton.tsx';
import { selectActiveTenant, useTenancy } from '../features/tenancy/store.ts';
import { adminStore, useAdmin } from '../features/admin/store.ts';
import { currentNavItem, navItemsFor } from './routes.tsx';
import { UpdatePrompt } from './UpdatePrompt.tsx';

function OfflineBanner() {
  const online = useOnline();
  if (online) return null;
  return (
    <div className="offline-banner" role="status">
      <strong>Offline:</strong> you can keep using the app; anything that needs the server waits until you're back online.
    </div>
  );
}

/** What waits on this device (texts and photos), on every screen, in words (not a coloured dot). */
function OutboxLine() {
  const status = useOutboxStatus((s) => s);
  const text = describeOutbox(status);
  if (!text) return null;
  const to = status.sends.pending + status.sends.failed > 0 ? '/outbox' : '/capture';
  return (
    <div className={text.failed ? 'outbox-line outbox-line-failed' : 'outbox-line'} role="status">
      {text.failed ? <strong><span aria-hidden="true">⚠ </span>{text.failed}.</strong> : null}
      {text.waiting ? <span> {text.waiting}.</span> : null} <Link to={to}>Open the outbox</Link>
    </div>
  );
}

/**
 * The main navigation, role-aware. Phone: a bottom bar of five thumb targets (Home, Snap, Customers, Members, More);
 * "More" unfolds the other entries above the bar. Tablet and up: every entry in the left column. Someone acting for
 * no shop (a platform operator with none) sees only Admin and "Create a shop".
 */
function MainNav() {
  const { pathname } = useLocation();
  const role = useTenancy((s) => selectActiveTenant(s)?.role ?? null);
  const isAdmin = useAdmin((s) => s.isAdmin === true);
  // Whether "no shop" is known (not just not loaded yet): only then is "Create a shop" offered instead of the shop's entries.
  const shopsKnown = useTenancy((s) => s.tenants.length > 0 || s.status === 'ready');
  const [moreOpen, setMoreOpen] = useState(false);
  useEffect(() => { void adminStore.getState().check(); }, []);
  useEffect(() => setMoreOpen(false), [pathname]);
  useEffect(() => {
    if (!moreOpen) return;
    const onKey = (e: KeyboardEvent) => { if (e.key === 'Escape') setMoreOpen(false); };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [moreOpen]);
  const items = navItemsFor(role, isAdmin).filter((i) => shopsKnown || i.audience !== 'shopless');
  const current = currentNavItem(items, pathname);
  const secondary = items.filter((i) => !i.primary);
  const currentIsSecondary = secondary.some((i) => i.to === current);
  return (
    <nav className={moreOpen ? 'nav nav-more-open' : 'nav'} aria-label="Main">
      <ul id="main-nav-list">
        {items.map((item) => (
          <li key={item.to} className={item.primary ? undefined : 'nav-secondary'}>
            <Link to={item.to} aria-current={current === item.to ? 'page' : undefined}>
              <Icon name={item.icon} className="nav-icon" />
              <span className="nav-label">{item.label}</span>
            </Link>
          </li>
        ))}
        {secondary.length ? (
          <li className="nav-more-item">
            <button type="button" className="nav-more" aria-expanded={moreOpen} aria-controls="main-nav-list"
              aria-current={currentIsSecondary && !moreOpen ? 'page' : undefined} onClick={() => setMoreOpen((o) => !o)}>
              <Icon name="more" className="nav-icon" />
              <span className="nav-label">More</span>
            </button>
          </li>
        ) : null}
        {/* Ends the unfolded rows, so the bar's own targets stay on one line below them. */}
        {secondary.length ? <li className="nav-break" aria-hidden="true" /> : null}
      </ul>
    </nav>
  );
}

function Brand() {
  return (
    <Link to="/" className="brand">
      <img src="/icons/favicon-32.png" alt="" width={28} height={28} />
      <span>ServicePro</span>
    </Link>
  );
}

/**
 * The signed-in shell. Phone first (360–430 px): a top bar with the shop switcher and a bottom tab bar within
 * thumb reach. From 768 px: navigation becomes a left column beside the content (two columns).
 */
export function AppLayout({ children }: { children: ReactNode }) {
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Brand />
        <ShopSwitcher />
        <SignOutButton className="topbar-signout" />
      </header>
      <OfflineBanner />
      <OutboxLine />
      <div className="app-body">
        <MainNav />
        <main id="main" className="main">
          {children}
        </main>
      </div>
      <UpdatePrompt />
    </div>
  );
}

/** Signed-out and set-up screens: one centred column, the brand on top. */
export function BareLayout({ children }: { children: ReactNode }) {
  return (
    <div className="bare">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="bare-head">
        <Brand />
      </header>
      <OfflineBanner />
      <main id="main" className="bare-main">
        {children}
      </main>
      <UpdatePrompt />
    </div>
  );
}
