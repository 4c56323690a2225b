/**
 * A tiny TwiML builder: elements with attributes and text/children, escaped for XML (text: & < >; attributes
 * additionally " and '), control characters XML 1.0 forbids removed. Used by twilio-voice; no string templates.
 */

export type Attrs = Record<string, string | number | boolean | undefined | null>;
export interface XmlElement {
  name: string;
  attrs: Attrs;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

const NAME = /^[A-Za-z][A-Za-z0-9]*$/;
// XML 1.0 allows tab, LF, CR and everything from U+0020 except the surrogates (handled as pairs) and U+FFFE/FFFF.
// deno-lint-ignore no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function escapeText(s: string): string {
  return s.replace(FORBIDDEN, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

export function el(name: string, attrs: Attrs = {}, ...children: (XmlNode | null | undefined | false)[]): XmlElement {
  if (!NAME.test(name)) throw new Error(`invalid element name: ${name}`);
  for (const k of Object.keys(attrs)) if (!NAME.test(k)) throw new Error(`invalid attribute name: ${k}`);
  return { name, attrs, children: children.filter((c): c is XmlNode => c !== null && c !== undefined && c !== false) };
}

export function render(node: XmlNode): string {
  if (typeof node === 'string') return escapeText(node);
  const attrs = Object.entries(node.attrs)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => ` ${k}="${escapeAttr(String(v))}"`).join('');
  if (node.children.length === 0) return `<${node.name}${attrs}/>`;
  return `<${node.name}${attrs}>${node.children.map(render).join('')}</${node.name}>`;
}

/** A complete TwiML document: `<?xml …?><Response>…</Response>`. */
export function twiml(...verbs: (XmlElement | null | undefined | false)[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>${render(el('Response', {}, ...verbs))}`;
}

export function twimlResponse(body: string, status = 200): Response {
  return new Response(body, { status, headers: { 'Content-Type': 'text/xml; charset=utf-8', 'Cache-Control': 'no-store' } });
}

/** Voice used for every spoken line (Twilio's basic voices need no extra product). */
export const SAY = { voice: 'alice', language: 'en-US' } as const;
export const say = (text: string) => el('Say', SAY, text);
