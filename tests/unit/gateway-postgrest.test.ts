import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { postgrestBinaryPath, postgrestEnv, verifyPostgrestBinary } from '../../local/postgrest/index.ts';
import type { DatabaseHandle } from '../../local/lib/types.ts';

const handle = (kind: DatabaseHandle['kind'], maxConnections: number): DatabaseHandle => ({
  kind,
  url: 'postgresql://postgres:postgres@127.0.0.1:5432/postgres',
  urlFor: (role, pw) => `postgresql://${role}:${pw}@127.0.0.1:5432/postgres`,
  maxConnections,
  stop: async () => {},
});

describe('PostgREST settings (Supabase CLI start.go)', () => {
  it('uses the authenticator login, public schema, anon role, 1000 rows and loopback only', () => {
    const env = postgrestEnv({ db: handle('postgres', 50), port: 3000, adminPort: 3001, jwtSecret: 's'.repeat(40), graphqlPublic: false });
    expect(env).toMatchObject({
      PGRST_DB_URI: 'postgresql://authenticator:postgres@127.0.0.1:5432/postgres',
      PGRST_DB_SCHEMAS: 'public',
      PGRST_DB_EXTRA_SEARCH_PATH: 'public,extensions',
      PGRST_DB_ANON_ROLE: 'anon',
      PGRST_DB_MAX_ROWS: '1000',
      PGRST_SERVER_HOST: '127.0.0.1',
      PGRST_SERVER_PORT: '3000',
      PGRST_ADMIN_SERVER_PORT: '3001',
      PGRST_DB_POOL: '10',
      PGRST_DB_CHANNEL_ENABLED: 'true',
      PGRST_DB_USE_LEGACY_GUCS: 'false',
      PGRST_DB_PREPARED_STATEMENTS: 'true',
    });
    expect(Object.keys(env).filter((k) => !k.startsWith('PGRST_')).every((k) => ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ'].includes(k))).toBe(true);
  });

  it('exposes graphql_public only when it exists, and sizes the pool from the database', () => {
    expect(postgrestEnv({ db: handle('postgres', 4), port: 1, adminPort: 2, jwtSecret: 'x', graphqlPublic: true })).toMatchObject({
      PGRST_DB_SCHEMAS: 'public,graphql_public',
      PGRST_DB_POOL: '4',
    });
  });

  it('on PGlite: one connection, no LISTEN channel, no named prepared statements', () => {
    expect(postgrestEnv({ db: handle('pglite', 8), port: 1, adminPort: 2, jwtSecret: 'x', graphqlPublic: false })).toMatchObject({
      PGRST_DB_POOL: '1',
      PGRST_DB_CHANNEL_ENABLED: 'false',
      PGRST_DB_PREPARED_STATEMENTS: 'false',
    });
  });
});

describe('PostgREST binary check', () => {
  it('accepts the pinned official binary', async () => {
    expect(await verifyPostgrestBinary()).toBe(postgrestBinaryPath());
  });

  it('refuses a binary with another hash', async () => {
    const fake = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pgrst-')), 'postgrest');
    fs.writeFileSync(fake, '#!/bin/sh\necho "PostgREST 12.0.2"\n', { mode: 0o755 });
    await expect(verifyPostgrestBinary(fake)).rejects.toThrow(/Refusing to run PostgREST: .* has sha256 [0-9a-f]{64}, expected 0af68afe/);
    fs.rmSync(path.dirname(fake), { recursive: true, force: true });
  });
});
