/// <reference lib="webworker" />
/**
 * ServicePro's service worker (built by vite-plugin-pwa's injectManifest strategy).
 *
 * - Precaches the app shell the build lists in self.__WB_MANIFEST, and drops caches of older builds.
 * - Serves index.html for in-app navigations so the app opens offline, except for Supabase's API paths.
 * - Caches nothing at runtime: no route is registered for API calls, so Supabase responses (tenant data, tokens,
 *   signed storage URLs) always go to the network and never land in a cache.
 * - Waits for the page to say SKIP_WAITING (the "A new version is ready — Reload" prompt), never updates by itself.
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { clientsClaim } from 'workbox-core';
import { NAVIGATION_DENYLIST } from './navigation.ts';

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: Array<string | { url: string; revision: string | null }>;
};

cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);

registerRoute(
  new NavigationRoute(createHandlerBoundToURL('/index.html'), {
    denylist: NAVIGATION_DENYLIST,
  }),
);

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  if (event.data && typeof event.data === 'object' && (event.data as { type?: unknown }).type === 'SKIP_WAITING') {
    void self.skipWaiting();
  }
});

// The first install takes control of open pages at once (there is no older version to keep consistent with).
clientsClaim();
