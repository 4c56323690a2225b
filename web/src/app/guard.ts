/**
 * Who may see which screen, as a pure decision (unit-tested):
 * - public: anyone (sign-in, sign-up, invitation links).
 * - auth:   signed in (creating a shop).
 * - shop:   signed in and acting for a shop (everything else). No shop yet → set one up.
 */
import { withNext } from '../lib/router.ts';

export type Access = 'public' | 'auth' | 'shop';

export interface GuardInput {
  access: Access;
  auth: 'loading' | 'signed_out' | 'signed_in';
  tenancy: 'idle' | 'loading' | 'ready' | 'error';
  tenantCount: number;
  activeTenantId: string | null;
  /** The current path with its query, to come back to after signing in. */
  here: string;
}

export type GuardDecision =
  | { kind: 'render' }
  | { kind: 'loading'; label: string }
  | { kind: 'redirect'; to: string }
  | { kind: 'tenancy_error' };

export function decide(g: GuardInput): GuardDecision {
  if (g.access === 'public') return { kind: 'render' };
  if (g.auth === 'loading') return { kind: 'loading', label: 'Checking your session…' };
  if (g.auth === 'signed_out') return { kind: 'redirect', to: withNext('/sign-in', g.here) };
  if (g.access === 'auth') return { kind: 'render' };
  if (g.tenancy === 'error' && g.tenantCount === 0) return { kind: 'tenancy_error' };
  if (g.tenancy === 'idle' || (g.tenancy === 'loading' && g.tenantCount === 0)) return { kind: 'loading', label: 'Loading your shops…' };
  if (g.tenantCount === 0) return { kind: 'redirect', to: '/create-shop' };
  if (!g.activeTenantId) return { kind: 'loading', label: 'Loading your shops…' };
  return { kind: 'render' };
}
