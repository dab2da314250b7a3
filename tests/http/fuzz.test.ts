import { Agent, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalogue } from '../../src/protocol/errors.js';
import type { RunningService } from '../../src/service.js';
import { edgeId, fuzzSeed, Random, snapshotStory } from '../support/fuzz.js';
import { deletePrefix, post, publisherKey, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('http-fuzz');
const seeded = 'fuzz-seeded';
const requestCount = 4_000;
const concurrency = 8;
let service: RunningService;
let seededIds: string[] = [];

beforeAll(async () => {
  service = await startTestService(prefix);
  for (let i = 0; i < 5; i++) seededIds.push((await post(service.url, seeded, statement(`seeded ${i}`))).body.id);
  const meta = await fetch(`${service.url}/v1/stories/${seeded}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
    body: JSON.stringify({ title: 'Seeded', status: 'live' }),
  });
  expect(meta.status).toBe(200);
  // The metadata write is a story-change entry of the stream too.
  seededIds.push(((await (await fetch(`${service.url}/v1/stories/${seeded}`)).json()) as { lastId: string }).lastId);
});
afterAll(async () => {
  await service?.stop();
  await deletePrefix(prefix);
});

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** True when the request may legitimately succeed (reads); a write must never. */
  read: boolean;
}

const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND', 'TRACE'];
const protoKeys = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString'];

function storySegment(random: Random): string {
  return random.pick([
    seeded,
    random.string(random.int(1, 20)),
    random.string(64),
    random.string(65),
    random.string(501),
    random.string(random.int(600, 3000)),
    'Upper-Case',
    '-leading',
    '..',
    '%2e%2e',
    '%zz',
    '%',
    '%00',
    '%C0%AF',
    '%F0%9F%92%A5',
    encodeURIComponent('ü-story'),
    random.pick(protoKeys),
    `${seeded}%20`,
    `${seeded};x=1`,
  ]);
}

function query(random: Random): string {
  const parts: string[] = [];
  const count = random.int(0, 3);
  for (let i = 0; i < count; i++) {
    parts.push(
      random.pick([
        () => `after=${encodeURIComponent(edgeId(random))}`,
        () => `after=${edgeId(random)}`,
        () => `limit=${random.pick(['0', '-1', '1001', '1e309', 'NaN', '99999999999999999999', '', '1.5', '0x10', '100', String(random.int(1, 1000))])}`,
        () => `${random.pick(protoKeys)}[x]=1`,
        () => `constructor[prototype][polluted]=1`,
        () => `after[]=1-0`,
        () => `unknown=${random.string(5)}`,
        () => `%zz=1`,
        () => `after=%`,
      ])(),
    );
  }
  if (random.chance(0.2) && parts.length > 0) parts.push(parts[0]!);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

function deep(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** A body that can never be a valid update or metadata, by construction. */
function invalidBody(random: Random): { body: string | Buffer; type: string | undefined } {
  const valid = statement('fuzz');
  const json = (value: unknown): string => JSON.stringify(value);
  const body = random.pick<() => string | Buffer>([
    () => '',
    () => '{',
    () => '{"kind":"statement",',
    () => 'null',
    () => '[]',
    () => '"text"',
    () => '12',
    () => 'true',
    () => json({ ...valid, kind: random.pick(['', 'Statement', 'delete', 'correction ']) }),
    () => json({ ...valid, occurredAt: random.pick(['yesterday', '2022-02-30T10:00:00Z', '2022-02-15T10:00:00', 1644914400000]) }),
    () => json({ ...valid, text: random.pick(['', 7, null, ['a'], { a: 1 }]) }),
    () => json({ ...valid, text: 'x'.repeat(10_001) }),
    () => json({ ...valid, [random.string(6)]: 1 }),
    () => json({ kind: 'correction', corrects: edgeId(random) + (random.chance(0.5) ? 'x' : ''), text: 'x' }),
    () => json({ kind: 'correction', corrects: random.pick(['99999999999999999999-0', `18446744073709551616-${random.int(0, 9)}`, '01-0']), text: 'x', note: 'n' }),
    () => json({ ...valid, kind: 'reaction', inReplyTo: random.pick(['99999999999999999999-0', '0-18446744073709551616', '007-1', 'latest']) }),
    () => `{"__proto__":{"polluted":true},${json(valid).slice(1)}`,
    () => `{"constructor":{"prototype":{"polluted":true}},${json(valid).slice(1)}`,
    () => json({ ...valid, source: { name: 'x', __proto__: { admin: true }, url: 'javascript:alert(1)' } }),
    () => json({ ...valid, key: random.pick([1e308, -0, 'true', 1]) }),
    () => `{"kind":"statement","occurredAt":"2022-02-15T10:00:00Z","text":"x","n":1${'0'.repeat(400)}}`,
    () => `{"kind":"statement","occurredAt":"2022-02-15T10:00:00Z","text":"x","n":1e999999}`,
    () => deep(random.int(100, 5_000)),
    () => '['.repeat(random.int(1_000, 20_000)) + ']'.repeat(random.int(0, 10)),
    () => json({ ...valid, text: 'x'.repeat(70_000) }),
    () => Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22]),
    () => `\uFEFF${json({ ...valid, title: 7 })}`,
    () => json({ title: random.pick(['', 7, 'x'.repeat(5_000)]), status: random.pick(['open', 'LIVE', 1]) }),
    () => json({ status: 'live', [random.pick(protoKeys)]: { polluted: true } }),
  ])();
  const type = random.pick([
    'application/json',
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonx',
    'APPLICATION/JSON',
    undefined,
  ]);
  return { body, type };
}

function generate(random: Random): FuzzRequest {
  const headers: Record<string, string> = {};
  if (random.chance(0.5)) headers.authorization = random.pick([`Bearer ${publisherKey}`, `Bearer ${publisherKey}`, `Bearer ${publisherKey}x`, 'Bearer', `bearer ${publisherKey}`, 'Basic eDp5', `Bearer ${'k'.repeat(5000)}`]);
  if (random.chance(0.2)) headers['idempotency-key'] = random.pick(['', ' ', 'é', 'x'.repeat(201), random.string(10), '\u007f']).replace(/[^\x20-\x7e]/g, '?');
  if (random.chance(0.1)) headers.origin = random.pick(['https://evil.example', 'null', 'http://127.0.0.1']);
  const shape = random.int(0, 9);
  if (shape <= 3) {
    // The publisher routes with bodies that are always invalid.
    const { body, type } = invalidBody(random);
    if (type) headers['content-type'] = type;
    const target = random.chance(0.7) ? `/v1/stories/${storySegment(random)}/updates` : `/v1/stories/${storySegment(random)}`;
    const method = random.chance(0.85) ? (target.endsWith('/updates') ? 'POST' : 'PUT') : random.pick(methods);
    return { method, path: target + query(random), headers, body, read: method !== 'POST' && method !== 'PUT' };
  }
  if (shape <= 7) {
    // The read routes with edge ids, bad encodings, long parameters and strange queries.
    const path = random.pick([
      () => `/v1/stories/${storySegment(random)}/updates${query(random)}`,
      () => `/v1/stories/${storySegment(random)}${query(random)}`,
      () => `/v1/stories${query(random)}`,
      () => `/stories/${storySegment(random)}${query(random)}`,
      () => `/v1/stories/${seeded}/updates?after=${edgeId(random)}`,
    ])();
    const method = random.chance(0.8) ? random.pick(['GET', 'HEAD']) : random.pick(methods);
    if (method === 'OPTIONS' && random.chance(0.5)) {
      headers.origin = random.pick(['https://evil.example', 'http://127.0.0.1']);
      headers['access-control-request-method'] = random.pick(['GET', 'POST', 'DELETE', '']);
    }
    return { method, path, headers, read: method === 'GET' || method === 'HEAD' || method === 'OPTIONS' };
  }
  // Unknown routes, odd paths, wrong methods on known ones.
  const path = random.pick([
    () => `/${random.string(random.int(1, 30), 'abc/%.-_~')}`,
    () => `/v1/${random.pick(protoKeys)}`,
    () => `/v1/stories/${seeded}/updates/${edgeId(random).replace(/ /g, '%20') || 'x'}`,
    () => `/v1/live`,
    () => `/healthz${query(random)}`,
    () => `/readyz`,
    () => `/assets/${random.pick(['..%2f..%2fpackage.json', '%zz', 'x'.repeat(600), 'blog.js'])}`,
    () => `//v1//stories`,
    () => `/v1/stories/${seeded}/../../v1/publisher`,
    () => `/desk`,
    () => `/`,
  ])();
  return { method: random.pick(methods), path, headers, read: true };
}

interface Answer {
  status: number;
  type: string;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

function send(request: FuzzRequest, port: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
    // Node refuses to send a path with spaces or non-ASCII characters: those are percent-encoded, the rest sent as generated.
    const path = request.path.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c));
    const req = httpRequest({ host: '127.0.0.1', port, method: request.method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (request.body !== undefined) req.write(request.body);
    req.end();
  });
}

const pagePath = (path: string): boolean => {
  const bare = path.split('?')[0]!;
  return bare === '/' || bare === '/desk' || /^\/stories\/[^/]+$/.test(bare);
};

/** Why an answer breaks the contract, or undefined when it keeps it. */
function violation(request: FuzzRequest, answer: Answer): string | undefined {
  if (answer.status >= 500) return `answered ${answer.status}: ${answer.body.slice(0, 200)}`;
  if (answer.status < 400) {
    if (!request.read) return `a write answered ${answer.status}`;
    return undefined;
  }
  if (request.method === 'HEAD') return undefined;
  if (pagePath(request.path) && answer.type.startsWith('text/html')) return undefined;
  if (!answer.type.startsWith('application/json')) return `answered ${answer.status} as ${answer.type || 'no type'}: ${answer.body.slice(0, 100)}`;
  let body: any;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return `answered ${answer.status} with a body that is not JSON`;
  }
  const keys = Object.keys(body ?? {});
  if (keys.length !== 1 || keys[0] !== 'error') return `answered ${answer.status} with keys ${keys.join(',')}`;
  const { code, message, issues, ...rest } = body.error ?? {};
  if (typeof code !== 'string' || !(code in errorCatalogue)) return `uncatalogued code ${JSON.stringify(code)}`;
  if (errorCatalogue[code as keyof typeof errorCatalogue].status !== answer.status) return `${code} with status ${answer.status}`;
  if (typeof message !== 'string' || message.length === 0) return `${code} without a message`;
  if (issues !== undefined && !Array.isArray(issues)) return `${code} with issues that are not a list`;
  if (Object.keys(rest).length > 0) return `${code} with extra fields ${Object.keys(rest).join(',')}`;
  return undefined;
}

describe('HTTP fuzz', () => {
  it(`answers ${requestCount} generated invalid requests without a 5xx, inside the error contract, and changes no story`, { timeout: 60_000 }, async () => {
    const random = new Random(fuzzSeed('http fuzz', 20_220_215));
    const before = await snapshotStory(prefix, seeded);
    const requests = Array.from({ length: requestCount }, () => generate(random));
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const request = requests[next++]!;
        let answer: Answer;
        try {
          answer = await send(request, service.port);
        } catch (error) {
          // The service may close a connection it refused at the parser (431, 400): that is an answer too.
          if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') continue;
          throw error;
        }
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const why = violation(request, answer);
        if (why) problems.push(`${request.method} ${request.path.slice(0, 120)} (${request.headers['content-type'] ?? '-'}, ${request.headers.authorization ? 'key' : 'no key'}): ${why}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    agent.destroy();
    process.stdout.write(`http fuzz statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}\n`);

    expect(problems.slice(0, 20)).toEqual([]);
    expect(await snapshotStory(prefix, seeded)).toEqual(before);
    expect(before.length).toBe(seededIds.length);
  });
});
