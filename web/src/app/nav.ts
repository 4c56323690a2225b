/**
 * The signed-in shell's navigation (pure, unit-tested): every entry, who sees it, which are the phone's bottom-bar
 * thumb targets, and which entry is current for a path.
 */
import type { IconName } from '../lib/ui/iconPaths.ts';
import type { Role } from '../features/tenancy/model.ts';

/**
 * Who may see a navigation entry: 'everyone' and 'managers' are members of the shop acting for; 'platform_admins'
 * whether or not they belong to a shop; 'shopless' only people who act for no shop (e.g. an operator with none).
 */
export type NavAudience = 'everyone' | 'managers' | 'platform_admins' | 'shopless';

export interface NavItem {
  to: string;
  label: string;
  icon: IconName;
  audience: NavAudience;
  /** On a phone: one of the bottom bar's thumb targets (at most 4, plus "More": five in all); the rest open from "More". */
  primary: boolean;
  /** Other paths that mark this entry as the current one (e.g. /billing under Usage & Billing). */
  also?: string[];
}

/** The main navigation of the signed-in shell, in order. */
export const NAV_ITEMS: NavItem[] = [
  { to: '/', label: 'Home', icon: 'home', audience: 'everyone', primary: true },
  { to: '/capture', label: 'Snap', icon: 'camera', audience: 'everyone', primary: true },
  { to: '/customers', label: 'Customers', icon: 'people', audience: 'everyone', primary: true },
  // What waits on this device (texts here, photos named with a link to Snap); the outbox line opens it too.
  { to: '/outbox', label: 'Outbox', icon: 'outbox', audience: 'everyone', primary: false },
  { to: '/usage', label: 'Usage & Billing', icon: 'chart', audience: 'managers', primary: false, also: ['/billing'] },
  { to: '/members', label: 'Members', icon: 'people', audience: 'everyone', primary: true },
  { to: '/settings', label: 'Settings', icon: 'settings', audience: 'managers', primary: false },
  { to: '/settings/phone', label: 'Phone', icon: 'phone', audience: 'everyone', primary: false },
  { to: '/admin', label: 'Admin', icon: 'shield', audience: 'platform_admins', primary: false },
  { to: '/create-shop', label: 'Create a shop', icon: 'plus', audience: 'shopless', primary: true },
];

/**
 * The entries someone sees: technicians do not see owner-only ones; Admin only for platform admins. Without a shop
 * (`role` null: a platform operator who belongs to none) only what works without one: Admin and "Create a shop",
 * both on the phone's bar (there is nothing for "More" to hold).
 */
export function navItemsFor(role: Role | null | undefined, platformAdmin: boolean): NavItem[] {
  if (!role) {
    return NAV_ITEMS.filter((i) => i.audience === 'shopless' || (i.audience === 'platform_admins' && platformAdmin))
      .map((i) => ({ ...i, primary: true }));
  }
  const manager = role === 'owner' || role === 'admin';
  return NAV_ITEMS.filter((i) => i.audience === 'everyone' || (i.audience === 'managers' && manager) || (i.audience === 'platform_admins' && platformAdmin));
}

/** Whether a navigation entry is the current one: the longest matching entry wins (/settings/phone → Phone). */
export function currentNavItem(items: NavItem[], pathname: string): string | null {
  let best: { to: string; len: number } | null = null;
  for (const item of items) {
    for (const p of [item.to, ...(item.also ?? [])]) {
      const hit = p === '/' ? pathname === '/' : pathname === p || pathname.startsWith(`${p}/`);
      if (hit && (!best || p.length > best.len)) best = { to: item.to, len: p.length };
    }
  }
  return best?.to ?? null;
}
