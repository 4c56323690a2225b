/**
 * The composer's refusals in words (issue 8, flow 2): a send refused because the month's texts are used up, or
 * because the subscription is not in good standing, says so and links to Billing — the upgrade prompt; other
 * refusals (opted out, invalid number…) get no Billing link, since Billing cannot fix them.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../web/src/lib/errors.ts';
import { BILLING_ACTIONS, SEND_ERRORS, billingActionFor, sendErrorMessage } from '../../web/src/features/messaging/errors.ts';

describe('send refusals Billing can lift', () => {
  it('quota_exceeded reads as the upgrade prompt and links to Billing', () => {
    const e = new AppError('quota_exceeded', 'quota_exceeded: this month\'s SMS allowance is used up', 402);
    expect(sendErrorMessage(e)).toBe(SEND_ERRORS.quota_exceeded);
    expect(sendErrorMessage(e)).toMatch(/^This month's texts are used up\. Upgrade your plan or turn on overage in Billing/);
    expect(billingActionFor(e.code)).toBe('Upgrade in Billing');
  });

  it('billing_inactive links to Billing too', () => {
    expect(billingActionFor('billing_inactive')).toBe('Open Billing');
  });

  it('no link for refusals Billing cannot fix, nor for no code', () => {
    for (const code of ['opted_out', 'invalid_phone', 'rate_limited', 'network_error', 'review_link_missing', 'toString', '']) {
      expect(billingActionFor(code), code).toBeNull();
    }
    expect(billingActionFor(null)).toBeNull();
    expect(billingActionFor(undefined)).toBeNull();
  });

  it('every Billing action belongs to a refusal the composer words', () => {
    for (const code of Object.keys(BILLING_ACTIONS)) expect(SEND_ERRORS[code], code).toBeTruthy();
  });
});
