/**
 * Child processes of the stack: started with their output in .local/logs, their pid recorded in
 * .local/run so that a start after a crash can end what the crashed run left behind.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { LOG_DIR, RUN_DIR } from '../config.ts';

export interface Child {
  name: string;
  proc: ChildProcess;
  logFile: string;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

export function startChild(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): Child {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  fs.mkdirSync(RUN_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `${name}.log`);
  const out = fs.openSync(logFile, 'a');
  const proc = spawn(cmd, args, { stdio: ['ignore', out, out], ...opts, detached: true });
  fs.closeSync(out);
  const pidFile = path.join(RUN_DIR, `${name}.pid`);
  if (proc.pid) fs.writeFileSync(pidFile, String(proc.pid));
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code) => {
      fs.rmSync(pidFile, { force: true });
      resolve(code);
    });
    proc.on('error', () => resolve(-1));
  });
  let done = false;
  exited.then(() => { done = true; });
  return {
    name,
    proc,
    logFile,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 5000) {
      if (done || !proc.pid) return;
      killGroup(proc.pid, signal);
      const t = setTimeout(() => { if (!done && proc.pid) killGroup(proc.pid, 'SIGKILL'); }, timeoutMs);
      await exited;
      clearTimeout(t);
    },
  };
}

function killGroup(pid: number, signal: NodeJS.Signals) {
  try { process.kill(-pid, signal); } catch { try { process.kill(pid, signal); } catch { /* gone */ } }
}

/** This process and its ancestors (never reaped: a stack started by the test runner records the runner's child). */
function ancestors(): Set<number> {
  const out = new Set<number>([process.pid]);
  let pid = process.ppid;
  while (pid > 1 && !out.has(pid)) {
    out.add(pid);
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return out;
}

/** Ends processes a previous, crashed run left behind (pid files still present). */
export function reapStale(names?: string[]): string[] {
  if (!fs.existsSync(RUN_DIR)) return [];
  const reaped: string[] = [];
  const mine = ancestors();
  for (const f of fs.readdirSync(RUN_DIR)) {
    if (!f.endsWith('.pid')) continue;
    const name = f.slice(0, -4);
    if (names && !names.includes(name)) continue;
    const pid = Number(fs.readFileSync(path.join(RUN_DIR, f), 'utf8'));
    if (mine.has(pid)) continue;
    if (pid > 0 && isAlive(pid)) {
      killGroup(pid, 'SIGKILL');
      reaped.push(`${name}(${pid})`);
    }
    fs.rmSync(path.join(RUN_DIR, f), { force: true });
  }
  return reaped;
}

export function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Polls until `check` resolves true, or throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000, child?: Child) {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check().catch(() => false)) return;
    if (child && (child.proc.exitCode !== null || child.proc.signalCode !== null)) {
      throw new Error(`${what}: process exited with ${child.proc.exitCode ?? child.proc.signalCode}; see ${child.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms${child ? `; see ${child.logFile}` : ''}`);
}
