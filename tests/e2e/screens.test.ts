/**
 * A short tour of the main screens no flow file stops on, so every run writes their screenshots (phone 390×844 and
 * tablet 1024×1366, test-results/screenshots/): sign-in, the customers list, the CSV import's preview, shop
 * settings, the phone number (got through its own form from the Twilio emulator), and the operator's drill-down into
 * one shop after aggregating its usage. Each stop also checks the screen shows what it is for.
 *
 * The shop and its people are made through the API as themselves (sign-up is covered by tenancy.test.ts); a few
 * customers and texts are added as the owner through the same API the app uses, so the screens are not empty.
 * Only the platform-admin grant uses the service key, as an operator does in SQL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SupabaseClient } from '@supabase/supabase-js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PHONE, TABLET, launchBrowser, skipReason } from './helpers/browser.ts';
import { PASSWORD, fillCredentials, heading, open, signIn, uniqueEmail, uniqueShopName } from './helpers/app.ts';
import { screenshotScreen, screenshotScreenAt } from './helpers/screens.ts';
import { invoke, middayTimeZone, offshoreMobile, operatorClient, signedUpClient, until, twilioMessagesTo } from './helpers/stack.ts';

const skip = skipReason();

/** US area codes the Twilio emulator sells numbers in (NPA-555-0100…0199 for each). */
const AREA_CODES = ['918', '405', '512', '303', '614', '704', '615', '206', '503', '801', '702', '919', '480', '317', '816', '402', '414', '502'];

const CUSTOMERS = [
  { name: 'Maria Gonzalez', vehicle: '2019 Toyota Camry' },
  { name: 'Dev Patel', vehicle: '2015 Honda Civic' },
  { name: 'Grace Kim', vehicle: '2021 Ford F-150' },
  { name: 'Tom Becker', vehicle: '2012 Subaru Outback' },
  { name: 'Aisha Bello', vehicle: '2017 Mazda CX-5' },
];

describe.skipIf(!!skip)(skip ? `a tour of the main screens (skipped: ${skip})` : 'a tour of the main screens', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let owner: SupabaseClient;
  let tenantId: string;
  const ownerEmail = uniqueEmail('tour-owner');
  const shopName = uniqueShopName('Tour Motors');

  beforeAll(async () => {
    const made = await signedUpClient(ownerEmail);
    owner = made.client;
    const { data, error } = await owner.rpc('create_tenant', { name: shopName, industry: 'auto_repair', time_zone: middayTimeZone(), phone: null });
    if (error) throw new Error(`create_tenant: ${error.message}`);
    tenantId = data as string;
    const rows = CUSTOMERS.map((c) => ({ tenant_id: tenantId, name: c.name, phone: offshoreMobile(), vehicles: [{ label: c.vehicle }] }));
    const inserted = await owner.from('customers').insert(rows).select('id, name, phone');
    if (inserted.error) throw new Error(`customers: ${inserted.error.message}`);
    // Two texts as the owner, so the operator's drill-down has a day to show.
    const first = (inserted.data as Array<{ id: string; phone: string }>)[0]!;
    for (const template of ['pickup_ready', 'custom'] as const) {
      const r = await invoke(owner, 'send-sms', {
        tenant_id: tenantId, customer_id: first.id, template, idempotency_key: randomUUID(),
        ...(template === 'custom' ? { body: 'Your estimate is ready: $240 for front pads and rotors. Reply YES to go ahead.' } : {}),
      });
      if (r.status !== 200) throw new Error(`send-sms ${template}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    await until('both texts at the Twilio emulator', async () => (await twilioMessagesTo(first.phone)).length === 2);

    browser = await launchBrowser();
    context = await browser.newContext({ viewport: PHONE });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('sign-in', async () => {
    await open(page, '/sign-in');
    await heading(page, 'Sign in to ServicePro').waitFor();
    await fillCredentials(page, ownerEmail, PASSWORD);
    await screenshotScreen(page, 'sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading(page, shopName).waitFor({ timeout: 15_000 });
  });

  it('the customers list', async () => {
    await page.getByRole('link', { name: 'Customers', exact: true }).first().click();
    await heading(page, 'Customers').waitFor();
    const list = page.getByRole('list', { name: 'Customers' });
    await list.waitFor({ timeout: 15_000 });
    await list.getByRole('link').nth(CUSTOMERS.length - 1).waitFor();
    expect(await list.getByRole('link').count()).toBe(CUSTOMERS.length);
    expect(await list.innerText()).toContain('2019 Toyota Camry');
    await screenshotScreen(page, 'customers');
  });

  it('the phone tab bar: every label whole and every target at least 44 px, from 360 to 430 px wide', async () => {
    const before = page.viewportSize();
    try {
      for (const width of [360, 390, 430]) {
        await page.setViewportSize({ width, height: 844 });
        await page.evaluate(() => document.fonts.ready);
        const tabs = await page.locator('nav[aria-label="Main"] li:not(.nav-secondary):not(.nav-break) :is(a, button)').evaluateAll((els) =>
          els.filter((el) => (el as HTMLElement).offsetParent !== null).map((el) => {
            const label = el.querySelector('.nav-label') as HTMLElement;
            const box = el.getBoundingClientRect();
            return {
              text: label.innerText, w: Math.round(box.width), h: Math.round(box.height),
              cut: label.scrollWidth > label.clientWidth + 0.5 || label.scrollHeight > label.clientHeight + 0.5,
            };
          }));
        expect(tabs.map((t) => t.text), `${width} px`).toEqual(['Home', 'Snap', 'Customers', 'Members', 'More']);
        for (const t of tabs) {
          expect(t.cut, `"${t.text}" cut at ${width} px`).toBe(false);
          expect(Math.min(t.w, t.h), `"${t.text}" at ${width} px: ${t.w}×${t.h}`).toBeGreaterThanOrEqual(44);
        }
      }
    } finally {
      if (before) await page.setViewportSize(before);
    }
  });

  it('the CSV import: columns and a preview before anything is saved', async () => {
    await page.getByRole('link', { name: 'Import CSV' }).click();
    await heading(page, 'Import customers').waitFor();
    const csv = [
      'Name,Mobile,Email,Vehicle,Texts OK',
      `Lena Fischer,${offshoreMobile()},lena@example.com,2016 VW Golf,yes`,
      `Omar Haddad,${offshoreMobile()},,2020 Kia Sorento,yes`,
      `Chris Young,${offshoreMobile()},chris@example.com,2011 Chevrolet Malibu,no`,
      'No Phone Person,,,2009 Ford Focus,no',
    ].join('\n');
    await page.getByLabel('Choose a CSV file').setInputFiles({ name: 'old-system-export.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('heading', { name: '2. Preview' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('main').innerText()).toContain('Omar Haddad');
    await screenshotScreen(page, 'customers-import');
  });

  it('shop settings: review link, sending window, message templates', async () => {
    await page.setViewportSize(TABLET);
    await page.getByRole('link', { name: 'Settings', exact: true }).first().click();
    await heading(page, `Settings of ${shopName}`).waitFor();
    await page.getByRole('button', { name: 'Save settings' }).waitFor({ timeout: 15_000 });
    await page.getByLabel('Google review link').fill('https://g.page/r/tour-motors/review');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor({ timeout: 15_000 });
    await expectValue(page, 'Ready for pickup message', /ready for pickup/i);
    await screenshotScreen(page, 'settings');
  });

  it('the phone number: got from the Twilio emulator through its own form', async () => {
    await page.getByRole('link', { name: 'Phone', exact: true }).first().click();
    await heading(page, 'Phone number').waitFor();
    // The Twilio emulator's inventory starts afresh with each stack while a kept database remembers numbers earlier
    // runs took, so a first choice can be refused as taken: like a person, try another area code then.
    const number = page.getByRole('heading', { level: 2, name: /^\(\d{3}\) 555-01\d\d$/ });
    const refused = page.locator('main [role="alert"]').filter({ hasText: /\S/ });
    const codes = [...AREA_CODES].sort(() => Math.random() - 0.5).slice(0, 6);
    for (const code of codes) {
      await page.getByLabel('Preferred area code').fill(code);
      const answered = page.waitForResponse((r) => r.url().includes('/functions/v1/provision-number') && r.request().method() === 'POST', { timeout: 30_000 });
      await page.getByRole('button', { name: 'Get a number' }).click();
      await answered;
      await number.or(refused).first().waitFor({ timeout: 15_000 });
      if (await number.count()) break;
    }
    await number.waitFor({ timeout: 1000 });
    expect(await page.locator('main').innerText()).toContain('Status: Active');
    await page.getByRole('heading', { name: 'How calls are answered' }).waitFor();
    await screenshotScreen(page, 'phone');
  });

  it('the operator\'s drill-down into one shop, after aggregating today\'s usage', async () => {
    const operatorEmail = uniqueEmail('tour-operator');
    const operator = await signedUpClient(operatorEmail);
    const { error } = await operatorClient().from('platform_admins').insert({ user_id: operator.id, note: 'e2e screens tour' });
    if (error) throw new Error(`platform_admins: ${error.message}`);

    const admin = await browser.newContext({ viewport: TABLET });
    try {
      const p = await admin.newPage();
      await signIn(p, operatorEmail);
      await p.waitForURL((u) => u.pathname === '/create-shop' || u.pathname === '/', { timeout: 15_000 });
      await open(p, '/admin');
      await heading(p, 'Tenants overview').waitFor({ timeout: 15_000 });
      await p.locator('table.data-table').waitFor({ timeout: 15_000 });
      const aggregated = p.waitForResponse((r) => r.url().includes('/functions/v1/usage-aggregate') && r.request().method() === 'POST', { timeout: 30_000 });
      await p.getByRole('button', { name: 'Run aggregation' }).click();
      expect((await aggregated).status()).toBe(200);
      await p.getByRole('button', { name: 'Run aggregation', disabled: false }).waitFor({ timeout: 15_000 });
      await p.getByLabel('Filter by name', { exact: true }).fill(shopName);
      const row = p.locator('table.data-table tbody tr').filter({ hasText: shopName });
      await row.waitFor();
      // The shop's two texts are in the aggregate (the SMS column counts segments).
      expect(Number((await row.locator('td').nth(3).innerText()).replace(/\D/g, ''))).toBeGreaterThanOrEqual(2);
      await row.getByRole('button', { name: shopName }).click();
      const drill = p.getByRole('region', { name: `${shopName} — daily usage` });
      await drill.waitFor();
      await drill.getByRole('img', { name: `Daily usage of ${shopName}` }).waitFor({ timeout: 15_000 });
      await screenshotScreenAt(p, 'admin-tenant', drill);
    } finally {
      await admin.close();
    }
  });
});

async function expectValue(page: Page, label: string, re: RegExp): Promise<void> {
  expect(await page.getByLabel(label, { exact: true }).inputValue()).toMatch(re);
}
