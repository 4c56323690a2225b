/** What people see for each send error code (send-sms and the messaging RPCs). */
import { AppError } from '../../lib/errors.ts';

export const SEND_ERRORS: Readonly<Record<string, string>> = {
  invalid_phone: 'That phone number cannot receive texts. Check the number and try again.',
  opted_out: 'This customer opted out of texts (they replied STOP). They can text START to opt back in.',
  quota_exceeded: 'This month\'s texts are used up. Upgrade your plan or turn on overage in Billing to keep sending.',
  billing_inactive: 'Texting is paused until the subscription is back in good standing. Open Billing to fix it.',
  rate_limited: 'You are sending very fast. Wait a moment and send again.',
  review_recently_requested: 'This customer already got a review request in the last 90 days.',
  review_link_missing: 'Add your Google review link in the shop settings first.',
  customer_not_found: 'This customer no longer exists in this shop.',
  customer_required: 'Review requests go to a saved customer.',
  body_required: 'Write a message first.',
  body_too_long: 'A text can be at most 1,600 characters. Shorten it.',
  invalid_media: 'One of the photos is not available any more. Remove it and try again.',
  region_not_enabled: 'Texts to this country are not enabled.',
  unreachable: 'The carrier cannot deliver texts to this number.',
  sender_busy: 'The sending number is busy right now. Try again in a few minutes.',
  send_failed: 'The text could not be sent. Check the number and try again.',
  forbidden: 'You are not a member of this shop.',
  unauthorized: 'Your session has ended. Please sign in again.',
  invalid_request: 'Something in that message was not valid. Check it and try again.',
  message_not_cancelable: 'Only a scheduled text can be canceled.',
  review_request_not_found: 'That review request is no longer queued.',
  messaging_unavailable: 'Texting is not set up on this server yet. Nothing was sent.',
};

/** Delivery error codes Twilio reports on failed/undelivered messages, in plain words. */
export const DELIVERY_ERRORS: Readonly<Record<number, string>> = {
  21610: 'The customer opted out (STOP).',
  21211: 'Not a valid phone number.',
  21614: 'Not a mobile number.',
  30003: 'The phone is off or unreachable.',
  30004: 'The number blocked this message.',
  30005: 'Unknown or inactive number.',
  30006: 'Landline or unreachable carrier.',
  30007: 'Filtered by the carrier as spam.',
  30008: 'Unknown carrier error.',
  30034: 'Blocked: the sending number is not registered (10DLC).',
  20429: 'Twilio was busy; it will be retried.',
};

export function sendErrorMessage(e: AppError): string {
  return SEND_ERRORS[e.code] ?? e.message;
}

/**
 * Refusals only Billing can lift (the month's texts used up; the subscription not in good standing): the error
 * carries a link there, so the upgrade prompt is one tap from the refused send. Every member may open /billing.
 */
export const BILLING_ACTIONS: Readonly<Record<string, string>> = {
  quota_exceeded: 'Upgrade in Billing',
  billing_inactive: 'Open Billing',
};

/** The Billing link's text for a refusal Billing can lift, else null. */
export function billingActionFor(code: string | null | undefined): string | null {
  return code && Object.hasOwn(BILLING_ACTIONS, code) ? BILLING_ACTIONS[code]! : null;
}
