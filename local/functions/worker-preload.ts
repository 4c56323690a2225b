/**
 * Runs in each function's Deno process before the function's own entrypoint (`deno run --preload`),
 * to provide what the Supabase edge runtime provides and plain Deno lacks:
 *
 * - `EdgeRuntime.waitUntil(promise)`: background work that outlives the response. Rejections are
 *   logged (not fatal), and on SIGTERM/SIGINT the process waits for pending promises (bounded)
 *   before it exits, as the platform keeps a worker alive until they settle.
 *
 * The function's entrypoint stays the main module, unmodified (`import.meta.main` is true there).
 * Nothing here is imported by code under supabase/.
 */
declare const Deno: {
  addSignalListener(signal: string, handler: () => void): void;
  exit(code?: number): never;
};

const SHUTDOWN_GRACE_MS = 4000;
const pending = new Set<Promise<unknown>>();

const edgeRuntime = {
  waitUntil<T>(promise: Promise<T> | T): Promise<T> {
    const p = Promise.resolve(promise);
    pending.add(p);
    p.catch((e: unknown) => console.error('EdgeRuntime.waitUntil: a background promise rejected:', e))
      .finally(() => pending.delete(p));
    return p;
  },
};

Object.defineProperty(globalThis, 'EdgeRuntime', { value: edgeRuntime, enumerable: false, configurable: false, writable: false });

let exiting = false;
for (const signal of ['SIGTERM', 'SIGINT']) {
  Deno.addSignalListener(signal, () => {
    if (exiting) return;
    exiting = true;
    if (pending.size === 0) Deno.exit(0);
    console.log(`waiting for ${pending.size} EdgeRuntime.waitUntil promise(s) before exiting`);
    const timer = setTimeout(() => {
      console.error(`exiting with ${pending.size} EdgeRuntime.waitUntil promise(s) still pending after ${SHUTDOWN_GRACE_MS} ms`);
      Deno.exit(0);
    }, SHUTDOWN_GRACE_MS);
    Promise.allSettled([...pending]).then(() => {
      clearTimeout(timer);
      Deno.exit(0);
    });
  });
}
