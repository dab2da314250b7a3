import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import type { Logger } from 'pino';

/** Thrown when no Redis can be found or started; its message is the one line shown to the user. */
export class NoRedisError extends Error {
  override name = 'NoRedisError';
}

export interface PrivateRedis {
  stop(): Promise<void>;
}

/** Answers whether something speaking Redis answers PING on host:port within `timeoutMs`. */
export function redisAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (ok: boolean): void => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => finish(data.toString().startsWith('+PONG')));
  });
}

/**
 * Starts a private `redis-server` from PATH on 127.0.0.1:`port`, data and AOF under `dataDir`, for
 * `npm start` on a machine with no Redis running. Throws NoRedisError when redis-server is not installed.
 */
export async function startPrivateRedis(port: number, dataDir: string, log: Logger): Promise<PrivateRedis> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--logfile', 'redis.log', '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  const spawnFailure = new Promise<never>((_, reject) =>
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new NoRedisError(
              'No Redis answers on 127.0.0.1:6379 and redis-server is not installed: install it (apt-get install redis-server, brew install redis) or run `docker compose up -d redis`, or set REDIS_URL.',
            )
          : error,
      ),
    ),
  );
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new NoRedisError(`redis-server exited with code ${code}; see ${dir}/redis.log`))),
  );
  // Both stay pending after start-up; mark them handled so a later exit is not an unhandled rejection.
  spawnFailure.catch(() => undefined);
  exited.catch(() => undefined);
  const deadline = Date.now() + 10_000;
  const ready = (async () => {
    // redis-server has no readiness signal on stdout we can rely on across versions, so poll PING briefly.
    while (!(await redisAnswers('127.0.0.1', port, 200))) {
      if (Date.now() > deadline) throw new NoRedisError(`redis-server did not answer within 10 s; see ${dir}/redis.log`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await Promise.race([ready, spawnFailure, exited]);
  log.info({ port, dir, pid: child.pid }, 'started a private redis-server (no Redis was reachable and REDIS_URL is unset)');
  return {
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.removeAllListeners('exit');
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
