/**
 * Every edge function type-checks under Deno itself (its own deno.json import map, Deno's lib and WebCrypto
 * typings), not only under the Node-side tsc that the handler tests use: hosted Supabase bundles with Deno, so a
 * type error only Deno sees would first show at deploy time.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../local/config.ts';
import { denoBinary } from '../../local/functions/index.ts';

const FUNCTIONS = path.join(ROOT, 'supabase', 'functions');
const names = fs.readdirSync(FUNCTIONS, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !d.name.startsWith('_') && fs.existsSync(path.join(FUNCTIONS, d.name, 'index.ts')))
  .map((d) => d.name)
  .sort();

describe('deno check of every function', () => {
  it('finds the functions', () => {
    expect(names).toContain('send-sms');
    expect(names.length).toBeGreaterThan(10);
  });

  it.each(names)('%s type-checks under Deno with its own deno.json', (name) => {
    const dir = path.join(FUNCTIONS, name);
    const config = path.join(dir, 'deno.json');
    const r = spawnSync(denoBinary(ROOT), [
      'check', '--quiet', '--no-lock', '--node-modules-dir=none',
      ...(fs.existsSync(config) ? [`--config=${config}`] : ['--no-config']),
      path.join(dir, 'index.ts'),
    ], { cwd: ROOT, encoding: 'utf8', timeout: 180_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.error).toBeUndefined();
    expect(`${r.stdout}${r.stderr}`.trim() + (r.status === 0 ? '' : `\n(exit ${r.status})`)).toBe('');
  }, 200_000);
});
