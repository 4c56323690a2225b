import { defineConfig } from 'vitest/config';

/**
 * Two kinds of tests:
 * - `unit`: pure code (parsers, handlers with fake deps, SQL-free logic). No stack needed.
 * - `stack`: everything that talks to the running local stack (contract, RLS, features) through
 *   supabase-js or SQL. Its global setup reuses a healthy stack or starts one and stops it afterwards.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
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
    ],
  },
});
