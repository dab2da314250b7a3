import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { LogSink } from '../support/log-sink.js';
import { deletePrefix, post, publisherKey, statement, testConfig, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('request-log');
const sink = new LogSink();
let service: RunningService;

const debug = 20;
const info = 30;

beforeAll(async () => {
  const config = testConfig(prefix, { LOG_LEVEL: 'debug' });
  service = await startService(config, createLogger('debug', sink));
});
afterAll(async () => {
  await service.stop();
  await deletePrefix(prefix);
});

describe('request logs', () => {
  it('writes one JSON line per request with its request id, and never the publisher key', async () => {
    const before = sink.lines.length;
    const accepted = await post(service.url, 'logged', statement('logged'));
    const refused = await post(service.url, 'logged', statement('refused'), { authorization: 'Bearer not-the-key-0123456789' });
    expect(accepted.status).toBe(201);
    expect(refused.status).toBe(401);

    const requestLines = sink.lines.slice(before).filter((line) => line.msg === 'request');
    expect(requestLines).toHaveLength(2);
    expect(requestLines.map((line) => line.reqId)).toEqual([accepted.headers.get('x-request-id'), refused.headers.get('x-request-id')]);
    expect(requestLines[0]).toMatchObject({ method: 'POST', status: 201, updateId: accepted.body.id, level: info });
    expect(requestLines[0]).not.toHaveProperty('code');
    expect(requestLines[1]).toMatchObject({ method: 'POST', status: 401 });
    expect(sink.raw).not.toContain(publisherKey);
    expect(sink.raw).not.toContain('not-the-key-0123456789');
  });

  it('names the error code on the line of every refused request', async () => {
    const before = sink.lines.length;
    const unauthorized = await post(service.url, 'logged', statement('refused'), { authorization: 'Bearer not-the-key-0123456789' });
    const invalid = await post(service.url, 'logged', { kind: 'statement' });
    const missing = await fetch(`${service.url}/v1/stories/no-such-story-here`);
    expect([unauthorized.status, invalid.status, missing.status]).toEqual([401, 400, 404]);
    const requestLines = sink.lines.slice(before).filter((line) => line.msg === 'request');
    expect(requestLines.map((line) => [line.status, line.code])).toEqual([
      [401, 'unauthorized'],
      [400, 'validation_failed'],
      [404, 'not_found'],
    ]);
  });

  it('logs health probes at debug, other requests at info', async () => {
    const before = sink.lines.length;
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${service.url}/v1/stories`)).status).toBe(200);
    const requestLines = sink.lines.slice(before).filter((line) => line.msg === 'request');
    expect(requestLines.map((line) => [line.url, line.level])).toEqual([
      ['/healthz', debug],
      ['/readyz', debug],
      ['/v1/stories', info],
    ]);
  });
});

describe('websocket logs', () => {
  it('logs each connect and close at debug, the close with its code', async () => {
    const client = await LiveTestClient.connect(liveUrl(service.url));
    await sink.waitFor(() => sink.find('websocket connected').length === 1);
    const [connected] = sink.find('websocket connected');
    expect(connected).toMatchObject({ level: debug, component: 'live', conn: expect.any(Number) });
    client.ws.close(4000, 'bye');
    await client.closed;
    await sink.waitFor(() => sink.find('websocket closed').length === 1);
    expect(sink.find('websocket closed')[0]).toMatchObject({ level: debug, conn: connected!.conn, code: 4000, ms: expect.any(Number) });

    // A close the server starts (too many bad frames: 1008) is logged with the server's code.
    const noisy = await LiveTestClient.connect(liveUrl(service.url));
    for (let i = 0; i < 20; i++) noisy.send('not json');
    expect((await noisy.closed).code).toBe(1008);
    await sink.waitFor(() => sink.find('websocket closed').length === 2);
    expect(sink.find('websocket closed')[1]).toMatchObject({ level: debug, code: 1008 });
  });
});
