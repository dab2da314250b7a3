import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/service.js';
import { freePort } from '../support/child-service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { LogSink } from '../support/log-sink.js';
import { startRedisServer, stopRedisServer } from '../support/redis-server.js';
import { testConfig, uniquePrefix } from '../support/test-service.js';

const sink = new LogSink();
let port: number;
let redisServer: ChildProcess | undefined;
let service: RunningService;

beforeAll(async () => {
  port = await freePort();
  redisServer = await startRedisServer({ port });
  const config = testConfig(uniquePrefix('connection-log'), { REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: 'debug' });
  service = await startService(config, createLogger('debug', sink));
});
afterAll(async () => {
  await service?.stop();
  await stopRedisServer(redisServer);
});

describe('Redis connection logs', () => {
  it('logs the loss and the return of the command and pub/sub connections once each, not once per retry', async () => {
    // A followed story gives the node a pub/sub connection.
    const client = await LiveTestClient.connect(liveUrl(service.url));
    expect((await client.subscribe('outage')).type).toBe('subscribed');
    expect(sink.find('redis connection lost; reconnecting')).toEqual([]);

    await stopRedisServer(redisServer);
    // Several retries of each connection fail (each at debug) ...
    await sink.waitFor(() => sink.find('redis connection error').length >= 3 && sink.find('pub/sub connection error').length >= 3);
    // ... and each outage was announced once, as a warning.
    expect(sink.find('redis connection lost; reconnecting')).toEqual([expect.objectContaining({ level: 40, component: 'redis' })]);
    expect(sink.find('pub/sub connection lost; reconnecting')).toEqual([expect.objectContaining({ level: 40, component: 'fan-in', node: `127.0.0.1:${port}` })]);
    expect(sink.find('redis connection error').every((line) => line.level === 20)).toBe(true);

    redisServer = await startRedisServer({ port });
    await sink.waitFor(() => sink.find('redis connection back').length > 0 && sink.find('pub/sub connection back').length > 0);
    expect(sink.find('redis connection back')).toEqual([expect.objectContaining({ level: 30, downForMs: expect.any(Number) })]);
    expect(sink.find('pub/sub connection back')).toEqual([expect.objectContaining({ level: 30, downForMs: expect.any(Number) })]);
    expect(sink.find('redis connection lost; reconnecting')).toHaveLength(1);
    expect(sink.find('pub/sub connection lost; reconnecting')).toHaveLength(1);
    client.close();
    await client.closed;
  });
});
