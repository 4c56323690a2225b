/**
 * Ties the features together at start: restores the session, and whenever the signed-in user changes, loads
 * (or forgets) that user's shops and resets per-shop screens. Features stay unaware of each other's stores.
 */
import { authStore } from '../features/auth/store.ts';
import { membersStore, tenancyStore } from '../features/tenancy/store.ts';
import { adminStore } from '../features/admin/store.ts';
import { setOutboxOwner } from '../lib/outboxOwner.ts';

let started = false;
let outboxesStarted = false;

/**
 * The device outboxes (capture photos, text sends) drain from app start, whatever screen opens first. Their modules
 * (the photo pipeline, libphonenumber, IndexedDB) are lazy chunks so they stay out of the first paint: they load once
 * someone is signed in and the browser is idle, then drain now, on `online` and on `visibilitychange`.
 */
function startOutboxes(): void {
  if (outboxesStarted || typeof window === 'undefined') return;
  outboxesStarted = true;
  const load = () => {
    void import('../features/capture/store.ts').then((m) => m.startCaptureSync(), () => { outboxesStarted = false; });
    void import('../features/messaging/sendStore.ts').then((m) => m.startSendSync(), () => { outboxesStarted = false; });
  };
  const idle = (window as { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => number }).requestIdleCallback;
  const later = () => (idle ? idle(load, { timeout: 3000 }) : setTimeout(load, 1000));
  if (document.readyState === 'complete') later();
  else window.addEventListener('load', later, { once: true });
}

export function startSession(): void {
  if (started) return;
  started = true;
  let currentUserId: string | null | undefined;
  const onUser = (userId: string | null) => {
    if (userId === currentUserId) return;
    currentUserId = userId;
    // Before the outboxes load or drain: they list and send only this user's entries.
    setOutboxOwner(userId);
    membersStore.getState().reset();
    adminStore.getState().reset();
    if (userId) startOutboxes();
    if (userId) void tenancyStore.getState().load(userId);
    else tenancyStore.getState().reset();
  };
  authStore.subscribe((s) => {
    if (s.status !== 'loading') onUser(s.user?.id ?? null);
  });
  authStore.getState().init();
}
