/**
 * The embedded database: PGlite (PostgreSQL compiled to WASM, one backend) persisted in a data folder and served
 * over the PostgreSQL wire protocol on 127.0.0.1, so PostgREST, the Supabase CLI and node `pg` pools connect to it
 * as to any server.
 *
 * Run as its own process (local/db/index.ts starts it):
 *   node --import tsx local/db/pglite-server.ts --data <dir> --port <port> [--host 127.0.0.1] [--max-connections 100]
 *
 * WHY NOT @electric-sql/pglite-socket's PGLiteSocketServer AS IS. Its multiplexer (option `maxConnections`, default 1)
 * lets several sockets share the one backend, but it interleaves them per protocol *message*: it only keeps a
 * connection exclusive while an explicit transaction block is open. We verified (see the report in the commit that
 * added this file) that
 *   - an extended-protocol batch (Parse … Sync) that reaches the server in two TCP reads can have another
 *     connection's Parse run in between: the first client then binds the other client's unnamed statement
 *     ("bind message supplies 0 parameters, but prepared statement "" requires 1");
 *   - named prepared statements are one namespace for all sockets: hasql (PostgREST) names them "1", "2", … per
 *     connection, so two PostgREST connections collide ("prepared statement "s1" already exists");
 *   - session state leaks: `SET ROLE` on one socket is seen by every other one, every socket is superuser
 *     `postgres` whatever user it logged in as, and NOTIFY is delivered to whichever socket happened to commit;
 *   - with maxConnections = 1 a second client is refused with a line of text that no client can parse.
 * So this file keeps PGlite (and its persistence) but does the multiplexing itself, on the same idea with
 * stricter units:
 *   1. A connection holds the backend from its first message until the backend is idle again at a sync point: the
 *      batch it sent ended with Sync/Query/FunctionCall AND the last ReadyForQuery said 'I'. Open transactions
 *      ('T'/'E'), COPY in progress and pipelines without Sync keep it exclusive; other connections wait their turn
 *      (FIFO). Interleaved *transactions* are therefore serialised, never mixed: safe, at the cost of concurrency.
 *   2. Named prepared statements are renamed per connection (c<id>_<name>) in Parse/Bind/Describe/Close and
 *      deallocated when the connection closes.
 *   3. Each connection's login user is real: on every switch between connections the backend runs
 *      SET SESSION AUTHORIZATION <login user> and restores that connection's own SET ROLE, so `authenticator`
 *      (PostgREST) is not a superuser and needs its grants, exactly as on a server. Unknown roles and databases
 *      are refused with PostgreSQL's FATAL errors. Passwords are not checked (trust on loopback).
 *   4. LISTEN/UNLISTEN are tracked per connection and NotificationResponses are routed to the listening
 *      connections only, so `NOTIFY pgrst, 'reload schema'` reaches PostgREST's listener.
 *   5. A connection that sits idle inside a transaction while others wait for more than
 *      SP_PGLITE_IDLE_TX_TIMEOUT_MS (default 60 s) is ended with FATAL 25P03 and rolled back: a client that
 *      awaits a second pooled connection while holding a transaction would otherwise deadlock the server.
 * What remains different from a server: one query runs at a time; session GUCs other than the role (`SET
 * search_path`, `set_config(…, false)`) are shared between connections, so clients must use transaction-local
 * settings (PostgREST, supabase-js and our stand-ins do); cancel requests are ignored; pg_backend_pid() is the same
 * for everyone; no background workers (no pg_cron, pg_net).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PGlite, type Extensions } from '@electric-sql/pglite';
import { pgcrypto } from '@electric-sql/pglite/contrib/pgcrypto';
import { uuid_ossp } from '@electric-sql/pglite/contrib/uuid_ossp';
import { citext } from '@electric-sql/pglite/contrib/citext';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';

/** The contrib extensions made available to CREATE EXTENSION (what Supabase projects commonly use). */
const EXTENSIONS: Extensions = { pgcrypto, uuid_ossp, citext, pg_trgm, btree_gist, unaccent };

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;

export interface PgliteServerOptions {
  dataDir: string;
  port: number;
  host?: string;
  maxConnections?: number;
  idleTxTimeoutMs?: number;
  log?: (msg: string) => void;
}

interface Conn {
  id: number;
  socket: net.Socket;
  buf: Buffer;
  started: boolean;
  loggedIn: boolean;
  pending: Buffer[];
  user: string;
  /** The connection's own `SET ROLE` (current_setting('role')), restored when it gets the backend back. */
  role: string;
  statements: Set<string>;
  channels: Set<string>;
  closed: boolean;
  cleaned: boolean;
  queued: boolean;
}

// ---- wire helpers ----
const cstr = (s: string) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);

function message(type: string, body: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h.write(type, 0, 'latin1');
  h.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([h, body]);
}

function errorResponse(severity: 'ERROR' | 'FATAL', code: string, msg: string): Buffer {
  return message('E', Buffer.concat([
    Buffer.from('S'), cstr(severity), Buffer.from('V'), cstr(severity), Buffer.from('C'), cstr(code),
    Buffer.from('M'), cstr(msg), Buffer.from([0]),
  ]));
}

function readCString(b: Buffer, at: number): [string, number] {
  const end = b.indexOf(0, at);
  if (end < 0) throw new Error('malformed message: unterminated string');
  return [b.toString('utf8', at, end), end + 1];
}

function quoteIdent(s: string) {
  return `"${s.replace(/"/g, '""')}"`;
}

/** LISTEN/UNLISTEN statements in SQL text (outside quotes is good enough for the commands clients send). */
function listenCommands(sql: string): Array<{ listen: boolean; channel: string }> {
  const out: Array<{ listen: boolean; channel: string }> = [];
  const re = /(?:^|;)\s*(un)?listen\s+(\*|"(?:[^"]|"")+"|[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*)/gi;
  for (const m of sql.matchAll(re)) {
    const raw = m[2];
    const channel = raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw === '*' ? '*' : raw.toLowerCase();
    out.push({ listen: !m[1], channel });
  }
  return out;
}

export async function startPgliteServer(opts: PgliteServerOptions) {
  const log = opts.log ?? ((m: string) => console.log(`[pglite] ${m}`));
  const host = opts.host ?? '127.0.0.1';
  const maxConnections = opts.maxConnections ?? 100;
  const idleTxTimeoutMs = opts.idleTxTimeoutMs ?? 60_000;

  fs.mkdirSync(opts.dataDir, { recursive: true });
  const lockFile = `${opts.dataDir}.lock`;
  takeLock(lockFile);

  const t0 = Date.now();
  const db = await PGlite.create({ dataDir: opts.dataDir, extensions: EXTENSIONS, username: 'postgres', database: 'postgres' });
  const dbName = (await db.query<{ d: string }>('select current_database() as d')).rows[0].d;
  log(`PGlite ${opts.dataDir} open in ${Date.now() - t0} ms`);

  const conns = new Map<number, Conn>();
  const ready: Conn[] = [];
  let nextId = 1;
  let owner: Conn | null = null;
  /** The connection whose session the backend currently has (authorization, role). */
  let current: Conn | null = null;
  let pumping = false;
  let idleTimer: NodeJS.Timeout | null = null;
  let closing = false;

  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    if (closing) {
      socket.end(errorResponse('FATAL', '57P03', 'the database system is shutting down'));
      return;
    }
    if (conns.size >= maxConnections) {
      socket.end(errorResponse('FATAL', '53300', 'sorry, too many clients already'));
      return;
    }
    const conn: Conn = {
      id: nextId++, socket, buf: Buffer.alloc(0), started: false, loggedIn: false, pending: [], user: 'postgres', role: 'none',
      statements: new Set(), channels: new Set(), closed: false, cleaned: false, queued: false,
    };
    conns.set(conn.id, conn);
    socket.on('data', (d) => onData(conn, d));
    socket.on('error', () => onClose(conn));
    socket.on('close', () => onClose(conn));
  });

  function onData(conn: Conn, d: Buffer) {
    if (conn.closed) return;
    conn.buf = conn.buf.length ? Buffer.concat([conn.buf, d]) : d;
    try {
      for (;;) {
        if (!conn.started) {
          if (conn.buf.length < 8) break;
          const len = conn.buf.readInt32BE(0);
          if (len < 8 || len > 10_000) throw new Error('invalid startup packet length');
          if (conn.buf.length < len) break;
          const code = conn.buf.readInt32BE(4);
          const packet = conn.buf.subarray(0, len);
          conn.buf = conn.buf.subarray(len);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            conn.socket.write('N');
            continue;
          }
          if (code === CANCEL_REQUEST) {
            // One backend, one query at a time: there is nothing to cancel from outside.
            conn.socket.end();
            conn.closed = true;
            return;
          }
          if (code !== PROTOCOL_3) throw new Error(`unsupported frontend protocol ${code >> 16}.${code & 0xffff}`);
          conn.started = true;
          conn.pending.push(Buffer.from(packet));
          continue;
        }
        if (conn.buf.length < 5) break;
        const len = conn.buf.readInt32BE(1);
        if (len < 4) throw new Error('invalid message length');
        if (conn.buf.length < len + 1) break;
        const msg = Buffer.from(conn.buf.subarray(0, len + 1));
        conn.buf = conn.buf.subarray(len + 1);
        if (msg[0] === 0x58 /* X Terminate */) {
          conn.socket.end();
          onClose(conn);
          return;
        }
        conn.pending.push(msg);
      }
    } catch (e) {
      conn.socket.end(errorResponse('FATAL', '08P01', (e as Error).message));
      onClose(conn);
      return;
    }
    if (conn.pending.length) schedule(conn);
  }

  function schedule(conn: Conn) {
    if (!conn.queued && conn !== owner) {
      conn.queued = true;
      ready.push(conn);
    }
    void pump();
  }

  function onClose(conn: Conn) {
    if (conn.closed && conns.get(conn.id) !== conn) return;
    conn.closed = true;
    conn.pending = [];
    if (!conn.socket.destroyed) conn.socket.destroy();
    // Cleanup needs the backend: done in turn by the pump.
    if (!conn.queued && conn !== owner) {
      conn.queued = true;
      ready.push(conn);
    }
    void pump();
  }

  async function pump() {
    if (pumping) return;
    pumping = true;
    try {
      for (;;) {
        let conn: Conn | undefined;
        if (owner) {
          if (owner.closed) conn = owner;
          else if (owner.pending.length) conn = owner;
          else break;
        } else {
          conn = ready.shift();
          if (!conn) break;
          conn.queued = false;
        }
        if (idleTimer) { clearTimeout(idleTimer); idleTimer = null; }
        try {
          if (conn.closed) await cleanup(conn);
          else await turn(conn);
        } catch (e) {
          log(`connection ${conn.id}: ${(e as Error).stack ?? e}`);
          if (!conn.closed) {
            conn.socket.end(errorResponse('FATAL', 'XX000', `internal error in the PGlite server: ${(e as Error).message}`));
            conn.closed = true;
          }
          await cleanup(conn).catch(() => {});
        }
      }
      if (owner && !owner.closed && ready.length && !idleTimer) armIdleTimer(owner);
    } finally {
      pumping = false;
    }
  }

  function armIdleTimer(conn: Conn) {
    idleTimer = setTimeout(() => {
      idleTimer = null;
      if (owner !== conn || conn.closed || !ready.length) return;
      log(`connection ${conn.id} (${conn.user}) idle in transaction for ${idleTxTimeoutMs} ms while others wait: terminating it`);
      conn.socket.end(errorResponse('FATAL', '25P03',
        'terminating connection due to idle-in-transaction timeout (PGlite serialises transactions: '
        + 'another connection was waiting for this one to finish)'));
      onClose(conn);
    }, idleTxTimeoutMs);
  }

  async function saveCurrentRole() {
    if (current && !current.closed) {
      current.role = (await db.query<{ r: string }>("select current_setting('role') as r")).rows[0].r;
    }
  }

  /** Makes the backend's session look like `conn`'s: its login user and its own SET ROLE. */
  async function switchTo(conn: Conn) {
    if (current === conn) return;
    await saveCurrentRole();
    let sql = `set session authorization ${quoteIdent(conn.user)}`;
    if (conn.role && conn.role !== 'none') sql += `; set role ${quoteIdent(conn.role)}`;
    await db.exec(sql);
    current = conn;
  }

  async function startup(conn: Conn, packet: Buffer) {
    const params = new Map<string, string>();
    let at = 8;
    while (at < packet.length && packet[at] !== 0) {
      const [k, a1] = readCString(packet, at);
      const [v, a2] = readCString(packet, a1);
      params.set(k, v);
      at = a2;
    }
    const user = params.get('user') ?? '';
    const database = params.get('database') || user;
    if (!user) throw Object.assign(new Error('no PostgreSQL user name specified in startup packet'), { sqlstate: '28000' });
    const role = await db.query<{ rolcanlogin: boolean; rolsuper: boolean }>(
      'select rolcanlogin, rolsuper from pg_roles where rolname = $1', [user]);
    if (!role.rows.length) throw Object.assign(new Error(`role "${user}" does not exist`), { sqlstate: '28000' });
    if (!role.rows[0].rolcanlogin) throw Object.assign(new Error(`role "${user}" is not permitted to log in`), { sqlstate: '28000' });
    if (database !== dbName) throw Object.assign(new Error(`database "${database}" does not exist`), { sqlstate: '3D000' });
    conn.user = user;
    await saveCurrentRole();
    const out = await raw(packet);
    current = null;
    await switchTo(conn);
    conn.loggedIn = true;
    // PGlite reports its own session (postgres, superuser): report the login user's, as a server does.
    const fixed = mapMessages(out, (type, body) => {
      if (type !== 'S') return body;
      const [name, a] = readCString(body, 0);
      if (name === 'session_authorization') return Buffer.concat([cstr(name), cstr(user)]);
      if (name === 'is_superuser') return Buffer.concat([cstr(name), cstr(role.rows[0].rolsuper ? 'on' : 'off')]);
      void a;
      return body;
    });
    conn.socket.write(fixed);
  }

  async function raw(input: Buffer): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await db.runExclusive(() => db.execProtocolRawStream(new Uint8Array(input), {
      onRawData: (d: Uint8Array) => { chunks.push(Buffer.from(d)); },
    }));
    return Buffer.concat(chunks);
  }

  async function turn(conn: Conn) {
    const batch = conn.pending;
    conn.pending = [];
    let i = 0;
    if (!conn.loggedIn) {
      // First turn: the startup packet.
      try {
        await startup(conn, batch[0]);
      } catch (e) {
        const err = e as Error & { sqlstate?: string };
        conn.socket.end(errorResponse('FATAL', err.sqlstate ?? '08P01', err.message));
        conn.closed = true;
        await cleanup(conn);
        return;
      }
      i = 1;
      if (batch.length === 1) return;
    }
    await switchTo(conn);
    const msgs = batch.slice(i).map((m) => rewrite(conn, m));
    let unlisten = false;
    for (const m of msgs) {
      const sql = m[0] === 0x51 /* Q */ ? readCString(m, 5)[0] : m[0] === 0x50 /* P */ ? readCString(m, readCString(m, 5)[1])[0] : '';
      if (!sql || !/listen/i.test(sql)) continue;
      for (const c of listenCommands(sql)) {
        if (c.listen) conn.channels.add(c.channel);
        else {
          unlisten = true;
          if (c.channel === '*') conn.channels.clear();
          else conn.channels.delete(c.channel);
        }
      }
    }
    const out = await raw(Buffer.concat(msgs));
    let status = '';
    const notifications: Array<{ channel: string; msg: Buffer }> = [];
    const filtered = mapMessages(out, (type, body) => {
      if (type === 'Z') status = String.fromCharCode(body[0]);
      if (type === 'A') {
        const [channel] = readCString(body, 4);
        notifications.push({ channel, msg: message('A', body) });
        return conn.channels.has(channel) ? body : null;
      }
      return body;
    });
    if (filtered.length) conn.socket.write(filtered);
    for (const n of notifications) {
      for (const other of conns.values()) {
        if (other !== conn && !other.closed && other.started && other.channels.has(n.channel)) other.socket.write(n.msg);
      }
    }
    if (unlisten) await relisten();
    const last = msgs.length ? String.fromCharCode(msgs[msgs.length - 1][0]) : 'S';
    const atSync = last === 'S' || last === 'Q' || last === 'F';
    owner = atSync && status === 'I' ? null : conn;
  }

  /** The backend listens on the union of all connections' channels: restore it after someone's UNLISTEN. */
  async function relisten() {
    const want = new Set<string>();
    for (const c of conns.values()) if (!c.closed) for (const ch of c.channels) want.add(ch);
    if (want.size) await db.exec([...want].map((ch) => `listen ${quoteIdent(ch)}`).join('; '));
  }

  async function cleanup(conn: Conn) {
    if (conn.cleaned) return;
    conn.cleaned = true;
    conns.delete(conn.id);
    const idx = ready.indexOf(conn);
    if (idx >= 0) ready.splice(idx, 1);
    if (owner === conn || (current === conn && db.isInTransaction())) {
      if (db.isInTransaction()) await db.exec('rollback');
    }
    if (owner === conn) owner = null;
    if (current === conn) current = null;
    await db.exec('reset session authorization');
    for (const s of conn.statements) await db.exec(`deallocate ${quoteIdent(s)}`).catch(() => {});
    const orphan = [...conn.channels].filter((ch) => ![...conns.values()].some((c) => c.channels.has(ch)));
    for (const ch of orphan) await db.exec(`unlisten ${quoteIdent(ch)}`).catch(() => {});
  }

  /** Per-connection names for prepared statements (Parse, Bind, Describe 'S', Close 'S'). */
  function rewrite(conn: Conn, m: Buffer): Buffer {
    const type = String.fromCharCode(m[0]);
    const rename = (name: string) => `c${conn.id}_${name}`;
    if (type === 'P') {
      const [name, a] = readCString(m, 5);
      if (!name) return m;
      conn.statements.add(rename(name));
      return message('P', Buffer.concat([cstr(rename(name)), m.subarray(a)]));
    }
    if (type === 'B') {
      const [portal, a] = readCString(m, 5);
      const [stmt, b] = readCString(m, a);
      if (!stmt) return m;
      return message('B', Buffer.concat([cstr(portal), cstr(rename(stmt)), m.subarray(b)]));
    }
    if ((type === 'D' || type === 'C') && m[5] === 0x53 /* S */) {
      const [name] = readCString(m, 6);
      if (!name) return m;
      if (type === 'C') conn.statements.delete(rename(name));
      return message(type, Buffer.concat([Buffer.from('S'), cstr(rename(name))]));
    }
    return m;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  log(`listening on ${host}:${opts.port} (max ${maxConnections} connections, transactions serialised)`);

  return {
    db,
    async stop() {
      closing = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of conns.values()) {
          c.socket.end(errorResponse('FATAL', '57P01', 'terminating connection due to administrator command'));
          c.socket.destroy();
        }
      });
      while (pumping) await new Promise((r) => setTimeout(r, 10));
      if (db.isInTransaction()) await db.exec('rollback').catch(() => {});
      await db.close();
      fs.rmSync(lockFile, { force: true });
      log('stopped');
    },
  };
}

/** Applies `fn` to every backend message in `out`; `null` drops the message. */
function mapMessages(out: Buffer, fn: (type: string, body: Buffer) => Buffer | null): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  let changed = false;
  while (at + 5 <= out.length) {
    const type = String.fromCharCode(out[at]);
    const len = out.readInt32BE(at + 1);
    const body = out.subarray(at + 5, at + 1 + len);
    const next = fn(type, body);
    if (next === body) parts.push(out.subarray(at, at + 1 + len));
    else {
      changed = true;
      if (next) parts.push(message(type, next));
    }
    at += 1 + len;
  }
  if (at < out.length) parts.push(out.subarray(at));
  return changed ? Buffer.concat(parts) : out;
}

/** One server per data folder: a second one would corrupt it. A lock left by a dead process is taken over. */
function takeLock(lockFile: string) {
  try {
    const pid = Number(fs.readFileSync(lockFile, 'utf8'));
    if (pid > 0 && pid !== process.pid) {
      try {
        process.kill(pid, 0);
        throw new Error(`${path.dirname(lockFile)} is in use by another PGlite server (pid ${pid})`);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  fs.writeFileSync(lockFile, String(process.pid));
}

// ---- command line ----
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const dataDir = arg('data');
  const port = Number(arg('port'));
  if (!dataDir || !port) {
    console.error('usage: pglite-server.ts --data <dir> --port <port> [--host 127.0.0.1] [--max-connections 100]');
    process.exit(2);
  }
  const srv = await startPgliteServer({
    dataDir: path.resolve(dataDir),
    port,
    host: arg('host'),
    maxConnections: arg('max-connections') ? Number(arg('max-connections')) : undefined,
    idleTxTimeoutMs: process.env.SP_PGLITE_IDLE_TX_TIMEOUT_MS ? Number(process.env.SP_PGLITE_IDLE_TX_TIMEOUT_MS) : undefined,
  });
  let stopping = false;
  const shutdown = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[pglite] ${sig}: closing ${dataDir}`);
    try {
      await srv.stop();
      process.exit(0);
    } catch (e) {
      console.error(`[pglite] close failed: ${(e as Error).message}`);
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
