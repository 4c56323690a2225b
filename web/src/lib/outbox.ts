/**
 * The generic parts of the device outboxes (capture photos, text sends): which failures are worth retrying, how a
 * failure is remembered, and where entries are kept — IndexedDB in the browser (survives reloads, restarts and
 * going offline), memory in tests or where IndexedDB is unavailable (some private modes). No feature imports here.
 */
import { openDB, type IDBPDatabase } from 'idb';
import { outboxOwner } from './outboxOwner.ts';

/** Errors that may pass by retrying: network, timeouts, rate limits, server trouble, a lapsed session. */
export function isRetryable(e: unknown): boolean {
  const err = e as { status?: number; code?: string } | null;
  if (!err || typeof err !== 'object') return true;
  if (err.code === 'network_error') return true;
  const s = err.status;
  if (s === undefined || s === 0) return true;
  // 401: the session lapsed; the entry waits until someone is signed in again.
  return s >= 500 || s === 401 || s === 408 || s === 429;
}

/** What an outbox keeps of a failure: a code and a sentence for people (never a stack). */
export function describeError(e: unknown): { code: string; message: string } {
  const err = e as { code?: unknown; message?: unknown } | null;
  return {
    code: typeof err?.code === 'string' ? err.code : 'unknown_error',
    message: typeof err?.message === 'string' ? err.message : 'Something went wrong.',
  };
}

/** A keyed collection of entries. */
export interface KeyedStore<T> {
  all(): Promise<T[]>;
  put(entry: T): Promise<void>;
  delete(key: string): Promise<void>;
}

/** In memory (tests, and browsers without IndexedDB). Copies on the way in and out, as IndexedDB does. */
export function memoryKeyedStore<T extends object>(key: keyof T & string): KeyedStore<T> {
  const map = new Map<string, T>();
  return {
    async all() { return [...map.values()].map((e) => ({ ...e })); },
    async put(e) { map.set(String(e[key]), { ...e }); },
    async delete(id) { map.delete(id); },
  };
}

/** One IndexedDB database with one object store keyed by `keyPath`. */
export function idbKeyedStore<T>(dbName: string, storeName: string, keyPath: string): KeyedStore<T> {
  let db: Promise<IDBPDatabase> | null = null;
  const open = () => (db ??= openDB(dbName, 1, {
    upgrade(d) {
      if (!d.objectStoreNames.contains(storeName)) d.createObjectStore(storeName, { keyPath });
    },
  }));
  return {
    async all() { return (await (await open()).getAll(storeName)) as T[]; },
    async put(e) { await (await open()).put(storeName, e); },
    async delete(id) { await (await open()).delete(storeName, id); },
  };
}

/** IndexedDB where the browser has it, memory otherwise. */
export function browserKeyedStore<T extends object>(dbName: string, storeName: string, keyPath: keyof T & string): KeyedStore<T> {
  return typeof indexedDB !== 'undefined' ? idbKeyedStore<T>(dbName, storeName, keyPath) : memoryKeyedStore<T>(keyPath);
}

/** An entry that remembers who made it (the signed-in user's id). */
export interface Owned {
  userId?: string;
}

/**
 * Only the current user's entries: `all()` lists what `owner()` made (nothing while signed out), `put()` stamps new
 * entries with the owner. Entries saved before entries had owners (no userId) count as the current user's.
 */
export function ownedKeyedStore<T extends Owned>(inner: KeyedStore<T>, owner: () => string | null = outboxOwner): KeyedStore<T> {
  return {
    async all() {
      const me = owner();
      if (!me) return [];
      return (await inner.all()).filter((e) => (e.userId ?? me) === me);
    },
    async put(e) {
      const me = owner();
      await inner.put(e.userId || !me ? e : { ...e, userId: me });
    },
    delete: (key) => inner.delete(key),
  };
}

/** Runs a task while holding a lock (see `deviceLock`). */
export type Lock = <T>(task: () => Promise<T>) => Promise<T>;

/** The part of the Web Locks API (`navigator.locks`) the outboxes use. */
export interface DeviceLocks {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

function browserLocks(): DeviceLocks | undefined {
  return (globalThis as { navigator?: { locks?: DeviceLocks } }).navigator?.locks;
}

/**
 * An exclusive lock for every tab and window of the app on this device (Web Locks): an installed PWA window and a
 * browser tab share one IndexedDB outbox and both drain it on the same `online` event, so without it each would
 * send the same photo or text. A second window waits for the first one's drain, then finds the entry gone. Where
 * the browser has no Web Locks the task just runs (one window's single flight still holds).
 */
export function deviceLock(name: string, locks: DeviceLocks | undefined = browserLocks()): Lock {
  return (task) => (locks ? locks.request(name, () => task()) : task());
}

/**
 * One drain at a time: a call while a drain runs joins it and asks for one more pass when it ends (something was
 * added, or the network came back, meanwhile). Passes after the first run without the caller's one-off options
 * (`first: false`); they stop once a pass finds the device offline. `lock` makes a drain exclusive beyond this
 * window too (`deviceLock`): every pass reads the outbox afresh once it holds it.
 */
export function singleFlightDrain<O, R extends { offline: boolean }>(
  pass: (opts: O, first: boolean) => Promise<R>,
  merge: (sofar: R, next: R) => R,
  lock: Lock = (task) => task(),
): (opts: O) => Promise<R> {
  let running: Promise<R> | null = null;
  let again = false;
  return (opts) => {
    if (running) { again = true; return running; }
    running = (async () => {
      try {
        return await lock(async () => {
          let r = await pass(opts, true);
          while (again && !r.offline) {
            again = false;
            r = merge(r, await pass(opts, false));
          }
          return r;
        });
      } finally {
        running = null;
        again = false;
      }
    })();
    return running;
  };
}
