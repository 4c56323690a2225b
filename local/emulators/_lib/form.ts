/**
 * application/x-www-form-urlencoded in the two dialects the providers speak:
 * - flat (Twilio): `Key=value`, a repeated key (`MediaUrl=a&MediaUrl=b`) is a list;
 * - nested (Stripe): `a[b][0][c]=v`, `expand[]=x`, as the stripe SDKs encode objects and arrays.
 */

export type FlatForm = Record<string, string | string[]>;

export function parseFlatForm(text: string): FlatForm {
  const out: FlatForm = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** One value of a flat form (the first when repeated). */
export function first(form: FlatForm, key: string): string | undefined {
  const v = form[key];
  return Array.isArray(v) ? v[0] : v;
}

/** All values of a flat form key. */
export function all(form: FlatForm, key: string): string[] {
  const v = form[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Encodes fields in the given order; list values repeat the key. */
export function encodeFlatForm(fields: FlatForm): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) {
    for (const one of Array.isArray(v) ? v : [v]) p.append(k, one);
  }
  return p.toString();
}

export type Nested = string | Nested[] | { [k: string]: Nested };

export class FormSyntaxError extends Error {
  constructor(public key: string, message: string) { super(message); }
}

/**
 * Parses Stripe's bracket syntax into objects and arrays. Objects whose keys are all array indices (or `[]`
 * appends) become arrays in index order. A key used both as a scalar and as a container is an error.
 */
export function parseNestedForm(input: string | URLSearchParams): Record<string, Nested> {
  const params = typeof input === 'string' ? new URLSearchParams(input) : input;
  const root: Record<string, unknown> = {};
  const APPEND = Symbol('append');
  for (const [key, value] of params) {
    const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
    if (!m) throw new FormSyntaxError(key, `Invalid parameter name: ${key}`);
    const path: (string | typeof APPEND)[] = [m[1]];
    for (const seg of m[2].match(/\[[^[\]]*\]/g) ?? []) {
      const inner = seg.slice(1, -1);
      path.push(inner === '' ? APPEND : inner);
    }
    let node: Record<string, unknown> = root;
    for (let i = 0; i < path.length; i++) {
      const last = i === path.length - 1;
      let seg = path[i];
      if (seg === APPEND) {
        // `a[]=x` appends; `a[][b]=x` starts a new element only when the current last one already has `b`.
        const keys = Object.keys(node).filter((k) => /^\d+$/.test(k)).map(Number);
        const next = keys.length ? Math.max(...keys) + 1 : 0;
        if (last) seg = String(next);
        else {
          const lastIdx = keys.length ? Math.max(...keys) : -1;
          const cur = lastIdx >= 0 ? node[String(lastIdx)] : undefined;
          const childKey = path[i + 1];
          const reuse = cur && typeof cur === 'object' && typeof childKey === 'string' && !(childKey in (cur as object));
          seg = String(reuse ? lastIdx : next);
        }
      }
      const k = seg as string;
      if (last) {
        if (typeof node[k] === 'object') throw new FormSyntaxError(key, `Invalid parameter: ${key} is both a value and an object`);
        node[k] = value;
      } else {
        if (node[k] === undefined) node[k] = {};
        if (typeof node[k] !== 'object') throw new FormSyntaxError(key, `Invalid parameter: ${key} is both a value and an object`);
        node = node[k] as Record<string, unknown>;
      }
    }
  }
  return arrayify(root) as Record<string, Nested>;
}

function arrayify(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys.map(Number).sort((a, b) => a - b).map((k) => arrayify(obj[String(k)]));
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = arrayify(obj[k]);
  return out;
}
