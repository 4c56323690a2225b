/**
 * Issue 8, flow 1, in the real PWA (built, served, in headless Chromium) against the local stack:
 * sign up → create a shop → snap a shared sample repair order → the parsed fields appear → save the customer →
 * "Ready for pickup" → the Twilio emulator receives it → the thread shows Delivered.
 *
 * The photo is one of the team's photographed ROs (ro-001, checked against its truth.json), picked through the
 * "Take a photo" button's file chooser; OCR is the stack's real ro-ocr. Texts go out only inside the customer's
 * sending window (08:00–21:00 in their area code's zone): when the run falls outside it, the app schedules the text,
 * and the test plays the clock — it moves that one message's send time to now and runs the scheduler's dispatcher,
 * which is what pg_cron does when the window opens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PHONE, launchBrowser, skipReason } from './helpers/browser.ts';
import { heading, signUpWithShop, uniqueEmail, uniqueShopName, type ShopInput } from './helpers/app.ts';
import { screenshotScreen } from './helpers/screens.ts';
import { eventually, runMessageDispatcher, sharedSample, tenantIdByName } from './helpers/backend.ts';
import { operatorClient, twilioMessagesTo, type EmulatedSms } from './helpers/stack.ts';

const skip = skipReason();

describe.skipIf(!!skip)(skip ? `capture to pickup text in the PWA (skipped: ${skip})` : 'capture to pickup text in the PWA', () => {
  const sample = sharedSample('ro-001');
  const truth = sample.truth;
  const email = uniqueEmail('capture');
  const shop: ShopInput = { name: uniqueShopName('Lakeside Auto'), industry: 'Auto repair', timeZone: 'America/Chicago' };

  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let tenantId: string;
  let repairOrderId: string;
  let customerId: string;
  /** Messages the emulator already had for this number (earlier runs on the same stack text the same sample). */
  let before: EmulatedSms[];

  beforeAll(async () => {
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: PHONE });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('signs up with a new shop and snaps the shared sample; the parsed fields appear for review', async () => {
    await signUpWithShop(page, email, shop);
    tenantId = await tenantIdByName(shop.name);

    await page.getByRole('link', { name: /Snap a repair order/ }).first().click();
    await heading(page, 'Snap a repair order').waitFor();
    await screenshotScreen(page, 'capture');

    // The technician's tap: "Take a photo" opens the camera (a file chooser here) and the photo is the sample.
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByRole('button', { name: 'Take a photo' }).click(),
    ]);
    expect(chooser.isMultiple()).toBe(false);
    await chooser.setFiles(sample.file);

    // Saved on the phone, uploaded, read by ro-ocr; the review opens by itself.
    await page.waitForURL(/\/capture\/review\/[0-9a-f-]{36}$/, { timeout: 90_000 });
    repairOrderId = new URL(page.url()).pathname.split('/').pop()!;
    await heading(page, `Repair order ${truth.ro_number}`).waitFor({ timeout: 15_000 });

    // The fields OCR read, as the technician sees them (a field may carry "— check this").
    expect(await page.getByLabel(/^Customer name/).inputValue()).toBe(truth.name);
    expect(await page.getByLabel(/^Mobile phone/).inputValue()).toBe(truth.phone);
    expect((await page.getByLabel(/^Vehicle or device/).inputValue()).toLowerCase()).toBe(truth.vehicle!.toLowerCase());
    expect(await page.getByLabel(/^RO number/).inputValue()).toBe(truth.ro_number);
    await page.getByRole('img', { name: 'The repair order photo' }).waitFor({ timeout: 15_000 });
    await screenshotScreen(page, 'review');

    // One repair order for this shop, in its review state, its photo in the shop's folder.
    const { data: ros, error } = await operatorClient().from('repair_orders').select('id, status, photo_path, ro_number, client_id').eq('tenant_id', tenantId);
    expect(error).toBeNull();
    expect(ros).toEqual([{ id: repairOrderId, status: 'needs_review', photo_path: `${tenantId}/${ros![0]!.client_id}.jpg`, ro_number: truth.ro_number, client_id: expect.any(String) }]);
  }, 150_000);

  it('saves the customer and the repair order from the review', async () => {
    await page.getByLabel('Texting consent').selectOption({ label: 'Signed on the repair order' });
    await page.getByRole('button', { name: 'Save customer and repair order' }).click();
    await page.getByRole('heading', { level: 2, name: /Saved/ }).waitFor({ timeout: 15_000 });
    expect(await page.locator('main').innerText()).toContain('New customer created.');

    const { data: customers, error } = await operatorClient().from('customers').select('id, name, phone, vehicles').eq('tenant_id', tenantId);
    expect(error).toBeNull();
    expect(customers).toHaveLength(1);
    expect(customers![0]).toMatchObject({ name: truth.name, phone: truth.phone });
    expect((customers![0]!.vehicles as { label: string }[]).map((v) => v.label.toLowerCase())).toEqual([truth.vehicle!.toLowerCase()]);
    customerId = customers![0]!.id as string;
    const { data: ro } = await operatorClient().from('repair_orders').select('status, customer_id').eq('id', repairOrderId).single();
    expect(ro).toEqual({ status: 'reviewed', customer_id: customerId });
    await screenshotScreen(page, 'review-saved');
  });

  it('"Ready for pickup" texts the customer: the Twilio emulator receives it once and reports it delivered', async () => {
    before = await twilioMessagesTo(truth.phone);
    await page.getByRole('button', { name: 'Ready for pickup' }).click();
    const result = page.getByRole('status').filter({ hasText: /^✓ Ready for pickup: / });
    await result.waitFor({ timeout: 20_000 });
    const said = await result.innerText();

    const { data: rows, error } = await operatorClient().from('messages').select('id, status, send_at, body, to_phone, template').eq('tenant_id', tenantId);
    expect(error).toBeNull();
    expect(rows).toHaveLength(1);
    const row = rows![0]!;
    expect(row).toMatchObject({ to_phone: truth.phone, template: 'pickup_ready' });
    expect(row.body).toContain(shop.name);
    expect(row.body).toMatch(/ready for pickup/i);
    expect(row.body).toContain(truth.name.split(' ')[0]!);

    if (row.status === 'scheduled') {
      // Outside the customer's sending window: the app says so, and the dispatcher sends it once the window opens.
      expect(said).toContain('Scheduled for the customer’s daytime hours.');
      expect(await twilioMessagesTo(truth.phone)).toHaveLength(before.length);
      const { error: moved } = await operatorClient().from('messages').update({ send_at: new Date(Date.now() - 1000).toISOString() }).eq('id', row.id).eq('status', 'scheduled');
      expect(moved).toBeNull();
      await runMessageDispatcher();
    } else {
      expect(said).toContain('Sent.');
    }

    // The emulator holds exactly one new message to this number: ours, then its callbacks sent → delivered.
    const isOurs = (m: EmulatedSms) => !before.some((b) => b.sid === m.sid);
    const after = await eventually(() => twilioMessagesTo(truth.phone), (ms) => ms.filter(isOurs).some((m) => m.callbacks.some((c) => c.message_status === 'delivered')), 20_000);
    const ours = after.filter(isOurs);
    expect(ours).toHaveLength(1);
    expect(ours[0]!.body).toBe(row.body);
    expect(ours[0]!.body).toContain(shop.name);
    expect(ours[0]!.callbacks.map((c) => [c.message_status, c.status])).toEqual([['sent', 200], ['delivered', 200]]);
    const settled = await eventually(async () => (await operatorClient().from('messages').select('status, twilio_sid').eq('id', row.id).single()).data, (m) => m?.status === 'delivered');
    expect(settled).toEqual({ status: 'delivered', twilio_sid: ours[0]!.sid });
  }, 60_000);

  it('the customer page and the thread show the text as Delivered', async () => {
    await page.getByRole('link', { name: 'Open the customer' }).click();
    await heading(page, truth.name).waitFor({ timeout: 15_000 });
    expect(new URL(page.url()).pathname).toBe(`/customers/${customerId}`);
    expect(await page.locator('main p.lead').first().innerText()).toContain(truth.phone);
    const bubble = page.locator('.thread-list .bubble-outbound');
    await bubble.filter({ hasText: 'Delivered' }).waitFor({ timeout: 20_000 }); // the thread polls every few seconds
    expect(await bubble.count()).toBe(1);
    expect(await bubble.locator('.bubble-body').innerText()).toContain(shop.name);
    await page.getByRole('link', { name: new RegExp(`RO ${truth.ro_number}`) }).waitFor();
    await screenshotScreen(page, 'customer-detail');

    await page.goto(new URL(`/customers/${customerId}/thread`, page.url()).toString());
    await heading(page, 'Texts').waitFor({ timeout: 15_000 });
    const meta = page.locator('.thread-list .bubble-outbound .bubble-meta');
    await meta.filter({ hasText: 'Delivered' }).waitFor({ timeout: 15_000 });
    expect(await meta.count()).toBe(1);
    expect(await page.getByRole('region', { name: 'Text messages' }).innerText()).toMatch(/ready for pickup/i);
    await screenshotScreen(page, 'thread');
  }, 60_000);
});
