/**
 * Which navigations the service worker may answer with the app shell. Pure, so unit tests can pin it.
 * Supabase's API paths are never routed to the shell: when the API shares the app's origin (a reverse proxy in
 * production), a navigation to /auth/v1/... or /storage/v1/object/... must reach the network, not index.html.
 */
export const NAVIGATION_DENYLIST: RegExp[] = [/^\/rest\//, /^\/auth\//, /^\/storage\//, /^\/functions\//];

/** True when a same-origin navigation to this path should be served the cached index.html. */
export function servesAppShell(pathname: string): boolean {
  return !NAVIGATION_DENYLIST.some((re) => re.test(pathname));
}
