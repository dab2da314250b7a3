import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { freePort } from './support/child-service.js';
import { redisAnswers } from '../src/private-redis.js';
import { deletePrefix, publisherKey, redisUrl, uniquePrefix } from './support/test-service.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/main.js` with exactly `env` (plus PATH) until it exits, or until `until` matches its stdout (then SIGTERM). */
async function runMain(env: Record<string, string>, until?: RegExp): Promise<Run> {
  const child = spawn(process.execPath, ['dist/main.js'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (until?.test(stdout)) child.kill('SIGTERM');
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

const base = { NODE_ENV: 'test', HOST: '127.0.0.1', PUBLISHER_KEYS: publisherKey, DEMO: 'off', LOG_LEVEL: 'info' };

describe('starting the process', () => {
  it('exits 1 naming the unreachable REDIS_URL (without its password) and what to do', async () => {
    const closed = await freePort();
    const run = await runMain({ ...base, PORT: String(await freePort()), REDIS_URL: `redis://someone:s3cret-pass@127.0.0.1:${closed}` });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`could not reach Redis at redis://127.0.0.1:${closed}`);
    expect(run.stderr).toMatch(/ECONNREFUSED/);
    expect(run.stderr).toMatch(/Start Redis there, or set REDIS_URL/);
    expect(run.stderr).not.toContain('Connection is closed');
    expect(run.stderr + run.stdout).not.toContain('s3cret-pass');
  });

  it('logs one line naming the Redis in use (without its password) and that it was not started privately', async () => {
    const prefix = uniquePrefix('main-start');
    try {
      const run = await runMain(
        { ...base, PORT: String(await freePort()), REDIS_KEY_PREFIX: prefix, REDIS_URL: withPassword(redisUrl, 'unused-pass') },
        /stoppress listening/,
      );
      const lines = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => 'redis' in l);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ redis: withPassword(redisUrl, ''), mode: 'single', private: false, msg: expect.stringMatching(/REDIS_URL/) });
      expect(run.stdout).not.toContain('unused-pass');
    } finally {
      await deletePrefix(prefix);
    }
  });

  it('in cluster mode, names the seed nodes (without credentials) and the mode on its one Redis line', async () => {
    const closed = await freePort();
    const run = await runMain({ ...base, PORT: String(await freePort()), REDIS_CLUSTER_NODES: `redis://someone:s3cret-pass@127.0.0.1:${closed}` });
    // Nothing listens there: the process names what it tried, then exits 1.
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => 'redis' in l);
    expect(lines).toEqual([expect.objectContaining({ redis: `cluster 127.0.0.1:${closed}`, mode: 'cluster', private: false })]);
    expect(run.stderr + run.stdout).not.toContain('s3cret-pass');
  });

  it('with no REDIS_URL, names the Redis on 127.0.0.1:6379 and whether it started it privately', async () => {
    // The zero-config run writes nothing (DEMO=off) and stops at once: it only reads what `npm start` would use.
    // Whether a Redis answers on 6379 is the machine's business, so the expected line is chosen by asking first.
    const shared = await redisAnswers('127.0.0.1', 6379);
    const run = await runMain({ ...base, PORT: String(await freePort()), REDIS_KEY_PREFIX: uniquePrefix('main-zero-config') }, /stoppress listening/);
    const lines = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => 'redis' in l);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject(
      shared
        ? { redis: 'redis://127.0.0.1:6379', private: false, msg: expect.stringMatching(/already running on 127\.0\.0\.1:6379/) }
        : { redis: 'redis://127.0.0.1:6379', private: true, msg: expect.stringMatching(/private redis-server/) },
    );
  });
});

/** `url` with its password replaced ('' removes it), as the service logs it: `redis://127.0.0.1:<port>`. */
function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = password;
  return parsed.toString();
}
