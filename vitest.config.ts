import { defineConfig } from 'vitest/config';

/**
 * Three kinds of tests:
 * - `unit`: pure code (parsers, handlers with fake deps, SQL-free logic). No stack needed.
 * - `stack`: everything that talks to the running local stack (contract, RLS, features) through
 *   supabase-js or SQL. Its global setup reuses a healthy stack or starts one and stops it afterwards.
 * - `e2e`: the built PWA in Debian's headless Chromium (playwright-core) against the stack; skipped, saying why,
 *   only when /usr/bin/chromium is missing.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          // Unit files share the machine with the stack and the browser in one `npm test`: on 2 busy cores an image
          // being encoded or a worker starting can take seconds. The timeout only catches hangs; speed is benchmarked.
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'stack',
          include: ['tests/contract/**/*.test.ts', 'tests/sql/**/*.test.ts', 'tests/features/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/helpers/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          // Acquires the stack, builds the PWA once and serves it; skips (saying why) without Debian's Chromium.
          globalSetup: ['tests/e2e/global-setup.ts'],
          // One browser per file; files run one after another so timings stay honest and the machine stays calm.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
