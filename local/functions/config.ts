/**
 * What the Supabase CLI reads to serve edge functions: `supabase/config.toml` `[functions.<name>]`,
 * the function folders under `supabase/functions/`, their import maps, and `supabase/functions/.env`.
 * Pure functions of the file system, so unit tests can point them at a temporary folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';

export interface FunctionSpec {
  name: string;
  /** Absolute path of the entrypoint (default `<dir>/index.ts`). */
  entrypoint: string;
  /** Absolute path of the import map / deno.json given to Deno with `--config`, if any. */
  importMap?: string;
  verifyJwt: boolean;
}

interface TomlFunction {
  enabled?: unknown;
  verify_jwt?: unknown;
  import_map?: unknown;
  entrypoint?: unknown;
}

/** Names the CLI accepts for a function folder (`supabase functions new` rule). */
const FUNCTION_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

export function readFunctionsConfig(supabaseDir: string): Record<string, TomlFunction> {
  const file = path.join(supabaseDir, 'config.toml');
  if (!fs.existsSync(file)) return {};
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`supabase/config.toml is not valid TOML: ${(e as Error).message}`);
  }
  const fns = doc.functions;
  if (fns === undefined) return {};
  if (typeof fns !== 'object' || fns === null || Array.isArray(fns)) {
    throw new Error('supabase/config.toml: [functions] must be a table of [functions.<name>] tables');
  }
  return fns as Record<string, TomlFunction>;
}

function bool(v: unknown, where: string, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new Error(`supabase/config.toml: ${where} must be true or false`);
  return v;
}

function str(v: unknown, where: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new Error(`supabase/config.toml: ${where} must be a non-empty string`);
  return v;
}

/**
 * The functions the CLI would serve: every folder of `supabase/functions/` (except `_shared` and
 * dot/underscore folders) with an entrypoint, plus `[functions.<name>]` entries with an explicit
 * `entrypoint`; minus those with `enabled = false`. Sorted by name.
 */
export function discoverFunctions(root: string): FunctionSpec[] {
  const supabaseDir = path.join(root, 'supabase');
  const functionsDir = path.join(supabaseDir, 'functions');
  const config = readFunctionsConfig(supabaseDir);
  const names = new Set<string>();
  if (fs.existsSync(functionsDir)) {
    for (const d of fs.readdirSync(functionsDir, { withFileTypes: true })) {
      if (!d.isDirectory() || d.name.startsWith('.') || d.name.startsWith('_')) continue;
      names.add(d.name);
    }
  }
  for (const [name, c] of Object.entries(config)) {
    if (c && typeof c === 'object' && c.entrypoint !== undefined) names.add(name);
  }

  const specs: FunctionSpec[] = [];
  for (const name of [...names].sort()) {
    const c = config[name] ?? {};
    const where = `[functions.${name}]`;
    if (!bool(c.enabled, `${where} enabled`, true)) continue;
    if (!FUNCTION_NAME.test(name)) throw new Error(`Invalid function name "${name}": use letters, digits, - and _`);
    const dir = path.join(functionsDir, name);
    const entry = str(c.entrypoint, `${where} entrypoint`);
    // Relative paths in config.toml are relative to supabase/ (as the CLI resolves them).
    const entrypoint = entry ? path.resolve(supabaseDir, entry) : path.join(dir, 'index.ts');
    if (!fs.existsSync(entrypoint)) {
      if (!entry) continue; // a folder without index.ts is not a function
      throw new Error(`${where} entrypoint ${entry} does not exist`);
    }
    const map = str(c.import_map, `${where} import_map`);
    let importMap: string | undefined;
    if (map) {
      importMap = path.resolve(supabaseDir, map);
      if (!fs.existsSync(importMap)) throw new Error(`${where} import_map ${map} does not exist`);
    } else {
      const fnDir = path.dirname(entrypoint);
      importMap = ['deno.json', 'deno.jsonc'].map((f) => path.join(fnDir, f)).find((f) => fs.existsSync(f));
    }
    specs.push({ name, entrypoint, importMap, verifyJwt: bool(c.verify_jwt, `${where} verify_jwt`, true) });
  }
  return specs;
}

/**
 * Parses dotenv syntax: `KEY=value`, optional `export `, `#` comments, single quotes (literal),
 * double quotes (with \n \r \t \" \\ escapes, may span lines), unquoted values with trailing
 * ` # comment` removed. Throws with the line number on a malformed line.
 */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const src = text.replace(/\r\n?/g, '\n');
  let i = 0;
  let line = 1;
  const n = src.length;
  while (i < n) {
    // Skip blank space and comment lines.
    const lineStart = i;
    while (i < n && (src[i] === ' ' || src[i] === '\t')) i++;
    if (i >= n) break;
    if (src[i] === '\n') { i++; line++; continue; }
    if (src[i] === '#') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    let rest = src.slice(i);
    const exp = /^export[ \t]+/.exec(rest);
    if (exp) { i += exp[0].length; rest = src.slice(i); }
    const key = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(rest);
    if (!key) throw new Error(`.env line ${line}: expected KEY=value, got "${src.slice(lineStart, src.indexOf('\n', lineStart) >>> 0).trim()}"`);
    i += key[0].length;
    while (i < n && (src[i] === ' ' || src[i] === '\t')) i++;
    if (src[i] !== '=') throw new Error(`.env line ${line}: expected "=" after ${key[0]}`);
    i++;
    while (i < n && (src[i] === ' ' || src[i] === '\t')) i++;
    let value = '';
    const q = src[i];
    if (q === '"' || q === "'") {
      i++;
      const startLine = line;
      let closed = false;
      while (i < n) {
        const c = src[i];
        if (c === q) { closed = true; i++; break; }
        if (c === '\n') line++;
        if (q === '"' && c === '\\' && i + 1 < n) {
          const e = src[i + 1];
          value += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e;
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      if (!closed) throw new Error(`.env line ${startLine}: unterminated ${q} quote for ${key[0]}`);
      // Allow trailing spaces and a comment after the closing quote.
      while (i < n && src[i] !== '\n') {
        if (src[i] === '#') { while (i < n && src[i] !== '\n') i++; break; }
        if (src[i] !== ' ' && src[i] !== '\t') throw new Error(`.env line ${line}: unexpected text after the quoted value of ${key[0]}`);
        i++;
      }
    } else {
      const end = src.indexOf('\n', i);
      const raw = src.slice(i, end === -1 ? n : end);
      i = end === -1 ? n : end;
      value = raw.replace(/[ \t]+#.*$/, '').trim();
      if (value.startsWith('#')) value = '';
    }
    out[key[0]] = value;
  }
  return out;
}

/**
 * Secrets for the functions from `supabase/functions/.env`, as `supabase functions serve` loads them:
 * `SUPABASE_*` names are reserved for the platform and skipped (reported in `skipped`).
 */
export function loadFunctionsDotenv(root: string): { vars: Record<string, string>; skipped: string[] } {
  const file = path.join(root, 'supabase', 'functions', '.env');
  if (!fs.existsSync(file)) return { vars: {}, skipped: [] };
  const parsed = parseDotenv(fs.readFileSync(file, 'utf8'));
  const vars: Record<string, string> = {};
  const skipped: string[] = [];
  for (const [k, v] of Object.entries(parsed)) {
    if (k.startsWith('SUPABASE_')) skipped.push(k);
    else vars[k] = v;
  }
  return { vars, skipped };
}
