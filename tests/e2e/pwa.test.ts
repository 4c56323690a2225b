/**
 * The PWA's platform promises, checked in real Chromium against the production build:
 * - installable: the browser's own installability check (DevTools protocol) finds nothing missing, and the manifest
 *   it parsed has the name, icons (192, 512, maskable), standalone display, start URL and the "Snap" shortcut;
 * - the service worker registers and controls the page after a reload;
 * - offline, the app shell still opens (also on a deep link);
 * - Supabase's paths are never answered by the service worker: no cached API response, no app shell for
 *   /rest/ or /auth/, and nothing from the API in the caches after a signed-in session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { launchPersistent, skipReason, webUrl } from './helpers/browser.ts';
import { heading, open, signUpWithShop, uniqueEmail, uniqueShopName } from './helpers/app.ts';
import { screenshotScreen } from './helpers/screens.ts';

const skip = skipReason();

interface ManifestIcon { src: string; sizes?: string; type?: string; purpose?: string }
interface Manifest {
  name?: string;
  short_name?: string;
  start_url?: string;
  scope?: string;
  display?: string;
  theme_color?: string;
  background_color?: string;
  icons?: ManifestIcon[];
  shortcuts?: { name: string; url: string; icons?: ManifestIcon[] }[];
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  const signature = '89504e470d0a1a0a';
  if (bytes.subarray(0, 8).toString('hex') !== signature) throw new Error('not a PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** What a same-page fetch() gets: an answer (status, type, start of body) or the network error. */
async function pageFetch(page: Page, url: string): Promise<{ ok: true; status: number; contentType: string; body: string } | { ok: false; error: string }> {
  return page.evaluate(async (u) => {
    try {
      const r = await fetch(u, { cache: 'no-store' });
      return { ok: true as const, status: r.status, contentType: r.headers.get('content-type') ?? '', body: (await r.text()).slice(0, 200) };
    } catch (e) {
      return { ok: false as const, error: String(e) };
    }
  }, url);
}

describe.skipIf(!!skip)(skip ? `the installable, offline PWA (skipped: ${skip})` : 'the installable, offline PWA', () => {
  let context: BrowserContext;
  let close: () => Promise<void>;
  let page: Page;
  let cdp: CDPSession;

  beforeAll(async () => {
    // A real (non-incognito) profile in a fresh directory: Chromium calls off-the-record windows not installable.
    ({ context, close } = await launchPersistent());
    page = context.pages()[0] ?? (await context.newPage());
    cdp = await context.newCDPSession(page);
  });

  afterAll(async () => {
    await close?.();
  });

  it('registers the service worker, which controls the page after a reload', async () => {
    await open(page, '/sign-in');
    await heading(page, 'Sign in to ServicePro').waitFor();
    const registered = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      const worker = reg.active!;
      // ready resolves once a worker is active, possibly still 'activating': wait for the precache to be in place.
      if (worker.state !== 'activated') {
        await new Promise<void>((resolve) => worker.addEventListener('statechange', () => worker.state === 'activated' && resolve()));
      }
      return { scope: reg.scope, script: worker.scriptURL, state: worker.state };
    });
    expect(registered.scope).toBe(`${webUrl()}/`);
    expect(registered.script).toBe(`${webUrl()}/sw.js`);
    expect(registered.state).toBe('activated');

    await page.reload();
    await heading(page, 'Sign in to ServicePro').waitFor();
    const controller = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null);
    expect(controller).toBe(`${webUrl()}/sw.js`);
  });

  it('is installable by the browser\'s own check, with the manifest the issue asks for', async () => {
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
      installabilityErrors: { errorId: string; errorArguments: { name: string; value: string }[] }[];
    };
    expect(installabilityErrors.map((e) => e.errorId)).toEqual([]);

    const { url, errors, data } = (await cdp.send('Page.getAppManifest')) as { url: string; errors: { message: string; critical: number }[]; data?: string };
    expect(url).toBe(`${webUrl()}/manifest.webmanifest`);
    expect(errors).toEqual([]);
    const manifest = JSON.parse(data ?? '{}') as Manifest;
    expect(manifest.name).toBe('ServicePro');
    expect(manifest.short_name).toBe('ServicePro');
    expect(manifest.display).toBe('standalone');
    expect(manifest.start_url).toBe('/');
    expect(manifest.scope).toBe('/');
    expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
    expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/i);

    const icons = manifest.icons ?? [];
    const has = (size: string, purpose: string) => icons.find((i) => i.sizes === size && (i.purpose ?? 'any').split(' ').includes(purpose));
    for (const [size, purpose] of [['192x192', 'any'], ['512x512', 'any'], ['192x192', 'maskable'], ['512x512', 'maskable']] as const) {
      const icon = has(size, purpose);
      expect(icon, `a ${size} ${purpose} icon`).toBeDefined();
      // The icon is served, is a PNG, and is as big as it claims.
      const r = await page.request.get(new URL(icon!.src, url).toString());
      expect(r.status()).toBe(200);
      const dims = pngSize(await r.body());
      expect(`${dims.width}x${dims.height}`).toBe(size);
    }

    const snap = (manifest.shortcuts ?? []).find((s) => s.name === 'Snap a repair order');
    expect(snap, 'the "Snap a repair order" shortcut').toBeDefined();
    expect(snap!.url).toBe('/capture');
  });

  it('never caches Supabase responses: after a signed-in session the caches hold only the app shell', async () => {
    await signUpWithShop(page, uniqueEmail('pwa'), { name: uniqueShopName('Offline Garage'), industry: 'Device repair', timeZone: 'UTC' });
    const apiOrigin = new URL(process.env.API_URL!).origin;
    const cached = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const req of await cache.keys()) urls.push(req.url);
      }
      return urls;
    });
    expect(cached.length).toBeGreaterThan(0); // the precached shell
    expect(cached.filter((u) => u.startsWith(apiOrigin) || /\/(rest|auth|storage|functions)\/v1\//.test(u))).toEqual([]);
    expect(cached.every((u) => u.startsWith(`${webUrl()}/`))).toBe(true);
    expect(cached.some((u) => new URL(u).pathname === '/index.html')).toBe(true);
  });

  it('opens offline: the service worker answers a reload and a deep link with the app shell', async () => {
    await context.setOffline(true);
    try {
      const reloaded = await page.reload();
      expect(reloaded?.fromServiceWorker()).toBe(true);
      await page.getByRole('link', { name: 'ServicePro' }).first().waitFor();
      expect(await page.title()).toMatch(/ServicePro$/);
      // The deep link is answered with the shell too (the app then decides what to show).
      const deep = await page.goto(`${webUrl()}/members`);
      expect(deep?.fromServiceWorker()).toBe(true);
      expect(deep?.status()).toBe(200);
      await page.locator('#root main').first().waitFor();
      await screenshotScreen(page, 'offline');
    } finally {
      await context.setOffline(false);
    }
  });

  it('never answers /rest/, /auth/, /storage/ or /functions/ from the service worker', async () => {
    await open(page, '/sign-in');
    await page.locator('#root main').first().waitFor();
    await context.setOffline(true);
    try {
      // No cached API answers: offline, every API request is a network error (not a stale body, not index.html).
      for (const url of [
        `${webUrl()}/rest/v1/tenants?select=id`,
        `${webUrl()}/auth/v1/user`,
        `${process.env.API_URL}/rest/v1/tenants?select=id`,
        `${process.env.API_URL}/auth/v1/settings`,
      ]) {
        expect(await pageFetch(page, url), url).toMatchObject({ ok: false });
      }
      // A navigation to an API path on the app's origin goes to the network (and fails offline), not to the shell.
      for (const path of ['/rest/v1/tenants', '/auth/v1/verify?token=x&type=signup']) {
        const failed = await page.goto(`${webUrl()}${path}`).then(() => null, (e: Error) => e.message);
        expect(failed, path).toMatch(/net::ERR_INTERNET_DISCONNECTED/);
      }
    } finally {
      await context.setOffline(false);
    }
    // Online: app paths come from the service worker's shell; API paths pass through it to the network (where the
    // same-origin reverse proxy of a production deployment would route them).
    const app = await page.goto(`${webUrl()}/members`);
    expect(app?.fromServiceWorker()).toBe(true);
    for (const path of ['/rest/v1/tenants', '/auth/v1/verify?token=x', '/storage/v1/object/public/x.png', '/functions/v1/whoami']) {
      const res = await page.goto(`${webUrl()}${path}`);
      expect(res?.fromServiceWorker(), path).toBe(false);
    }
  });
});
