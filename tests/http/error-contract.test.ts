import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalogue, type ErrorCode } from '../../src/protocol/errors.js';
import type { RunningService } from '../../src/service.js';
import { deletePrefix, post, publisherKey, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('http-error-contract');
let service: RunningService;
let port: number;
let existingId: string;
let correctionId: string;
const story = 'contract';
const auth = { authorization: `Bearer ${publisherKey}` };

beforeAll(async () => {
  service = await startTestService(prefix, { ALLOWED_ORIGINS: 'https://partner.example' });
  port = service.port;
  existingId = (await post(service.url, story, statement('target'))).body.id;
  correctionId = (await post(service.url, story, { kind: 'correction', corrects: existingId, text: 'fixed', note: 'n' })).body.id;
  await fetch(`${service.url}/v1/stories/private-contract`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Private', status: 'live', visibility: 'private' }) });
});
afterAll(async () => {
  await service?.stop();
  await deletePrefix(prefix);
});

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends bytes as they are (fetch would normalise the path) and reads the answer up to the connection's end. */
async function raw(request: string): Promise<RawAnswer> {
  const socket: Socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(request);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  const text = Buffer.concat(chunks).toString('utf8');
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const at = line.indexOf(':');
    headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

const get = (path: string, headers: Record<string, string> = {}): Promise<RawAnswer> =>
  raw(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);

function send(method: string, path: string, body: string, headers: Record<string, string>): Promise<RawAnswer> {
  const all = { host: '127.0.0.1', connection: 'close', 'content-length': String(Buffer.byteLength(body)), ...headers };
  return raw(`${method} ${path} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`);
}

/** One real request per status the service can answer, with the code it must carry. */
const cases: { code: ErrorCode; name: string; request: () => Promise<RawAnswer>; allow?: string }[] = [
  { code: 'bad_request', name: 'a body that is not JSON', request: () => send('POST', `/v1/stories/${story}/updates`, '{nope', { ...auth, 'content-type': 'application/json' }) },
  { code: 'bad_request', name: 'a path that is not valid percent-encoding', request: () => get('/v1/stories/%zz/updates') },
  { code: 'bad_request', name: 'a CORS preflight without its headers', request: () => send('OPTIONS', '/v1/stories', '', {}) },
  { code: 'bad_request', name: 'a request line that is not HTTP', request: () => raw('HELLO\r\n\r\n') },
  { code: 'validation_failed', name: 'an update missing its text', request: () => send('POST', `/v1/stories/${story}/updates`, '{"kind":"statement"}', { ...auth, 'content-type': 'application/json' }) },
  { code: 'invalid_story_id', name: 'a story id with capitals', request: () => get('/v1/stories/Bad-Story/updates') },
  { code: 'invalid_update_id', name: 'after= past 2^64-1', request: () => get(`/v1/stories/${story}/updates?after=18446744073709551616-0`) },
  { code: 'unauthorized', name: 'a POST without a key', request: () => send('POST', `/v1/stories/${story}/updates`, '{}', { 'content-type': 'application/json' }) },
  { code: 'not_found', name: 'an unknown route', request: () => get('/v1/nothing-here') },
  { code: 'not_found', name: 'a story with no updates', request: () => get('/v1/stories/no-such-story') },
  { code: 'not_found', name: 'a missing file under /assets', request: () => get('/assets/..%2f..%2fpackage.json') },
  { code: 'method_not_allowed', name: 'DELETE on a story', request: () => send('DELETE', `/v1/stories/${story}`, '', auth), allow: 'GET, HEAD, PATCH, PUT' },
  { code: 'method_not_allowed', name: 'PATCH on the updates of a story', request: () => send('PATCH', `/v1/stories/${story}/updates`, '', {}), allow: 'GET, HEAD, POST' },
  { code: 'story_exists', name: 'creating a story that exists', request: () => send('POST', '/v1/stories', JSON.stringify({ story, title: 'again' }), { ...auth, 'content-type': 'application/json' }) },
  { code: 'precondition_failed', name: 'a PATCH with a stale If-Match', request: () => send('PATCH', `/v1/stories/${story}`, '{"title":"t"}', { ...auth, 'content-type': 'application/json', 'if-match': '"0-0.999.identity.x"' }) },
  { code: 'target_not_found', name: 'a correction of an unknown update', request: () => send('POST', `/v1/stories/${story}/updates`, '{"kind":"correction","corrects":"1-0","text":"x","note":"y"}', { ...auth, 'content-type': 'application/json' }) },
  { code: 'target_is_correction', name: 'a correction of a correction', request: () => send('POST', `/v1/stories/${story}/updates`, JSON.stringify({ kind: 'correction', corrects: correctionId, text: 'x', note: 'y' }), { ...auth, 'content-type': 'application/json' }) },
  { code: 'not_flaggable', name: 'flags on a correction', request: () => send('POST', `/v1/stories/${story}/updates/${correctionId}/flags`, '{"key":true}', { ...auth, 'content-type': 'application/json' }) },
  { code: 'body_too_large', name: 'a body over 64 KiB', request: () => send('POST', `/v1/stories/${story}/updates`, JSON.stringify(statement('x'.repeat(70_000))), { ...auth, 'content-type': 'application/json' }) },
  { code: 'uri_too_long', name: 'a story id of 600 characters', request: () => get(`/v1/stories/${'a'.repeat(600)}/updates`) },
  { code: 'unsupported_media_type', name: 'a text/plain body', request: () => send('POST', `/v1/stories/${story}/updates`, 'hello', { ...auth, 'content-type': 'text/plain' }) },
  { code: 'token_invalid', name: 'a private story with a token that is not a JWT', request: () => get('/v1/stories/private-contract', { authorization: 'Bearer not.a.jwt' }) },
  { code: 'headers_too_large', name: 'headers over 16 KiB', request: () => get('/v1/stories', { 'x-padding': 'x'.repeat(20_000) }) },
];

/** Codes a request to this service cannot be made to answer here, and where each is covered instead. */
const coveredElsewhere: Partial<Record<ErrorCode, string>> = {
  internal: 'only for a bug; the fuzz tests (tests/http/fuzz.test.ts) check it never happens',
  redis_unavailable: 'tests/http/redis-down.test.ts',
  shutting_down: 'the test below, on a node that is stopping',
  request_timeout: 'the test below (Node reports the timeout on the connection)',
  bad_frame: 'WebSocket only: tests/live/protocol.test.ts',
  subscription_limit: 'WebSocket only: tests/live/protocol.test.ts',
  not_subscribed: 'WebSocket only: tests/live/protocol.test.ts',
  rate_limited: 'WebSocket only: tests/live/subscribe-limits.test.ts',
  node_story_limit: 'WebSocket only: tests/live/subscribe-limits.test.ts',
  not_delivering: '/readyz only: tests/live/fan-in.test.ts',
  url_not_allowed: 'webhook registration: tests/webhooks/webhooks.test.ts (needs WEBHOOK_ALLOW_PRIVATE_NETWORKS off)',
  token_expired: 'needs SUBSCRIBER_TOKEN_SECRET: tests/http/private-stories.test.ts, tests/live/live-tokens.test.ts, tests/live/sse.test.ts',
  minting_unavailable: 'needs a public-key-only configuration: tests/http/private-stories.test.ts',
  token_required: 'WebSocket only: tests/live/live-tokens.test.ts',
  forbidden: 'WebSocket only: tests/live/live-tokens.test.ts',
};

describe('the error contract', () => {
  it('has a request (or a named test) for every code in the catalogue', () => {
    const covered = new Set<string>([...cases.map((c) => c.code), ...Object.keys(coveredElsewhere)]);
    const missing = Object.keys(errorCatalogue).filter((code) => !covered.has(code));
    expect(missing).toEqual([]);
  });

  it.each(cases.map((c) => [c.code, c.name, c] as const))('answers %s for %s, in the JSON error shape with the catalogue status', async (code, _name, { request, allow }) => {
    const answer = await request();
    expect(answer.status).toBe(errorCatalogue[code].status);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(answer.body);
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatchObject({ code, message: expect.any(String) });
    expect(body.error.message.length).toBeGreaterThan(0);
    if (allow) expect(answer.headers.allow).toBe(allow);
  });

  it('answers an HTML error page, not JSON, for the pages (bad encoding, over-long story id, wrong method)', async () => {
    for (const [answer, status] of [
      [await get('/stories/%zz'), 400],
      [await get(`/stories/${'a'.repeat(600)}`), 414],
      [await send('POST', '/desk', '', {}), 405],
    ] as const) {
      expect(answer.status).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^text\/html/);
      expect(answer.headers['content-security-policy']).toBeTruthy();
      expect(answer.body).toMatch(/^<!doctype html>/i);
    }
  });

  it('answers a valid CORS preflight from an allowed origin with 204', async () => {
    const answer = await send('OPTIONS', '/v1/stories', '', { origin: 'https://partner.example', 'access-control-request-method': 'GET' });
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-origin']).toBe('https://partner.example');
  });

  it('answers request_timeout (408) in the error shape when Node reports a request that took too long', async () => {
    const accepted = once(service.app.server, 'connection') as Promise<[Socket]>;
    const client = connect(port, '127.0.0.1');
    const [serverSide] = await accepted;
    const chunks: Buffer[] = [];
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    const closed = once(client, 'close');
    // Node's own headers/request timers emit this (after 60 s by default); the handler is what is under test.
    service.app.server.emit('clientError', Object.assign(new Error('request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }), serverSide);
    await closed;
    const text = Buffer.concat(chunks).toString();
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(text.split('\r\n\r\n')[1]!)).toEqual({ error: { code: 'request_timeout', message: expect.any(String) } });
  });

  it('answers shutting_down (503) in the error shape to a request that arrives while the node stops', async () => {
    const stopping = await startTestService(uniquePrefix('http-error-contract-stop'));
    const stopped = stopping.stop();
    const answer = await stopping.app.inject({ method: 'GET', url: '/v1/stories' });
    await stopped;
    expect(answer.statusCode).toBe(503);
    expect(answer.json()).toEqual({ error: { code: 'shutting_down', message: expect.any(String) } });
  });
});
