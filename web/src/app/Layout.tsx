import type { ReactNode } from 'react';
import { Link, useLocation } from '../lib/router.ts';
import { Icon, useOnline } from '../lib/ui/index.ts';
import { ShopSwitcher } from '../features/tenancy/components/ShopSwitcher.tsx';
import { SignOutButton } from '../features/auth/components/SignOutButton.tsx';
import { NAV_ITEMS } from './routes.tsx';
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
  const { pathname } = useLocation();
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
      <div className="app-body">
        <nav className="nav" aria-label="Main">
          <ul>
            {NAV_ITEMS.map((item) => {
              const current = item.to === '/' ? pathname === '/' : pathname.startsWith(item.to);
              return (
                <li key={item.to}>
                  <Link to={item.to} aria-current={current ? 'page' : undefined}>
                    <Icon name={item.icon} className="nav-icon" />
                    <span className="nav-label">{item.label}</span>
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
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
