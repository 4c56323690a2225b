/**
 * Tenancy in the real PWA (built, served, in headless Chromium) against the local stack:
 * sign-up with a shop, sign-out, a refused and an accepted sign-in, an invitation accepted by a second person in
 * a separate browser context, and the shop switcher. Every person is created here with a unique email.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PHONE, TABLET, launchBrowser, skipReason } from './helpers/browser.ts';
import { PASSWORD, fillCredentials, fillShop, heading, open, roleLine, screenError, shopSwitcher, signIn, signOut, signUpWithShop, uniqueEmail, uniqueShopName, type ShopInput } from './helpers/app.ts';
import { screenshotScreen } from './helpers/screens.ts';

const skip = skipReason();

describe.skipIf(!!skip)(skip ? `tenancy in the PWA (skipped: ${skip})` : 'tenancy in the PWA', () => {
  let browser: Browser;
  let owner: { context: BrowserContext; page: Page };
  const ownerEmail = uniqueEmail('owner');
  const firstShop: ShopInput = { name: uniqueShopName('Harbor Auto'), industry: 'Auto repair', timeZone: 'America/Chicago' };
  const secondShop: ShopInput = { name: uniqueShopName('Harbor Detailing'), industry: 'Detailing', timeZone: 'Europe/Berlin' };

  beforeAll(async () => {
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: PHONE });
    owner = { context, page: await context.newPage() };
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('signs up and creates a shop in one step, landing on its technician home as owner', async () => {
    const { page } = owner;
    await open(page, '/sign-up');
    await heading(page, 'Start your free trial').waitFor();
    await screenshotScreen(page, 'sign-up');

    await signUpWithShop(page, ownerEmail, firstShop);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await roleLine(page).innerText()).toContain("You're working as Owner");
    expect(await roleLine(page).innerText()).toContain(ownerEmail);
    expect(await page.locator('main').innerText()).toContain('Free trial');
    await page.getByRole('link', { name: /Snap a repair order/ }).waitFor();
    await screenshotScreen(page, 'home');
  });

  it('signs out to the sign-in screen, and a signed-out visit to the home is sent there too', async () => {
    const { page } = owner;
    await signOut(page);
    await open(page, '/');
    await heading(page, 'Sign in to ServicePro').waitFor();
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
  });

  it('refuses a wrong password with an error people can read', async () => {
    const { page } = owner;
    await signIn(page, ownerEmail, 'not-the-password-1');
    const alert = screenError(page);
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/email and password don't match/i);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await screenshotScreen(page, 'sign-in-error');
  });

  it('signs in again to the same shop', async () => {
    const { page } = owner;
    await fillCredentials(page, ownerEmail, PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading(page, firstShop.name).waitFor({ timeout: 15_000 });
    expect(await roleLine(page).innerText()).toContain('Owner');
  });

  it('lets the owner invite an email; that person signs up through the link in another browser and joins', async () => {
    const { page } = owner;
    const techEmail = uniqueEmail('tech');

    await page.setViewportSize(TABLET);
    await page.getByRole('link', { name: 'Members', exact: true }).first().click();
    await heading(page, `Members of ${firstShop.name}`).waitFor();
    await page.getByLabel('Their email', { exact: true }).fill(techEmail);
    await page.getByLabel('Role', { exact: true }).selectOption({ value: 'technician' });
    await page.getByRole('button', { name: 'Create invite link' }).click();
    const linkField = page.getByLabel(`Invite link for ${techEmail}`, { exact: true });
    await linkField.waitFor();
    const link = await linkField.inputValue();
    expect(link).toMatch(new RegExp(`^${new URL(page.url()).origin}/invite/[^/]+$`));
    await page.getByText(techEmail, { exact: true }).last().waitFor(); // listed as waiting to be accepted
    await screenshotScreen(page, 'members');
    await page.setViewportSize(PHONE);

    // The invitee: a separate context shares no cookies or storage with the owner.
    const context = await browser.newContext({ viewport: PHONE });
    try {
      const tech = await context.newPage();
      await tech.goto(link);
      await heading(tech, "You're invited to ServicePro").waitFor();
      await screenshotScreen(tech, 'invitation');
      await tech.getByRole('link', { name: 'Create an account' }).click();
      await heading(tech, 'Create your account').waitFor();
      expect(await tech.getByLabel('Shop name').count()).toBe(0); // joining: no shop form
      await fillCredentials(tech, techEmail, PASSWORD);
      await tech.getByRole('button', { name: 'Create account', exact: true }).click();

      await heading(tech, 'Join a shop on ServicePro').waitFor({ timeout: 15_000 });
      expect(await tech.locator('main').innerText()).toContain(techEmail);
      await screenshotScreen(tech, 'invitation-accept');
      await tech.getByRole('button', { name: 'Accept invitation' }).click();
      const joined = tech.getByRole('status').filter({ hasText: `You joined ${firstShop.name} as Technician.` });
      await joined.waitFor({ timeout: 15_000 });
      await tech.getByRole('link', { name: `Go to ${firstShop.name}` }).click();
      await heading(tech, firstShop.name).waitFor();
      expect(await roleLine(tech).innerText()).toContain("You're working as Technician");
      // A technician cannot manage members.
      expect(await tech.getByRole('link', { name: 'Members and invitations' }).count()).toBe(0);

      // The link was single-use: opening it again as the same person is refused.
      await tech.goto(link);
      await tech.getByRole('button', { name: 'Accept invitation' }).click();
      await screenError(tech).waitFor({ timeout: 15_000 });
    } finally {
      await context.close();
    }

    // The owner now sees two people in the shop.
    await page.reload();
    await heading(page, `Members of ${firstShop.name}`).waitFor();
    await page.locator('.member-list li').nth(1).waitFor();
    expect(await page.locator('main').innerText()).toContain('Technician');
  });

  it('creates a second shop from the switcher and switches between the two', async () => {
    const { page } = owner;
    await open(page, '/');
    await heading(page, firstShop.name).waitFor();
    await shopSwitcher(page).selectOption({ label: '+ Create another shop…' });
    await heading(page, 'Create another shop').waitFor();
    await fillShop(page, secondShop);
    await screenshotScreen(page, 'create-shop');
    await page.getByRole('button', { name: 'Create shop' }).click();
    await heading(page, secondShop.name).waitFor({ timeout: 15_000 });

    const options = await shopSwitcher(page).locator('option').allInnerTexts();
    expect(options).toEqual(expect.arrayContaining([`${firstShop.name} (Owner)`, `${secondShop.name} (Owner)`]));
    await screenshotScreen(page, 'home-two-shops');

    await shopSwitcher(page).selectOption({ label: `${firstShop.name} (Owner)` });
    await heading(page, firstShop.name).waitFor();
    // The choice is remembered across a reload on this device.
    await page.reload();
    await heading(page, firstShop.name).waitFor({ timeout: 15_000 });

    await shopSwitcher(page).selectOption({ label: `${secondShop.name} (Owner)` });
    await heading(page, secondShop.name).waitFor();
    // Screens follow the active shop.
    await page.getByRole('link', { name: 'Members', exact: true }).first().click();
    await heading(page, `Members of ${secondShop.name}`).waitFor();
  });
});
