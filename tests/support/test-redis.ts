import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';
import { startRedisServer, stopRedisServer } from './redis-server.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** The Redis every test (and every service a test starts) uses: see tests/support/test-redis.ts. */
    redisUrl: string;
  }
}

/**
 * vitest globalSetup: `npm test` runs on a private redis-server started on a free port for the run (no
 * persistence, stopped at the end), so it never writes into whatever Redis answers on 6379. With REDIS_URL set,
 * the tests use that Redis instead (each test file keeps to its own key prefix). Workers read the URL with
 * `inject('redisUrl')` (tests/support/test-service.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.REDIS_URL) {
    project.provide('redisUrl', process.env.REDIS_URL);
    return async () => undefined;
  }
  let server: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; !server; attempt++) {
    port = await freePort();
    try {
      server = await startRedisServer({ port });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error('npm test needs redis-server installed (Debian/Ubuntu: apt-get install redis-server), or REDIS_URL set to a Redis it may write test keys into');
      }
      // Another process took the port between the probe and the start: try another one.
      if (attempt >= 2) throw error;
    }
  }
  project.provide('redisUrl', `redis://127.0.0.1:${port}`);
  const started = server;
  return () => stopRedisServer(started, 'SIGTERM');
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}
