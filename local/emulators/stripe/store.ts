/**
 * The Stripe emulator's object store and the API conventions every endpoint shares: Stripe's error body,
 * parameter checks (`parameter_missing`, `parameter_unknown`, `parameter_invalid_integer` …), cursor lists
 * (`limit`, `starting_after`, `ending_before`, newest first) and `expand[]`.
 */
import type { Nested } from '../_lib/form.ts';

// deno-lint-ignore no-explicit-any
export type Obj = Record<string, any>;
export type P = Record<string, Nested>;

export const nowSec = () => Math.floor(Date.now() / 1000);

export class StripeError extends Error {
  constructor(
    public status: number,
    public type: string,
    message: string,
    public code?: string,
    public param?: string,
  ) { super(message); }

  body() {
    return {
      error: {
        ...(this.code ? { code: this.code, doc_url: `https://stripe.com/docs/error-codes/${this.code.replace(/_/g, '-')}` } : {}),
        message: this.message,
        ...(this.param ? { param: this.param } : {}),
        type: this.type,
      },
    };
  }
}

export const invalid = (message: string, param?: string, code?: string) =>
  new StripeError(400, 'invalid_request_error', message, code, param);

export const missingResource = (what: string, id: string, param = 'id') =>
  new StripeError(404, 'invalid_request_error', `No such ${what}: '${id}'`, 'resource_missing', param);

/** Rejects parameters the endpoint does not know (Stripe answers `parameter_unknown`). */
export function allow(p: P, names: string[]) {
  for (const k of Object.keys(p)) {
    if (k !== 'expand' && !names.includes(k)) {
      throw invalid(`Received unknown parameter: ${k}`, k, 'parameter_unknown');
    }
  }
}

export function str(p: P, name: string, opts: { required?: boolean; path?: string } = {}): string | undefined {
  const v = p[name];
  const label = opts.path ?? name;
  if (v === undefined) {
    if (opts.required) throw invalid(`Missing required param: ${label}.`, label, 'parameter_missing');
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(`Invalid string: ${JSON.stringify(v)}`, label, 'parameter_invalid_string');
  if (opts.required && v === '') throw invalid(`Missing required param: ${label}.`, label, 'parameter_missing');
  return v;
}

export function int(p: P, name: string, opts: { required?: boolean; path?: string; min?: number; max?: number } = {}): number | undefined {
  const s = str(p, name, opts);
  if (s === undefined || s === '') return undefined;
  const label = opts.path ?? name;
  if (!/^-?\d+$/.test(s)) throw invalid(`Invalid integer: ${s}`, label, 'parameter_invalid_integer');
  const n = Number(s);
  if (opts.min !== undefined && n < opts.min) throw invalid(`This value must be greater than or equal to ${opts.min}.`, label, 'parameter_invalid_integer');
  if (opts.max !== undefined && n > opts.max) throw invalid(`This value must be less than or equal to ${opts.max}.`, label, 'parameter_invalid_integer');
  return n;
}

export function bool(p: P, name: string, path?: string): boolean | undefined {
  const s = str(p, name, { path });
  if (s === undefined || s === '') return undefined;
  if (s !== 'true' && s !== 'false') throw invalid(`Invalid boolean: ${s}`, path ?? name);
  return s === 'true';
}

export function oneOf<T extends string>(p: P, name: string, values: readonly T[], opts: { required?: boolean; path?: string } = {}): T | undefined {
  const s = str(p, name, opts);
  if (s === undefined) return undefined;
  if (!values.includes(s as T)) {
    throw invalid(`Invalid ${opts.path ?? name}: must be one of ${values.join(', ')}`, opts.path ?? name);
  }
  return s as T;
}

export function obj(p: P, name: string, path?: string): P | undefined {
  const v = p[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`Invalid object`, path ?? name);
  return v as P;
}

export function arr(p: P, name: string, path?: string): Nested[] | undefined {
  const v = p[name];
  if (v === undefined || v === '') return undefined;
  if (!Array.isArray(v)) throw invalid(`Invalid array`, path ?? name);
  return v;
}

/**
 * Applies `metadata` as Stripe does: keys ≤ 40 chars, values ≤ 500, at most 50 keys; an empty value unsets
 * a key and `metadata=""` clears all.
 */
export function applyMetadata(current: Record<string, string>, p: P, name = 'metadata'): Record<string, string> {
  const v = p[name];
  if (v === undefined) return current;
  if (v === '') return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('Invalid object', name);
  const out = { ...current };
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw invalid(`Invalid string: ${JSON.stringify(val)}`, `${name}[${k}]`);
    if (k.length > 40) throw invalid(`Metadata keys can have a maximum length of 40 characters.`, `${name}[${k}]`);
    if (val.length > 500) throw invalid(`Metadata values can have a maximum length of 500 characters.`, `${name}[${k}]`);
    if (val === '') delete out[k];
    else out[k] = val;
  }
  if (Object.keys(out).length > 50) throw invalid('Metadata can have a maximum of 50 keys.', name);
  return out;
}

export class Store {
  private objects = new Map<string, Obj>();
  private order = new Map<string, number>();
  private seq = 0;

  put<T extends Obj>(o: T): T {
    if (!this.order.has(o.id)) this.order.set(o.id, this.seq++);
    this.objects.set(o.id, o);
    return o;
  }

  get(id: string): Obj | undefined {
    return this.objects.get(id);
  }

  /** The object with that id and `object` type, or Stripe's resource_missing error. */
  need(id: string, type: string, what: string, param = 'id'): Obj {
    const o = this.objects.get(id);
    if (!o || o.object !== type) throw missingResource(what, id, param);
    return o;
  }

  /** All objects of a type, newest first (creation order, so equal `created` seconds stay ordered). */
  all(type: string): Obj[] {
    return [...this.objects.values()]
      .filter((o) => o.object === type)
      .sort((a, b) => this.order.get(b.id)! - this.order.get(a.id)!);
  }

  remove(id: string) {
    this.objects.delete(id);
  }

  clear() {
    this.objects.clear();
    this.order.clear();
  }
}

/** Stripe's cursor pagination over newest-first items. */
export function listOf(url: string, items: Obj[], p: P): Obj {
  const limit = int(p, 'limit', { min: 1, max: 100 }) ?? 10;
  const after = str(p, 'starting_after');
  const before = str(p, 'ending_before');
  if (after && before) throw invalid('You may only specify one of these parameters: ending_before, starting_after.', 'ending_before');
  let slice: Obj[];
  let hasMore: boolean;
  if (after) {
    const i = items.findIndex((o) => o.id === after);
    if (i < 0) throw missingResource('object', after, 'starting_after');
    slice = items.slice(i + 1, i + 1 + limit);
    hasMore = i + 1 + limit < items.length;
  } else if (before) {
    const i = items.findIndex((o) => o.id === before);
    if (i < 0) throw missingResource('object', before, 'ending_before');
    const start = Math.max(0, i - limit);
    slice = items.slice(start, i);
    hasMore = start > 0;
  } else {
    slice = items.slice(0, limit);
    hasMore = items.length > limit;
  }
  return { object: 'list', data: slice, has_more: hasMore, url };
}

/** The `expand` parameter as a list of dotted paths (accepts `expand[]=a` and `expand[0]=a`). */
export function expandPaths(p: P): string[] {
  const v = p.expand;
  if (v === undefined || v === '') return [];
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((x) => typeof x === 'string')) throw invalid('Invalid array', 'expand');
  return list as string[];
}

/**
 * Returns a deep copy of `o` with each path expanded: an id string becomes the object it names; `data.` walks
 * into lists. `special` resolves fields that are not ids (e.g. a Checkout Session's `line_items`).
 */
export function expand(o: Obj, paths: string[], store: Store, special: (node: Obj, field: string) => Obj | undefined = () => undefined): Obj {
  const copy = structuredClone(o);
  for (const path of paths) {
    const segs = path.split('.');
    if (segs.length > 4) throw invalid(`You cannot expand more than 4 levels of a property. Property: ${path}`, 'expand');
    walk(copy, segs, path);
  }
  return copy;

  function walk(node: Obj, segs: string[], full: string) {
    if (node === null || typeof node !== 'object') return;
    if (node.object === 'list' && segs[0] === 'data' && Array.isArray(node.data)) {
      for (const item of node.data) walk(item, segs.slice(1), full);
      return;
    }
    const [head, ...rest] = segs;
    let v = node[head];
    if (v === undefined) {
      const s = special(node, head);
      if (!s) throw invalid(`This property cannot be expanded (${full}).`, 'expand');
      v = node[head] = s;
    } else if (typeof v === 'string') {
      const target = store.get(v);
      if (!target) throw invalid(`This property cannot be expanded (${full}).`, 'expand');
      v = node[head] = structuredClone(target);
    } else if (v === null) {
      return;
    } else if (rest.length === 0 && (typeof v !== 'object' || v.object === undefined)) {
      throw invalid(`This property cannot be expanded (${full}).`, 'expand');
    }
    if (rest.length) walk(v, rest, full);
  }
}

/** Adds `count` intervals to a Unix time as Stripe's billing does (month ends clamp: Jan 31 + 1 month = Feb 28/29). */
export function addInterval(ts: number, interval: string, count: number): number {
  const d = new Date(ts * 1000);
  if (interval === 'day') return ts + count * 86_400;
  if (interval === 'week') return ts + count * 7 * 86_400;
  const months = interval === 'year' ? 12 * count : count;
  const day = d.getUTCDate();
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return Math.floor(target.getTime() / 1000);
}
