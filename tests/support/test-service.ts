import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/service.js';

/** The run's Redis: a private redis-server started for `npm test`, or REDIS_URL when set (tests/support/test-redis.ts). */
export const redisUrl: string = inject('redisUrl') ?? missingTestRedis();

function missingTestRedis(): never {
  // Never fall back to 127.0.0.1:6379: the tests must not write into a Redis they were not given.
  throw new Error('no test Redis: run the tests through vitest, whose globalSetup (tests/support/test-redis.ts) provides it');
}
export const publisherKey = 'test-publisher-key';

/** A key prefix of its own for a test file, so files can run in parallel on one Redis. */
export function uniquePrefix(name: string): string {
  return `test-${name}-${randomBytes(4).toString('hex')}:`;
}

/**
 * The service's config for tests: port 0, no demo, silent logs, a fixed publisher key, overridable. A variable
 * given as undefined is left unset (`REDIS_URL: undefined` with `REDIS_CLUSTER_NODES` for a cluster).
 */
export function testConfig(prefix: string, env: Record<string, string | undefined> = {}): Config {
  return loadConfig(withoutUnset({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    PUBLISHER_KEYS: publisherKey,
    DEMO: 'off',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  }));
}

/** The environment without the variables given as undefined. */
export function withoutUnset(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** Starts the whole service in-process on a free port. */
export async function startTestService(prefix: string, env: Record<string, string | undefined> = {}): Promise<RunningService> {
  const config = testConfig(prefix, env);
  return startService(config, createLogger(config.logLevel));
}

/** Deletes every key under `prefix` (SCAN is fine in tests; the service itself never scans). */
export async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A statement body as a publisher sends it. */
export function statement(text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'statement', occurredAt: '2022-02-15T10:00:00+03:00', text, ...extra };
}

/** An HTTP answer read whole: status, raw text, headers, and the body parsed as JSON (the text itself when it is not JSON, null when empty). */
export interface HttpAnswer {
  status: number;
  text: string;
  body: any;
  headers: Headers;
}

/** Reads `response` whole into an HttpAnswer. */
export async function readAnswer(response: Response): Promise<HttpAnswer> {
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: response.status, text, body, headers: response.headers };
}

/** POSTs an update with the test publisher key. */
export async function post(
  baseUrl: string,
  story: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const response = await fetch(`${baseUrl}/v1/stories/${story}/updates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return readAnswer(response);
}
