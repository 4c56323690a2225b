/** The phone settings model of the PWA: hours form ↔ JSON, phone/SIP input checks, and the store with a fake api. */
import { describe, expect, it } from 'vitest';
import { hoursToRows, rowsToHours, settingsProblems, toE164, formatPhone } from '../../web/src/features/phone/model.ts';
import { createPhoneStore } from '../../web/src/features/phone/store.ts';
import type { PhoneApi } from '../../web/src/features/phone/api.ts';

describe('phone settings model', () => {
  it('hours round-trip through the form rows; closed days are null', () => {
    const hours = { mon: { open: '08:00', close: '17:30' }, sat: { open: '09:00', close: '12:00' } };
    const rows = hoursToRows(hours);
    expect(rows).toHaveLength(7);
    expect(rows.find((r) => r.day === 'tue')).toMatchObject({ open: false });
    expect(rowsToHours(rows)).toEqual({ mon: { open: '08:00', close: '17:30' }, tue: null, wed: null, thu: null, fri: null, sat: { open: '09:00', close: '12:00' }, sun: null });
  });

  it('phone numbers are normalised to E.164; bad ones are refused', () => {
    expect(toE164('(918) 555-0123')).toBe('+19185550123');
    expect(toE164('1 918 555 0123')).toBe('+19185550123');
    expect(toE164('+44 20 7946 0958')).toBe('+442079460958');
    expect(toE164('555-0123')).toBeNull();
    expect(formatPhone('+19185550123')).toBe('(918) 555-0123');
  });

  it('explains what blocks saving, per field', () => {
    const ok = { mode: 'ivr' as const, forwardTo: '', sipUri: '', alwaysOpen: true, rows: hoursToRows({}), greeting: '', afterHours: '' };
    expect(settingsProblems(ok)).toEqual({});
    expect(settingsProblems({ ...ok, mode: 'forward' }).forwardTo).toMatch(/enter one/);
    expect(settingsProblems({ ...ok, mode: 'sip', sipUri: 'frontdesk' }).sipUri).toMatch(/sip:/);
    const rows = hoursToRows({ mon: { open: '17:00', close: '09:00' } });
    expect(settingsProblems({ ...ok, alwaysOpen: false, rows })['hours.mon']).toMatch(/before closing/);
  });
});

describe('phone store', () => {
  const fake = (over: Partial<PhoneApi> = {}): PhoneApi => ({
    number: async () => ({ id: 'n1', e164: '+13035550100', status: 'active', ivrMode: 'ivr', forwardTo: null, sipUri: null, hours: {}, greeting: null, afterHoursMessage: null, credentialKind: 'subaccount' }),
    provision: async () => ({ phone_number: '+13035550100', status: 'active' }),
    release: async () => {},
    saveSettings: async () => { throw new Error('unused'); },
    credentials: async () => ({ subaccount_sid: 'AC1', byo_account_sid: null }),
    saveByo: async () => {},
    removeByo: async () => {},
    voicemails: async () => [{ id: 'v1', customerId: null, fromPhone: '+13035550142', durationSeconds: 12, transcription: 'Hi', transcriptionStatus: 'completed', recordingUrl: null, readAt: null, createdAt: '2026-11-22T05:00:00Z' }],
    markVoicemailRead: async () => {},
    ...over,
  });

  it('loads the number and voicemails, and marks one heard', async () => {
    const s = createPhoneStore(fake());
    await s.getState().load('t1', { withCredentials: true });
    expect(s.getState()).toMatchObject({ status: 'ready', number: { e164: '+13035550100' }, byoAccountSid: null });
    await s.getState().markRead('v1');
    expect(s.getState().voicemails[0]!.readAt).not.toBeNull();
  });

  it('shows a readable error and keeps nothing stale when loading fails', async () => {
    const s = createPhoneStore(fake({ number: async () => { throw { code: '42501', message: 'permission denied for table tenant_phone_numbers', details: null, hint: null }; } }));
    await s.getState().load('t1');
    expect(s.getState().status).toBe('error');
    expect(s.getState().error).toMatch(/permission/);
  });
});
