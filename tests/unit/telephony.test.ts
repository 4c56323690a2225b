/**
 * Telephony building blocks without the stack: credential sealing (AES-256-GCM, row binding, key rotation),
 * the TwiML builder's escaping (parsed back as XML, not string compared) and opening hours in the shop's zone.
 */
import { describe, expect, it } from 'vitest';
import {
  KeyringError, b64decode, generateKey, loadKeyring, open, seal,
} from '../../supabase/functions/_shared/telephony/crypto.ts';
import { hoursProblem, isOpen, localClock } from '../../supabase/functions/_shared/telephony/hours.ts';
import { el, escapeAttr, twiml } from '../../supabase/functions/_shared/telephony/twiml.ts';

// ---------------------------------------------------------------------------------------- a tiny XML parser
interface Node { name: string; attrs: Record<string, string>; children: Node[]; text: string }
const ENT: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decode = (s: string) => s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
  if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  if (!(e in ENT)) throw new Error(`unknown entity ${m}`);
  return ENT[e]!;
});
export function parseXml(src: string): Node {
  let i = 0;
  const s = src.replace(/^<\?xml[^?]*\?>/, '');
  const fail = (m: string) => { throw new Error(`XML: ${m} at ${i}`); };
  function node(): Node {
    if (s[i] !== '<') fail('expected <');
    i++;
    const name = /^[A-Za-z][A-Za-z0-9]*/.exec(s.slice(i))?.[0] ?? fail('name');
    i += (name as string).length;
    const attrs: Record<string, string> = {};
    for (;;) {
      const m = /^\s+([A-Za-z][A-Za-z0-9]*)="([^"<]*)"/.exec(s.slice(i));
      if (!m) break;
      if (m[1]! in attrs) fail('duplicate attribute');
      attrs[m[1]!] = decode(m[2]!);
      i += m[0].length;
    }
    const n: Node = { name: name as string, attrs, children: [], text: '' };
    if (s.startsWith('/>', i)) { i += 2; return n; }
    if (s[i] !== '>') fail('expected >');
    i++;
    for (;;) {
      if (s.startsWith(`</${n.name}>`, i)) { i += n.name.length + 3; return n; }
      if (s[i] === '<') n.children.push(node());
      else {
        const end = s.indexOf('<', i);
        if (end < 0) fail('unclosed element');
        const raw = s.slice(i, end);
        if (/[<>]|&(?!(#x[0-9a-f]+|#[0-9]+|[a-z]+);)/i.test(raw)) fail('unescaped text');
        n.text += decode(raw);
        i = end;
      }
    }
  }
  const root = node();
  if (i !== s.length) fail('trailing content');
  return root;
}

const binding = { tenantId: '11111111-1111-4111-8111-111111111111', kind: 'subaccount' as const, accountSid: `AC${'a'.repeat(32)}` };
const token = 'f'.repeat(32);

describe('credential sealing', () => {
  it('round-trips, with a fresh nonce each time and no plaintext in the sealed form', async () => {
    const ring = await loadKeyring(JSON.stringify({ k1: generateKey() }), 'k1');
    const a = await seal(ring, token, binding);
    const b = await seal(ring, token, binding);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(b64decode(a.nonce)).toHaveLength(12);
    expect(b64decode(a.ciphertext)).toHaveLength(32 + 16); // plaintext + GCM tag
    expect(JSON.stringify(a)).not.toContain(token);
    expect(a.key_id).toBe('k1');
    expect(await open(ring, a, binding)).toBe(token);
  });

  it('a ciphertext moved to another shop, kind or account does not open', async () => {
    const ring = await loadKeyring(JSON.stringify({ k1: generateKey() }), 'k1');
    const s = await seal(ring, token, binding);
    await expect(open(ring, s, { ...binding, tenantId: '22222222-2222-4222-8222-222222222222' })).rejects.toThrow(KeyringError);
    await expect(open(ring, s, { ...binding, kind: 'byo' })).rejects.toThrow(KeyringError);
    await expect(open(ring, s, { ...binding, accountSid: `AC${'b'.repeat(32)}` })).rejects.toThrow(KeyringError);
    const tampered = { ...s, ciphertext: Buffer.from(b64decode(s.ciphertext).map((x, i) => (i === 0 ? x ^ 1 : x))).toString('base64') };
    await expect(open(ring, tampered, binding)).rejects.toThrow(/failed authentication/);
  });

  it('rotation: rows sealed with the old key open while both keys are loaded, not after the old one is removed', async () => {
    const k1 = generateKey();
    const k2 = generateKey();
    const old = await loadKeyring(JSON.stringify({ k1 }), 'k1');
    const both = await loadKeyring(JSON.stringify({ k1, k2 }), 'k2');
    const onlyNew = await loadKeyring(JSON.stringify({ k2 }), 'k2');
    const s1 = await seal(old, token, binding);
    expect(await open(both, s1, binding)).toBe(token);
    const s2 = await seal(both, await open(both, s1, binding), binding);
    expect(s2.key_id).toBe('k2');
    expect(await open(onlyNew, s2, binding)).toBe(token);
    await expect(open(onlyNew, s1, binding)).rejects.toThrow(/no longer has/);
  });

  it('bad key configuration fails with a message that names the problem and never a key', async () => {
    const key = generateKey();
    await expect(loadKeyring('not json', 'k1')).rejects.toThrow(/not valid JSON/);
    await expect(loadKeyring(JSON.stringify({ k1: 'c2hvcnQ=' }), 'k1')).rejects.toThrow(/exactly 32 bytes/);
    const e = (await loadKeyring(JSON.stringify({ k1: key }), 'k9').catch((x) => x)) as Error;
    expect(e.message).toMatch(/TELEPHONY_ACTIVE_KEY_ID/);
    expect(e.message).not.toContain(key);
  });
});

describe('TwiML builder', () => {
  it('escapes text and attributes so hostile settings stay data', () => {
    const nasty = `Joe's "Garage" & <Dial>+15550000</Dial> ]]> \u0001`;
    const doc = parseXml(twiml(el('Say', { voice: 'alice' }, nasty), el('Dial', { action: `http://x/y?a=1&b="2"` }, el('Number', {}, '+14155550100'))));
    expect(doc.name).toBe('Response');
    expect(doc.children.map((c) => c.name)).toEqual(['Say', 'Dial']);
    expect(doc.children[0]!.text).toBe(nasty.replace('\u0001', ''));
    expect(doc.children[0]!.children).toEqual([]);
    expect(doc.children[1]!.attrs.action).toBe('http://x/y?a=1&b="2"');
    expect(escapeAttr(`a'b`)).toBe('a&apos;b');
  });

  it('refuses element and attribute names that are not names', () => {
    expect(() => el('Say><Hangup', {})).toThrow(/invalid element name/);
    expect(() => el('Say', { 'a="1" b': 'x' })).toThrow(/invalid attribute name/);
  });
});

describe('opening hours', () => {
  // 2026-11-23 is a Monday. 14:30 UTC = 09:30 in New York (EST), 08:30 in Chicago.
  const monday1430 = new Date('2026-11-23T14:30:00Z');
  it('reads the clock in the shop\'s zone', () => {
    expect(localClock(monday1430, 'America/New_York')).toEqual({ day: 'mon', time: '09:30' });
    expect(localClock(monday1430, 'America/Chicago')).toEqual({ day: 'mon', time: '08:30' });
  });
  it('open within the day\'s slot, closed outside it or on a day without one; {} is always open', () => {
    const hours = { mon: { open: '09:00', close: '17:00' }, sun: null };
    expect(isOpen(hours, 'America/New_York', monday1430)).toBe(true);
    expect(isOpen(hours, 'America/Chicago', monday1430)).toBe(false);
    expect(isOpen(hours, 'America/New_York', new Date('2026-11-22T15:00:00Z'))).toBe(false); // Sunday
    expect(isOpen(hours, 'America/New_York', new Date('2026-11-24T15:00:00Z'))).toBe(false); // Tuesday: no slot
    expect(isOpen({}, 'America/New_York', monday1430)).toBe(true);
  });
  it('explains bad shapes', () => {
    expect(hoursProblem({ mon: { open: '09:00', close: '17:00' }, sat: null })).toBeNull();
    expect(hoursProblem({ funday: null })).toMatch(/not a weekday/);
    expect(hoursProblem({ mon: { open: '17:00', close: '09:00' } })).toMatch(/before closing/);
    expect(hoursProblem({ mon: { open: '9am', close: '17:00' } })).toMatch(/HH:MM/);
    expect(hoursProblem([])).toMatch(/object/);
  });
});
