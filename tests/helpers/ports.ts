/**
 * A port free right now, from the OS (listen on 0, read it, close). Unit tests that start servers take theirs from
 * here instead of fixed numbers, so two test runs on one machine (two engineers, or a stack and a suite) never
 * collide with EADDRINUSE. A port is never handed out twice in one process.
 */
import { createServer, type AddressInfo } from 'node:net';

const given = new Set<number>();

function osPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await osPort();
    if (!given.has(port)) {
      given.add(port);
      return port;
    }
  }
}
