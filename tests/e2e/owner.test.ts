/**
 * The owner's and the operator's screens in the real PWA: Usage & Billing on a tablet (issue 8, flow 3) and the
 * platform admin's tenants overview (flow 4). People are made through the API here (their sign-up is covered by
 * tenancy.test.ts); the platform admin is granted with the service key, as an operator would in SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import type { Browser, Page } from 'playwright-core';
import { TABLET, launchBrowser, skipReason } from './helpers/browser.ts';
import { PASSWORD, heading, open, screenError, signIn, uniqueEmail, uniqueShopName } from './helpers/app.ts';
import { screenshotScreen } from './helpers/screens.ts';

const skip = skipReason();

async function apiUser(email: string): Promise<{ id: string; client: SupabaseClient }> {
  const client = createClient(process.env.API_URL!, process.env.ANON_KEY!, { auth: { persistSession: false, autoRefreshToken: false } });
  const { data, error } = await client.auth.signUp({ email, password: PASSWORD });
  if (error || !data.user) throw new Error(`sign-up of ${email}: ${error?.message ?? 'no user'}`);
  return { id: data.user.id, client };
}

describe.skipIf(!!skip)(skip ? `owner and operator screens (skipped: ${skip})` : 'owner and operator screens', () => {
  let browser: Browser;
  const ownerEmail = uniqueEmail('usage-owner');
  const shopName = uniqueShopName('Usage Lawn Care');

  beforeAll(async () => {
    const owner = await apiUser(ownerEmail);
    const { error } = await owner.client.rpc('create_tenant', { name: shopName, industry: 'lawn_care', time_zone: 'America/Denver', phone: null });
    if (error) throw new Error(`create_tenant: ${error.message}`);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows the owner Usage & Billing on a tablet: the period, the totals against the plan and the chart', async () => {
    const context = await browser.newContext({ viewport: TABLET });
    try {
      const page: Page = await context.newPage();
      await signIn(page, ownerEmail);
      await heading(page, shopName).waitFor({ timeout: 15_000 });
      await open(page, '/usage');
      await heading(page, 'Usage & Billing').waitFor();
      await page.getByText(/^Billing period: /).waitFor({ timeout: 15_000 });
      const main = page.locator('main');
      const cards = main.locator('.usage-card');
      expect(await cards.count()).toBeGreaterThan(0);
      // Each metered total reads "<used> / <plan cap> <unit>"; a new trial shop has used nothing yet.
      const first = await cards.first().innerText();
      expect(first).toMatch(/\b0\s*\/\s*[1-9][\d,]*/);
      expect(await main.locator('progress[aria-label]').count()).toBeGreaterThan(0);
      // chart.js loads lazily and draws into a labelled canvas.
      const chart = page.getByRole('img', { name: 'Daily usage over the last 30 days' });
      await chart.waitFor();
      const box = await chart.boundingBox();
      expect(box && box.width > 200 && box.height > 100).toBe(true);
      await screenshotScreen(page, 'usage');
    } finally {
      await context.close();
    }
  });

  it('shows a platform admin the tenants overview, and nobody else', async () => {
    const adminEmail = uniqueEmail('operator');
    const admin = await apiUser(adminEmail);
    const service = createClient(process.env.API_URL!, process.env.SERVICE_ROLE_KEY!, { auth: { persistSession: false, autoRefreshToken: false } });
    const { error } = await service.from('platform_admins').insert({ user_id: admin.id, note: 'e2e operator' });
    if (error) throw new Error(`platform_admins: ${error.message}`);

    const context = await browser.newContext({ viewport: TABLET });
    try {
      const page = await context.newPage();
      await open(page, `/sign-in?next=${encodeURIComponent('/admin')}`);
      await page.getByLabel('Email', { exact: true }).fill(adminEmail);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await heading(page, 'Tenants overview').waitFor({ timeout: 15_000 });
      await page.locator('table.data-table').waitFor({ timeout: 15_000 });
      expect(await page.locator('table.data-table tbody tr').count()).toBeGreaterThan(0);
      // The operator belongs to no shop: the navigation offers only what works without one.
      await page.locator('nav[aria-label="Main"]').getByRole('link', { name: 'Admin' }).waitFor();
      expect(await page.locator('nav[aria-label="Main"] a').allInnerTexts()).toEqual(['Admin', 'Create a shop']);
      await screenshotScreen(page, 'admin-overview');
      // Every shop is listed, including the one made for this run.
      await page.getByLabel('Filter by name', { exact: true }).fill(shopName);
      const row = page.locator('table.data-table tbody tr').filter({ hasText: shopName });
      await row.waitFor();
      expect(await page.locator('table.data-table tbody tr').count()).toBe(1);
      expect(await row.innerText()).toMatch(/Free trial/);
    } finally {
      await context.close();
    }

    // The shop owner is no operator: the same address is "not found" for them.
    const other = await browser.newContext({ viewport: TABLET });
    try {
      const page = await other.newPage();
      await signIn(page, ownerEmail);
      await heading(page, shopName).waitFor({ timeout: 15_000 });
      await open(page, '/admin');
      await heading(page, 'Not found').waitFor({ timeout: 15_000 });
      expect(await page.locator('table.data-table').count()).toBe(0);
      expect(await screenError(page).count()).toBe(0);
    } finally {
      await other.close();
    }
  });
});
