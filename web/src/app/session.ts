/**
 * Ties the features together at start: restores the session, and whenever the signed-in user changes, loads
 * (or forgets) that user's shops and resets per-shop screens. Features stay unaware of each other's stores.
 */
import { authStore } from '../features/auth/store.ts';
import { membersStore, tenancyStore } from '../features/tenancy/store.ts';

let started = false;

export function startSession(): void {
  if (started) return;
  started = true;
  let currentUserId: string | null | undefined;
  const onUser = (userId: string | null) => {
    if (userId === currentUserId) return;
    currentUserId = userId;
    membersStore.getState().reset();
    if (userId) void tenancyStore.getState().load(userId);
    else tenancyStore.getState().reset();
  };
  authStore.subscribe((s) => {
    if (s.status !== 'loading') onUser(s.user?.id ?? null);
  });
  authStore.getState().init();
}
