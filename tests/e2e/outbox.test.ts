/**
 * Issue 8, flow 5, in the real PWA (built, served, its service worker in control) in headless Chromium:
 * offline, snapped repair orders wait in the outbox on the phone (IndexedDB, counted on every screen, still there
 * after an offline reload) → back online each is uploaded exactly once and read into one repair order, the one just
 * taken opens its review → the pending count returns to zero.
 *
 * The app is open in a second window too (an installed PWA window beside a browser tab): both share the device's
 * outbox and both see the connection come back. "Exactly once" is checked on both sides: the browser's requests from
 * every window (one upload and one ro-ocr call per photo, nothing attempted while offline) and the backend through
 * the service key (one repair order per client-generated id, one stored object named by it, read once).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { PHONE, launchBrowser, skipReason } from './helpers/browser.ts';
import { heading, open, signUpWithShop, uniqueEmail, uniqueShopName, type ShopInput } from './helpers/app.ts';
import { screenshotScreen } from './helpers/screens.ts';
import { eventually, sharedSample, tenantIdByName } from './helpers/backend.ts';
import { operatorClient } from './helpers/stack.ts';

const skip = skipReason();

interface StoredEntry { clientId: string; tenantId: string; state: string; attempts: number; path?: string; createdAt: number }

/** The capture outbox as the app keeps it in IndexedDB (database servicepro-capture, store outbox), oldest first. */
function outboxEntries(page: Page): Promise<StoredEntry[]> {
  return page.evaluate(() => new Promise<StoredEntry[]>((resolve, reject) => {
    const req = indexedDB.open('servicepro-capture');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('outbox')) { db.close(); resolve([]); return; }
      const all = db.transaction('outbox', 'readonly').objectStore('outbox').getAll();
      all.onerror = () => reject(all.error);
      all.onsuccess = () => {
        db.close();
        resolve((all.result as StoredEntry[])
          .map(({ clientId, tenantId, state, attempts, path, createdAt }) => ({ clientId, tenantId, state, attempts, path, createdAt }))
          .sort((a, b) => a.createdAt - b.createdAt));
      };
    };
  }));
}

/** The app-wide line of what waits on this device ("1 photo waiting to send."), or null when there is none. */
async function outboxLine(page: Page): Promise<string | null> {
  const line = page.locator('.outbox-line');
  return (await line.count()) ? (await line.innerText()).trim() : null;
}

/** "Take a photo" opens the camera (a file chooser here); the photo is the given file. */
async function takePhoto(page: Page, file: string): Promise<void> {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByRole('button', { name: 'Take a photo' }).click(),
  ]);
  await chooser.setFiles(file);
}

describe.skipIf(!!skip)(skip ? `offline capture outbox in the PWA (skipped: ${skip})` : 'offline capture outbox in the PWA', () => {
  const first = sharedSample('ro-002');
  const second = sharedSample('ro-003');
  const shop: ShopInput = { name: uniqueShopName('Offline Motors'), industry: 'Auto repair', timeZone: 'America/Chicago' };

  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let other: Page;
  let tenantId: string;
  /** Client-generated ids of the two captures, oldest first. */
  let ids: string[] = [];
  const uploads: Request[] = [];
  const ocrCalls: Request[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: PHONE });
    // The other window is the older one: it hears `online` first and so usually drains the outbox before the window
    // that took the photos, which then has to learn what its captures became (the harder path).
    other = await context.newPage();
    page = await context.newPage();
    // Every window of the app in this profile: the requests of both count.
    context.on('request', (r) => {
      if (r.method() !== 'POST') return;
      if (r.url().includes('/storage/v1/object/repair-orders/')) uploads.push(r);
      if (r.url().includes('/functions/v1/ro-ocr')) ocrCalls.push(r);
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('signs up and opens Snap with the service worker in control, the app open in a second window too', async () => {
    await signUpWithShop(page, uniqueEmail('outbox'), shop);
    tenantId = await tenantIdByName(shop.name);
    await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      const worker = reg.active!;
      if (worker.state !== 'activated') {
        await new Promise<void>((resolve) => worker.addEventListener('statechange', () => worker.state === 'activated' && resolve()));
      }
    });
    await open(page, '/capture'); // a load under the active worker: it now controls the page (and answers offline)
    await heading(page, 'Snap a repair order').waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
    expect(await outboxLine(page)).toBeNull();

    await open(other, '/');
    await heading(other, shop.name).waitFor({ timeout: 15_000 });
  });

  it('offline, snapped repair orders wait on the phone, counted on every screen, and survive a reload', async () => {
    await context.setOffline(true);
    await page.getByRole('status').filter({ hasText: /^Offline:/ }).waitFor();

    await takePhoto(page, first.file);
    // Saved on the phone and waiting: the capture's own card, the list, and the app-wide pending count.
    await page.getByText('Saved on this phone. It will upload when you are back online.').waitFor({ timeout: 15_000 });
    await page.getByRole('heading', { level: 2, name: 'On this phone (1)' }).waitFor();
    expect(await page.locator('.outbox-list li .outbox-state').allInnerTexts()).toEqual(['Waiting to upload']);
    expect(await outboxLine(page)).toMatch(/^1 photo waiting to send\. Open the outbox$/);
    const stored = await outboxEntries(page);
    expect(stored.map(({ clientId, ...rest }) => [clientId, rest])).toEqual([[expect.stringMatching(/^[0-9a-f-]{36}$/), expect.objectContaining({ tenantId, state: 'queued', attempts: 0, path: undefined })]]);
    await screenshotScreen(page, 'capture-offline');

    // The outbox is on the device, not in the page: an offline reload (the shell from the service worker) keeps it.
    const reloaded = await page.reload();
    expect(reloaded?.fromServiceWorker()).toBe(true);
    await heading(page, 'Snap a repair order').waitFor({ timeout: 15_000 });
    await page.getByRole('heading', { level: 2, name: 'On this phone (1)' }).waitFor({ timeout: 15_000 });
    expect(await outboxLine(page)).toMatch(/^1 photo waiting to send\./);

    // The outbox screen (texts) points to the waiting photo too; its link leads back to Snap.
    await open(page, '/outbox');
    await heading(page, 'Waiting to send').waitFor({ timeout: 15_000 });
    await page.getByRole('link', { name: 'Snap screen' }).waitFor();
    expect(await outboxLine(page)).toMatch(/^1 photo waiting to send\./);
    // No text waits, but a photo does: the screen says so (never "nothing is waiting"), and the navigation marks
    // the Outbox entry (under More on a phone), not Customers.
    expect(await page.locator('p.lead').innerText()).toBe('No texts are waiting: every text from this device has gone out.');
    expect(await page.getByText('1 photo waiting to upload on this device, listed on the Snap screen.').count()).toBe(1);
    expect(await page.locator('.nav [aria-current="page"]').evaluateAll((els) => els.map((e) => e.getAttribute('href') ?? e.textContent)))
      .toEqual(['/outbox', 'More']);
    await screenshotScreen(page, 'outbox');
    await page.getByRole('link', { name: 'Snap screen' }).click();
    await heading(page, 'Snap a repair order').waitFor();

    // The next repair order, still offline: the one the technician now waits for.
    await takePhoto(page, second.file);
    await page.getByRole('heading', { level: 2, name: 'On this phone (2)' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('.outbox-list li .outbox-state').allInnerTexts()).toEqual(['Waiting to upload', 'Waiting to upload']);
    expect(await outboxLine(page)).toMatch(/^2 photos waiting to send\. Open the outbox$/);
    ids = (await outboxEntries(page)).map((e) => e.clientId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(stored[0]!.clientId);

    // Nothing left the phone: no request was even attempted, and the server has nothing for this shop.
    expect(uploads).toHaveLength(0);
    expect(ocrCalls).toHaveLength(0);
    expect((await operatorClient().from('repair_orders').select('id').eq('tenant_id', tenantId)).data).toEqual([]);
    expect((await operatorClient().storage.from('repair-orders').list(tenantId)).data ?? []).toEqual([]);
  }, 90_000);

  it('back online, each photo is uploaded exactly once and read; the pending count returns to zero', async () => {
    await context.setOffline(false);

    // The outbox empties by itself (the `online` event drains it), whichever window of the app gets to it.
    await page.locator('.outbox-line').waitFor({ state: 'detached', timeout: 120_000 });
    await other.locator('.outbox-line').waitFor({ state: 'detached', timeout: 15_000 });
    expect(await outboxEntries(page)).toEqual([]);

    // The browser sent each photo once and asked for each to be read once, all answered OK.
    const paths = ids.map((id) => `${tenantId}/${id}.jpg`);
    expect(uploads.map((r) => new URL(r.url()).pathname)).toEqual(paths.map((p) => `/storage/v1/object/repair-orders/${p}`));
    expect(ocrCalls.map((r) => JSON.parse(r.postData() ?? '{}'))).toEqual(ids.map((id, i) => ({ tenant_id: tenantId, client_id: id, path: paths[i] })));
    for (const r of [...uploads, ...ocrCalls]) expect((await r.response())?.status(), r.url()).toBe(200);
    const by = (r: Request) => (r.frame().page() === page ? 'the Snap window' : 'the other window');
    console.info(`[outbox] uploads by ${uploads.map(by).join(', ')}; ro-ocr by ${ocrCalls.map(by).join(', ')}`);

    // The backend: one repair order per capture id, each read once; one object per id in the shop's folder.
    const { data: ros, error } = await operatorClient().from('repair_orders').select('id, client_id, status, photo_path, attempts, ro_number').eq('tenant_id', tenantId).order('created_at');
    expect(error).toBeNull();
    expect(ros).toEqual([
      { id: expect.any(String), client_id: ids[0], status: 'needs_review', photo_path: paths[0], attempts: 1, ro_number: first.truth.ro_number },
      { id: expect.any(String), client_id: ids[1], status: 'needs_review', photo_path: paths[1], attempts: 1, ro_number: second.truth.ro_number },
    ]);
    const { data: objects } = await operatorClient().storage.from('repair-orders').list(tenantId);
    expect((objects ?? []).map((o) => o.name).sort()).toEqual(ids.map((id) => `${id}.jpg`).sort());

    // The photo just taken opens its review with what OCR read, as it does online.
    await heading(page, `Repair order ${second.truth.ro_number}`).waitFor({ timeout: 30_000 });
    expect(new URL(page.url()).pathname).toBe(`/capture/review/${ros![1]!.id}`);
    expect(await page.getByLabel(/^Customer name/).inputValue()).toBe(second.truth.name);
    expect(await page.getByLabel(/^Mobile phone/).inputValue()).toBe(second.truth.phone);

    // Later drains (back to the foreground, online again) in either window send nothing again.
    for (const p of [page, other]) {
      await p.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
      await p.evaluate(() => window.dispatchEvent(new Event('online')));
    }
    const requests = await eventually(async () => uploads.length + ocrCalls.length, (n) => n !== 4, 2000);
    expect(requests).toBe(4);

    // The first one is among the recent repair orders on Snap, with the name OCR read.
    await page.getByRole('link', { name: 'Snap', exact: true }).first().click();
    await heading(page, 'Snap a repair order').waitFor();
    const recent = page.getByRole('link', { name: new RegExp(`RO ${first.truth.ro_number}`) });
    await recent.waitFor({ timeout: 15_000 });
    expect(await recent.innerText()).toContain(first.truth.name);
    expect(await page.getByRole('heading', { level: 2, name: /^On this phone/ }).count()).toBe(0);
    expect(await outboxLine(page)).toBeNull();
  }, 150_000);
});
