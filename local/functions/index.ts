/**
 * Edge functions on real Deno (npm `deno`, 2.9.6), one process per function, routed like the Supabase
 * edge runtime's main service routes to its user workers:
 *
 *   gateway /functions/v1/<name>/… (prefix stripped) → handler: name = pathname.split('/')[1],
 *   404 "Function not found", verify_jwt per function, then the whole request (method, headers,
 *   streamed body, path `/<name>/…` + query) to the function's port; the response streams back.
 *
 * Each function runs unmodified: `deno run --config <its deno.json> --preload worker-preload.ts
 * <entrypoint>` with `DENO_SERVE_ADDRESS=tcp:127.0.0.1:<port>` so its `Deno.serve(handler)` listens
 * there. Its environment is the platform's variables (passed in by the stack) plus
 * `supabase/functions/.env` — nothing else of ours but PATH/HOME/DENO_DIR.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { forwardToPort } from '../gateway/http.ts';
import { portOpen, startChild, waitFor, type Child } from '../lib/proc.ts';
import type { FetchHandler, Logger } from '../lib/types.ts';
import { discoverFunctions, loadFunctionsDotenv, type FunctionSpec } from './config.ts';
import { verifyFunctionRequest } from './verify.ts';

export interface FunctionsOptions {
  /** Repository root (the folder holding supabase/). */
  root: string;
  /** Platform variables: SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY, SUPABASE_DB_URL, … */
  env: Record<string, string>;
  /** Function i (in name order) listens on basePort + i. */
  basePort: number;
  jwtSecret: string;
  log: Logger;
  /** Boot timeout per function. The first boot downloads npm packages into Deno's cache. Default 180 s. */
  bootTimeoutMs?: number;
}

export interface RunningFunctions {
  handler: FetchHandler;
  names: string[];
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const PRELOAD = path.join(HERE, 'worker-preload.ts');
/** Kong's read timeout for /functions/v1 (hosted request idle timeout, 150 s). */
const IDLE_TIMEOUT_MS = 150_000;
/**
 * Env names of ours a function process may see, besides the platform's and .env: the process basics,
 * and the machine's network plumbing (proxy, extra CA certificates, npm registry) without which Deno
 * cannot fetch npm packages or call real provider APIs on machines behind a TLS-inspecting proxy.
 */
const PASSTHROUGH = [
  'PATH', 'HOME', 'DENO_DIR',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
  'DENO_CERT', 'DENO_TLS_CA_STORE', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS',
  'NPM_CONFIG_REGISTRY', 'DENO_NPM_REGISTRY',
];
const REQUIRED_PLATFORM_ENV = ['SUPABASE_URL', 'SUPABASE_ANON_KEY', 'SUPABASE_SERVICE_ROLE_KEY', 'SUPABASE_DB_URL'];

export function denoBinary(root: string): string {
  const bin = path.join(root, 'node_modules', '.bin', 'deno');
  if (!fs.existsSync(bin)) throw new Error(`Deno not found at ${bin}: is the npm package "deno" installed (npm ci)?`);
  return bin;
}

/** The argv of a function's Deno process (exported for tests and for the report). */
export function denoArgs(spec: FunctionSpec): string[] {
  return [
    'run',
    ...(spec.importMap ? [`--config=${spec.importMap}`] : ['--no-config']),
    '--no-lock',
    '--allow-net',
    '--allow-env',
    '--allow-read',
    `--allow-write=${os.tmpdir()}`,
    '--allow-sys',
    '--no-prompt',
    '--node-modules-dir=none',
    `--preload=${PRELOAD}`,
    spec.entrypoint,
  ];
}

function workerError(): Response {
  return Response.json(
    { code: 'WORKER_ERROR', message: 'Function failed to start or respond. Check edge-runtime logs for details.' },
    { status: 500 },
  );
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').replace(/\x1b\[[0-9;]*m/g, '').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

class FunctionWorker {
  child: Child | null = null;
  booting: Promise<void> | null = null;
  stopped = false;
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(
    readonly spec: FunctionSpec,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly bin: string,
    private readonly root: string,
    private readonly log: Logger,
    private readonly bootTimeoutMs: number,
  ) {}

  get alive(): boolean {
    return this.child !== null && this.child.proc.exitCode === null && this.child.proc.signalCode === null;
  }

  /** Starts the process if it is not running (or died) and resolves when its port accepts connections. */
  ensure(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('functions are stopping'));
    if (this.booting) return this.booting;
    if (this.alive) return Promise.resolve();
    this.booting = this.boot().finally(() => {
      this.booting = null;
    });
    return this.booting;
  }

  private async boot(): Promise<void> {
    const { name } = this.spec;
    if (await portOpen(this.port)) {
      throw new Error(`function ${name}: port ${this.port} is already in use (a stale process? see .local/run)`);
    }
    const started = Date.now();
    const child = startChild(`function-${name}`, this.bin, denoArgs(this.spec), { cwd: this.root, env: this.env });
    this.child = child;
    let up = false;
    child.exited.then((code) => {
      // A failed boot is reported by boot() itself; this is for a process that dies after serving.
      if (up && !this.stopped && this.child === child) {
        this.log.warn(`function ${name} exited (code ${code}); it restarts on its next request. Log: ${child.logFile}`);
      }
    });
    const progress = setInterval(() => {
      this.log.info(`function ${name}: still starting after ${Math.round((Date.now() - started) / 1000)} s (first start downloads npm packages into Deno's cache)`);
    }, 10_000);
    try {
      await waitFor(`function ${name}`, () => portOpen(this.port), this.bootTimeoutMs, child);
      up = true;
    } catch (e) {
      await child.stop('SIGKILL', 1000);
      throw new Error(`${(e as Error).message}\n${tail(child.logFile)}`);
    } finally {
      clearInterval(progress);
    }
    this.log.info(`function ${name} up on :${this.port} in ${Date.now() - started} ms`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.agent.destroy();
    await this.child?.stop('SIGTERM', 5000);
  }
}

export async function startFunctions(opts: FunctionsOptions): Promise<RunningFunctions> {
  const { log } = opts;
  const specs = discoverFunctions(opts.root);
  const bin = denoBinary(opts.root);
  const secret = new TextEncoder().encode(opts.jwtSecret);

  const missing = REQUIRED_PLATFORM_ENV.filter((k) => !opts.env[k]);
  if (missing.length) log.warn(`functions start without ${missing.join(', ')}: functions reading them will fail`);

  const dotenv = loadFunctionsDotenv(opts.root);
  if (dotenv.skipped.length) {
    log.warn(`supabase/functions/.env: skipped ${dotenv.skipped.join(', ')} (SUPABASE_ names are reserved for the platform)`);
  }
  const baseEnv: Record<string, string> = {};
  for (const k of PASSTHROUGH) if (process.env[k] !== undefined) baseEnv[k] = process.env[k]!;

  const workers = new Map<string, FunctionWorker>();
  specs.forEach((spec, i) => {
    const port = opts.basePort + i;
    const env = {
      ...baseEnv,
      ...opts.env,
      ...dotenv.vars,
      // Platform variables always win over .env (as the CLI filters SUPABASE_* from it).
      ...Object.fromEntries(Object.entries(opts.env).filter(([k]) => k.startsWith('SUPABASE_'))),
      DENO_SERVE_ADDRESS: `tcp:${HOST}:${port}`,
      DENO_NO_PACKAGE_JSON: '1',
      DENO_NO_UPDATE_CHECK: '1',
    };
    workers.set(spec.name, new FunctionWorker(spec, port, env, bin, opts.root, log, opts.bootTimeoutMs ?? 180_000));
  });

  if (specs.length) {
    const t0 = Date.now();
    log.info(`starting ${specs.length} function(s): ${specs.map((s) => `${s.name}${s.verifyJwt ? '' : ' (verify_jwt=false)'}`).join(', ')}`);
    const results = await Promise.allSettled([...workers.values()].map((w) => w.ensure()));
    results.forEach((r, i) => {
      if (r.status === 'rejected') log.error(`function ${specs[i]!.name} failed to boot; requests get 500 WORKER_ERROR until it does:\n${(r.reason as Error).message}`);
    });
    log.info(`functions started in ${Date.now() - t0} ms`);
  }

  const handler: FetchHandler = async (req) => {
    const url = new URL(req.url);
    if (url.pathname === '/_internal/health') return Response.json({ message: 'ok' });
    const name = url.pathname.split('/')[1] ?? '';
    const worker = name ? workers.get(name) : undefined;
    if (!worker) return new Response('Function not found', { status: 404 });

    if (worker.spec.verifyJwt) {
      const refusal = await verifyFunctionRequest(req, secret);
      if (refusal) return refusal;
    }

    try {
      await worker.ensure();
    } catch (e) {
      log.error(`function ${name} failed to boot: ${(e as Error).message}`);
      return workerError();
    }
    try {
      return await forwardToPort(
        req,
        { host: HOST, port: worker.port, path: url.pathname + url.search },
        { agent: worker.agent, idleTimeoutMs: IDLE_TIMEOUT_MS },
      );
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (req.signal.aborted) return new Response(null, { status: 499 });
      if (err.code === 'ETIMEDOUT') {
        return Response.json({ message: 'The upstream server is timed out' }, { status: 504 });
      }
      log.error(`function ${name}: request failed (${err.code ?? err.message})${worker.alive ? '' : '; the process exited and restarts on the next request'}`);
      return workerError();
    }
  };

  return {
    handler,
    names: specs.map((s) => s.name),
    async stop() {
      await Promise.all([...workers.values()].map((w) => w.stop()));
    },
  };
}
