import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { publisherKey, redisUrl, withoutUnset } from './test-service.js';

/** A service running as its own process (`node dist/main.js`), as in production. */
export interface ChildService {
  readonly url: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Starts `node dist/main.js` with a key prefix; resolves once it logs that it listens. Pass `port` to listen
 * on a fixed port (to restart a node where its clients reconnect); otherwise a free one is picked.
 */
export async function startChildService(prefix: string, env: Record<string, string | undefined> = {}, port?: number): Promise<ChildService> {
  port ??= await freePort();
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: withoutUnset({
      ...process.env,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      PUBLISHER_KEYS: publisherKey,
      DEMO: 'off',
      LOG_LEVEL: 'info',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('stoppress listening')) resolve();
    });
    void exited.then((code) => reject(new Error(`service exited with ${code} before listening`)));
  });
  child.stdout!.resume();
  return { url: `http://127.0.0.1:${port}`, process: child, exited };
}
