/**
 * The route table: one place to see every screen, who may open it, and whether it wears the signed-in shell.
 * Later features add their screens here (capture replaces /capture; usage, billing, settings, admin join).
 */
import { lazy, type ComponentType, type ReactNode } from 'react';
import { matchPath, type Params } from '../lib/router.ts';
import type { Access } from './guard.ts';
// Eager: the first screens people see (sign-in, and the technician home with Snap as its hero). Everything else is
// a lazy chunk per route group, so the first paint does not wait for libphonenumber, papaparse, chart.js, the OCR
// review or the owner's screens. The service worker precaches every chunk, so lazy screens still open offline.
import { SignInPage } from '../features/auth/components/SignInPage.tsx';
import { HomePage } from '../features/home/components/HomePage.tsx';
import { NotFoundPage } from './NotFoundPage.tsx';

/** A named export of a lazily imported module as a React.lazy component (one chunk per module group). */
function lazyNamed<M extends Record<string, unknown>, K extends keyof M>(load: () => Promise<M>, name: K) {
  return lazy(async () => ({ default: (await load())[name] as unknown as ComponentType<any> })); // eslint-disable-line @typescript-eslint/no-explicit-any
}

const signUp = () => import('../features/auth/components/SignUpPage.tsx');
const tenancyScreens = () => import('./lazy/tenancy.ts');
const captureScreens = () => import('./lazy/capture.ts');
const customerScreens = () => import('./lazy/customers.ts');
const ownerScreens = () => import('./lazy/owner.ts');

const SignUpPage = lazyNamed(signUp, 'SignUpPage');
const CreateShopPage = lazyNamed(tenancyScreens, 'CreateShopPage');
const MembersPage = lazyNamed(tenancyScreens, 'MembersPage');
const AcceptInvitePage = lazyNamed(tenancyScreens, 'AcceptInvitePage');
const CapturePage = lazyNamed(captureScreens, 'CapturePage');
const ReviewPage = lazyNamed(captureScreens, 'ReviewPage');
const CustomersPage = lazyNamed(customerScreens, 'CustomersPage');
const NewCustomerPage = lazyNamed(customerScreens, 'NewCustomerPage');
const CustomerDetailPage = lazyNamed(customerScreens, 'CustomerDetailPage');
const ImportPage = lazyNamed(customerScreens, 'ImportPage');
const ThreadPage = lazyNamed(customerScreens, 'ThreadPage');
const SendOutboxPage = lazyNamed(customerScreens, 'SendOutboxPage');
const UsagePage = lazyNamed(ownerScreens, 'UsagePage');
const BillingPage = lazyNamed(ownerScreens, 'BillingPage');
const SettingsPage = lazyNamed(ownerScreens, 'SettingsPage');
const PhonePage = lazyNamed(ownerScreens, 'PhonePage');
const AdminPage = lazyNamed(() => import('../features/admin/components/AdminPage.tsx'), 'AdminPage');

/** Loads the chunk of a path ahead of a likely tap (e.g. Snap from the home), without rendering it. */
export function preloadRoute(path: string): void {
  const loader = path.startsWith('/capture') ? captureScreens : path.startsWith('/customers') ? customerScreens : null;
  void loader?.().catch(() => undefined);
}

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
  // texts saved on this device that wait for the connection (or failed), with retry
  { path: '/outbox', access: 'shop', chrome: 'app', render: () => <SendOutboxPage /> },
  // a customer's text thread (the customers page may embed <Thread tenantId customerId /> instead)
  { path: '/customers/:id/thread', access: 'shop', chrome: 'app', render: (p) => <ThreadPage key={p.id} customerId={p.id ?? ''} /> },
  // shop settings: owners/admins edit, members read
  { path: '/settings', access: 'shop', chrome: 'app', render: () => <SettingsPage /> },
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

export { NAV_ITEMS, navItemsFor, currentNavItem, type NavItem, type NavAudience } from './nav.ts';
