import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/service.js';
import { deletePrefix, post, publisherKey, statement, testConfig, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('request-log');
const lines: Record<string, unknown>[] = [];
let raw = '';
let service: RunningService;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw += chunk.toString();
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config = testConfig(prefix, { LOG_LEVEL: 'info' });
  service = await startService(config, createLogger('info', sink));
});
afterAll(async () => {
  await service.stop();
  await deletePrefix(prefix);
});

describe('request logs', () => {
  it('writes one JSON line per request with its request id, and never the publisher key', async () => {
    const before = lines.length;
    const accepted = await post(service.url, 'logged', statement('logged'));
    const refused = await post(service.url, 'logged', statement('refused'), { authorization: 'Bearer not-the-key-0123456789' });
    expect(accepted.status).toBe(201);
    expect(refused.status).toBe(401);

    const requestLines = lines.slice(before).filter((line) => line.msg === 'request');
    expect(requestLines).toHaveLength(2);
    expect(requestLines.map((line) => line.reqId)).toEqual([accepted.headers.get('x-request-id'), refused.headers.get('x-request-id')]);
    expect(requestLines[0]).toMatchObject({ method: 'POST', status: 201, updateId: accepted.body.id });
    expect(requestLines[1]).toMatchObject({ method: 'POST', status: 401 });
    expect(raw).not.toContain(publisherKey);
    expect(raw).not.toContain('not-the-key-0123456789');
  });
});
