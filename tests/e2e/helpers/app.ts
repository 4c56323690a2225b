/**
 * What a person does in the PWA, as reusable steps over its accessible names (labels, roles, button text), so a
 * test reads like the flow it checks and breaks when the accessible surface breaks.
 */
import { randomBytes } from 'node:crypto';
import type { Locator, Page } from 'playwright-core';
import { webUrl } from './browser.ts';

export const PASSWORD = 'e2e-Passw0rd!';

/** A new address per run and person: nothing depends on demo seed users. */
export function uniqueEmail(who: string): string {
  return `e2e-${who}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}@example.com`;
}

export function uniqueShopName(base: string): string {
  return `${base} ${randomBytes(2).toString('hex').toUpperCase()}`;
}

export interface ShopInput {
  name: string;
  /** The visible option text, e.g. "Auto repair". */
  industry: string;
  /** An IANA zone, e.g. "Europe/Berlin". */
  timeZone: string;
}

export async function open(page: Page, pathname: string): Promise<void> {
  await page.goto(new URL(pathname, webUrl()).toString());
}

/** The page's single level-1 heading once it says `name`. */
export function heading(page: Page, name: string | RegExp): Locator {
  return page.getByRole('heading', { level: 1, name });
}

/** The screen-level error (role=alert) once it has text. */
export function screenError(page: Page): Locator {
  return page.locator('[role="alert"]').filter({ hasText: /\S/ }).first();
}

export async function fillShop(page: Page, shop: ShopInput): Promise<void> {
  await page.getByLabel('Shop name', { exact: true }).fill(shop.name);
  await page.getByLabel('Industry', { exact: true }).selectOption({ label: shop.industry });
  await page.getByLabel('Time zone', { exact: true }).selectOption({ value: shop.timeZone });
}

export async function fillCredentials(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
}

/** Sign-up with a new shop, from the empty form to the technician home of that shop. */
export async function signUpWithShop(page: Page, email: string, shop: ShopInput, password = PASSWORD): Promise<void> {
  await open(page, '/sign-up');
  await heading(page, 'Start your free trial').waitFor();
  await fillCredentials(page, email, password);
  await fillShop(page, shop);
  await page.getByRole('button', { name: 'Create account and shop' }).click();
  await heading(page, shop.name).waitFor({ timeout: 15_000 });
}

export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await open(page, '/sign-in');
  await heading(page, 'Sign in to ServicePro').waitFor();
  await fillCredentials(page, email, password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await heading(page, 'Sign in to ServicePro').waitFor();
}

/** The "You're working as <role>" line of the home screen. */
export function roleLine(page: Page): Locator {
  return page.locator('main p.lead').first();
}

/** The shop switcher in the top bar (its label is visually hidden). */
export function shopSwitcher(page: Page): Locator {
  return page.getByLabel('Shop', { exact: true });
}
