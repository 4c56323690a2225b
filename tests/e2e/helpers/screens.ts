/**
 * Screenshots of the main screens at the phone and tablet sizes, written on every run to
 * test-results/screenshots/<name>-<phone|tablet>.png (git-ignored). The best few are copied to docs/screenshots/
 * by hand and shown in the README.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { ROOT } from '../../../local/config.ts';
import { PHONE, TABLET } from './browser.ts';

export const SCREENSHOT_DIR = path.join(ROOT, 'test-results', 'screenshots');

const SIZES = { phone: PHONE, tablet: TABLET } as const;

/** Lets layout, web fonts and the next frame settle after a resize. */
async function settle(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await document.fonts.ready;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  });
}

/**
 * Shoots the current screen at 390×844 and 1024×1366 (viewport-sized, so every PNG has the size its name says),
 * then puts the page back at the size it had; with `target`, that element is scrolled to the middle first. Returns
 * the two files.
 */
export async function screenshotScreen(page: Page, name: string, target?: Locator): Promise<string[]> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`screenshot names are kebab-case (got "${name}")`);
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const before = page.viewportSize();
  const files: string[] = [];
  try {
    for (const [label, size] of Object.entries(SIZES)) {
      await page.setViewportSize(size);
      await settle(page);
      if (target) {
        await target.evaluate((el) => el.scrollIntoView({ block: 'center', inline: 'nearest' }));
        await settle(page);
      }
      const file = path.join(SCREENSHOT_DIR, `${name}-${label}.png`);
      await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
      files.push(file);
    }
  } finally {
    if (before) {
      await page.setViewportSize(before);
      await settle(page);
    }
  }
  return files;
}

/**
 * Like screenshotScreen, for a screen whose point is below the fold at one of the sizes (an error under a form, a
 * drill-down under a table): at each size `target` is scrolled to the middle of the viewport before the shot.
 */
export function screenshotScreenAt(page: Page, name: string, target: Locator): Promise<string[]> {
  return screenshotScreen(page, name, target);
}
