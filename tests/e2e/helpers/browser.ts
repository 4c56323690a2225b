/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser), headless, one fresh profile per launch.
 * The global setup (tests/e2e/global-setup.ts) puts the app's URL in E2E_WEB_URL, or the reason the suite cannot run
 * in E2E_SKIP_REASON.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from 'playwright-core';

export const CHROMIUM_PATH = process.env.SP_CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

/** Phone first (the technician), tablet second (the owner). */
export const PHONE = { width: 390, height: 844 } as const;
export const TABLET = { width: 1024, height: 1366 } as const;

/** Why the browser suite cannot run here, or null. */
export function chromiumMissing(): string | null {
  return fs.existsSync(CHROMIUM_PATH)
    ? null
    : `${CHROMIUM_PATH} not found: end-to-end tests need Debian's Chromium (apt-get install chromium fonts-dejavu-core)`;
}

/** The reason the e2e project skips (set by its global setup), or null when it runs. */
export function skipReason(): string | null {
  return process.env.E2E_SKIP_REASON || chromiumMissing();
}

export function webUrl(): string {
  const url = process.env.E2E_WEB_URL;
  if (!url) throw new Error('E2E_WEB_URL is not set: run the e2e project through vitest (its global setup serves the app)');
  return url;
}

/**
 * A browser with Playwright's default temporary profile (a new directory per launch, removed on close).
 * Its `newContext()`s are isolated from each other: two people in two contexts share nothing.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A browser whose single context is a real (non-incognito) profile in a fresh temporary directory — what install
 * checks need: Chromium reports an off-the-record context as not installable. close() removes the directory.
 */
export async function launchPersistent(options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sp-e2e-profile-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: PHONE,
    ...options,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
