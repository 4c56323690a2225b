/**
 * Service-worker registration, once, with workbox-window. `registerType: 'prompt'`: a new version waits until the
 * person presses "Reload" in the update prompt; while online we look for a new version every hour.
 */
import type { Workbox } from 'workbox-window';
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';

export const UPDATE_CHECK_INTERVAL_MS = 60 * 60 * 1000;

interface PwaState {
  /** A new service worker is installed and waiting. */
  updateReady: boolean;
  /** The person asked to reload into the new version. */
  updating: boolean;
  /** The app shell is cached: the app opens offline from now on. */
  offlineReady: boolean;
}

export const pwaStore = createStore<PwaState>()(() => ({ updateReady: false, updating: false, offlineReady: false }));

export function usePwa<T>(selector: (s: PwaState) => T): T {
  return useStore(pwaStore, selector);
}

let wb: Workbox | null = null;
let registering = false;

export function registerServiceWorker(): void {
  // In dev there is no built sw.js (the plugin's devOptions are off): nothing to register.
  if (wb || registering || !import.meta.env.PROD || typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
  registering = true;
  // workbox-window is a lazy chunk: the first paint does not wait for it (it registers after `load` anyway).
  import('workbox-window').then(({ Workbox: WorkboxClass }) => register(new WorkboxClass(`${import.meta.env.BASE_URL}sw.js`, { scope: import.meta.env.BASE_URL, type: 'classic' })),
    (e: unknown) => { registering = false; console.warn('Service worker registration failed:', e instanceof Error ? e.message : e); });
}

function register(w: Workbox): void {
  wb = w;

  wb.addEventListener('waiting', () => pwaStore.setState({ updateReady: true }));
  wb.addEventListener('activated', (event) => {
    if (!event.isUpdate) pwaStore.setState({ offlineReady: true });
  });
  // The new worker took over after "Reload": load the page again so code and cache match.
  wb.addEventListener('controlling', (event) => {
    if (event.isUpdate || pwaStore.getState().updating) window.location.reload();
  });

  wb.register()
    .then((registration) => {
      if (!registration) return;
      window.setInterval(() => {
        if (!navigator.onLine || registration.installing) return;
        registration.update().catch(() => undefined); // offline or a flaky network: try again next hour
      }, UPDATE_CHECK_INTERVAL_MS);
    })
    .catch((e: unknown) => {
      // The app still works without a service worker (no offline shell); say why in the console only.
      console.warn('Service worker registration failed:', e instanceof Error ? e.message : e);
    });
}

/** Activates the waiting version; the 'controlling' handler reloads the page. */
export function applyUpdate(): void {
  if (!wb) return;
  pwaStore.setState({ updating: true });
  wb.messageSkipWaiting();
}

export function dismissUpdate(): void {
  pwaStore.setState({ updateReady: false });
}
