/**
 * The route table: one place to see every screen, who may open it, and whether it wears the signed-in shell.
 * Later features add their screens here (capture replaces /capture; usage, billing, settings, admin join).
 */
import type { ReactNode } from 'react';
import { matchPath, type Params } from '../lib/router.ts';
import type { IconName } from '../lib/ui/index.ts';
import type { Access } from './guard.ts';
import { SignInPage } from '../features/auth/components/SignInPage.tsx';
import { SignUpPage } from '../features/auth/components/SignUpPage.tsx';
import { CreateShopPage } from '../features/tenancy/components/CreateShopPage.tsx';
import { MembersPage } from '../features/tenancy/components/MembersPage.tsx';
import { AcceptInvitePage } from '../features/tenancy/components/AcceptInvitePage.tsx';
import { HomePage } from '../features/home/components/HomePage.tsx';
import { CapturePage } from '../features/capture/components/CapturePage.tsx';
import { ReviewPage } from '../features/capture/components/ReviewPage.tsx';
import { CustomersPage, NewCustomerPage } from '../features/customers/components/CustomersPage.tsx';
import { CustomerDetailPage } from '../features/customers/components/CustomerDetailPage.tsx';
import { ImportPage } from '../features/customers/components/ImportPage.tsx';
import { NotFoundPage } from './NotFoundPage.tsx';
import { UsagePage } from '../features/usage/components/UsagePage.tsx';
import { AdminPage } from '../features/admin/components/AdminPage.tsx';
import { BillingPage } from '../features/billing/components/BillingPage.tsx';
import { ThreadPage } from '../features/messaging/components/ThreadPage.tsx';
import { PhonePage } from '../features/phone/components/PhonePage.tsx';

export interface RouteDef {
  path: string;
  access: Access;
  /** 'app': header, shop switcher and navigation; 'bare': a single centred column (signed-out screens). */
  chrome: 'app' | 'bare';
  render: (params: Params) => ReactNode;
}

export const ROUTES: RouteDef[] = [
  { path: '/', access: 'shop', chrome: 'app', render: () => <HomePage /> },
  { path: '/capture', access: 'shop', chrome: 'app', render: () => <CapturePage /> },
  { path: '/capture/review/:id', access: 'shop', chrome: 'app', render: (p) => <ReviewPage key={p.id} id={p.id ?? ''} /> },
  { path: '/customers', access: 'shop', chrome: 'app', render: () => <CustomersPage /> },
  { path: '/customers/new', access: 'shop', chrome: 'app', render: () => <NewCustomerPage /> },
  { path: '/customers/import', access: 'shop', chrome: 'app', render: () => <ImportPage /> },
  { path: '/customers/:id', access: 'shop', chrome: 'app', render: (p) => <CustomerDetailPage key={p.id} id={p.id ?? ''} /> },
  { path: '/members', access: 'shop', chrome: 'app', render: () => <MembersPage /> },
  { path: '/usage', access: 'shop', chrome: 'app', render: () => <UsagePage /> },
  // every member sees the plans and banners; owners/admins subscribe, change plan and open the portal
  { path: '/billing', access: 'shop', chrome: 'app', render: () => <BillingPage /> },
  // a customer's text thread (the customers page may embed <Thread tenantId customerId /> instead)
  { path: '/customers/:id/thread', access: 'shop', chrome: 'app', render: (p) => <ThreadPage key={p.id} customerId={p.id ?? ''} /> },
  // the shop's phone number: owners/admins manage it, every member sees it and the voicemails
  { path: '/settings/phone', access: 'shop', chrome: 'app', render: () => <PhonePage /> },
  // platform admins only: the page asks am_i_platform_admin() and shows "not found" to everyone else
  { path: '/admin', access: 'auth', chrome: 'app', render: () => <AdminPage /> },
  { path: '/create-shop', access: 'auth', chrome: 'bare', render: () => <CreateShopPage /> },
  { path: '/sign-in', access: 'public', chrome: 'bare', render: () => <SignInPage /> },
  { path: '/sign-up', access: 'public', chrome: 'bare', render: () => <SignUpPage /> },
  { path: '/invite/:token', access: 'public', chrome: 'bare', render: (p) => <AcceptInvitePage key={p.token} token={p.token ?? ''} /> },
];

export const NOT_FOUND: RouteDef = { path: '*', access: 'public', chrome: 'bare', render: () => <NotFoundPage /> };

export function resolveRoute(pathname: string): { route: RouteDef; params: Params } {
  for (const route of ROUTES) {
    const params = matchPath(route.path, pathname);
    if (params) return { route, params };
  }
  return { route: NOT_FOUND, params: {} };
}

/** The main navigation of the signed-in shell. */
export const NAV_ITEMS: { to: string; label: string; icon: IconName }[] = [
  { to: '/', label: 'Home', icon: 'home' },
  { to: '/capture', label: 'Snap', icon: 'camera' },
  { to: '/customers', label: 'Customers', icon: 'people' },
  { to: '/members', label: 'Members', icon: 'people' },
];
