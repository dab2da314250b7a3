import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as Verifier } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareUpdateIds } from '../../src/protocol/ids.js';
import type { RunningService } from '../../src/service.js';
import { isForbiddenAddress } from '../../src/webhooks/address-guard.js';
import { postWebhook } from '../../src/webhooks/post-webhook.js';
import { deletePrefix, readAnswer, post, publisherKey, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('webhooks');
const strictPrefix = uniquePrefix('webhooks-strict');
const deadPrefix = uniquePrefix('webhooks-dead');
const env = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'on',
  WEBHOOK_RETRY_BASE_MS: '20',
  WEBHOOK_RETRY_MAX_MS: '60000',
  WEBHOOK_SWEEP_MS: '300',
  WEBHOOK_LEASE_MS: '1500',
  WEBHOOK_IDLE_MS: '1000',
  WEBHOOK_TIMEOUT_MS: '2000',
  STREAM_MAXLEN: '10',
};
let nodeA: RunningService;
let nodeB: RunningService;
let strict: RunningService;

interface Received {
  id: string;
  story: string;
  payload: any;
}

/** A partner's endpoint: verifies signatures with the official library, drops repeats by webhook-id, fails on a schedule. */
class Receiver {
  server: Server | undefined;
  port = 0;
  readonly secrets = new Map<string, string>();
  readonly seen = new Map<string, Received[]>();
  readonly ids = new Map<string, Set<string>>();
  readonly inFlight = new Map<string, number>();
  maxInFlightPerStory = 0;
  badSignatures = 0;
  repeats = 0;
  fail: (path: string) => boolean = () => false;
  #waiters: (() => void)[] = [];

  async open(): Promise<void> {
    this.server = createServer((request, response) => void this.#handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async kill(): Promise<void> {
    const server = this.server!;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}/${path}`;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const path = (request.url ?? '/').slice(1);
    let payload: any;
    try {
      payload = new Verifier(this.secrets.get(path)!).verify(body, request.headers as Record<string, string>);
    } catch {
      this.badSignatures += 1;
      response.writeHead(401).end();
      return;
    }
    const flightKey = `${path} ${payload.story}`;
    const flying = (this.inFlight.get(flightKey) ?? 0) + 1;
    this.inFlight.set(flightKey, flying);
    this.maxInFlightPerStory = Math.max(this.maxInFlightPerStory, flying);
    await new Promise((resolve) => setImmediate(resolve));
    this.inFlight.set(flightKey, flying - 1);
    if (this.fail(path)) {
      response.writeHead(503).end();
      return;
    }
    const id = String(request.headers['webhook-id']);
    const ids = this.ids.get(path) ?? new Set();
    this.ids.set(path, ids);
    if (ids.has(id)) this.repeats += 1;
    else {
      ids.add(id);
      const list = this.seen.get(path) ?? [];
      list.push({ id, story: payload.story, payload });
      this.seen.set(path, list);
    }
    response.writeHead(204).end();
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `predicate` holds, checked after each accepted delivery (no sleeps). */
  async until(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for deliveries');
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 500).unref();
      });
    }
  }
}

const receiver = new Receiver();

async function api(node: RunningService, method: string, path: string, body?: unknown, key = publisherKey): Promise<{ status: number; body: any }> {
  const response = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return readAnswer(response);
}

async function register(node: RunningService, path: string, stories: string[]): Promise<any> {
  const answer = await api(node, 'POST', '/v1/webhooks', { url: receiver.url(path), stories });
  expect(answer.status).toBe(201);
  receiver.secrets.set(path, answer.body.secret);
  return answer.body;
}

async function append(node: RunningService, story: string, text: string): Promise<string> {
  const answer = await post(node.url, story, statement(text));
  expect(answer.status).toBe(201);
  return answer.body.id;
}

/** A seeded PRNG (mulberry32): the failure schedule is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

beforeAll(async () => {
  await receiver.open();
  [nodeA, nodeB, strict] = await Promise.all([
    startTestService(prefix, env),
    startTestService(prefix, env),
    startTestService(strictPrefix, { ...env, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'off' }),
  ]);
});

afterAll(async () => {
  await Promise.all([nodeA?.stop(), nodeB?.stop(), strict?.stop()]);
  await receiver.kill().catch(() => {});
  await Promise.all([deletePrefix(prefix), deletePrefix(strictPrefix), deletePrefix(deadPrefix)]);
});

describe('webhook delivery', () => {
  it('delivers every entry in order per story, across two nodes, a failing and a restarted endpoint', async () => {
    const run = Date.now().toString(36);
    const exact = `solo-${run}`;
    const hook = await register(nodeA, 'main', [`feed-${run}-*`, exact]);
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const random = seeded(12);
    receiver.fail = (path) => path === 'main' && random() < 0.25;
    const stories = [`feed-${run}-a`, `feed-${run}-b`, exact];
    const posted = new Map<string, string[]>(stories.map((s) => [s, []]));
    for (let i = 0; i < 12; i++) {
      for (const [n, story] of stories.entries()) posted.get(story)!.push(await append((i + n) % 2 ? nodeA : nodeB, story, `u${i}`));
      if (i === 5) await receiver.kill();
      if (i === 8) await receiver.open();
    }
    // A story created later under the pattern is covered from its first entry.
    const later = `feed-${run}-later`;
    posted.set(later, [await append(nodeB, later, 'first'), await append(nodeA, later, 'second')]);
    // Not covered: another prefix.
    await append(nodeA, `other-${run}`, 'not for this webhook');

    const total = [...posted.values()].reduce((n, ids) => n + ids.length, 0);
    await receiver.until(() => (receiver.seen.get('main')?.length ?? 0) >= total);
    const seen = receiver.seen.get('main')!;
    expect(seen).toHaveLength(total);
    expect(receiver.badSignatures).toBe(0);
    for (const [story, ids] of posted) {
      const delivered = seen.filter((r) => r.story === story);
      expect(delivered.map((r) => r.payload.update.id)).toEqual(ids);
      expect(delivered.map((r) => r.id)).toEqual(ids.map((id) => `${hook.id}_${story}_${id}`));
      expect(delivered[0]!.payload).toMatchObject({ type: 'update', story, update: { story, kind: 'statement' } });
    }
    expect(receiver.maxInFlightPerStory).toBe(1);
    receiver.fail = () => false;
  });

  it('announces trimmed entries as a gap event before going on', async () => {
    const story = `gap-${Date.now().toString(36)}`;
    await register(nodeA, 'gap', [story]);
    let down = false;
    receiver.fail = (path) => path === 'gap' && down;
    const first = await append(nodeA, story, 'first');
    await receiver.until(() => (receiver.seen.get('gap')?.length ?? 0) === 1);
    down = true;
    const ids: string[] = [];
    // STREAM_MAXLEN=10 (approximate: Redis trims whole nodes of 100 entries) while the endpoint is down; sent 20
    // at a time so the worker's backoff stays short.
    for (let i = 0; i < 260; i += 20) {
      ids.push(...(await Promise.all(Array.from({ length: 20 }, (_, j) => append(j % 2 ? nodeA : nodeB, story, `burst ${i + j}`)))));
    }
    ids.sort(compareUpdateIds);
    down = false;
    await receiver.until(() => receiver.seen.get('gap')?.at(-1)?.payload.update?.id === ids.at(-1));
    const seen = receiver.seen.get('gap')!.map((r) => r.payload);
    expect(seen[0].update.id).toBe(first);
    const gapAt = seen.findIndex((p) => p.type === 'gap');
    expect(gapAt).toBeGreaterThan(0);
    const gap = seen[gapAt];
    expect(gap.after).toBe(seen[gapAt - 1].update.id);
    expect(gap.next).toBe(seen[gapAt + 1].update.id);
    const after = seen.slice(gapAt + 1).map((p) => p.update.id);
    expect(after).toEqual(ids.slice(ids.indexOf(gap.next)));
    expect(seen.filter((p) => p.type === 'gap')).toHaveLength(1);
  });

  it('disables a webhook whose deliveries keep failing, shows why, and re-enables it', async () => {
    // Its own prefix: nodes A and B (which retry for a minute) must not pick this webhook up.
    const node = await startTestService(deadPrefix, { ...env, WEBHOOK_RETRY_MAX_MS: '300' });
    try {
      const story = `dead-${Date.now().toString(36)}`;
      const hook = await register(node, 'dead', [story]);
      receiver.fail = (path) => path === 'dead';
      const id = await append(node, story, 'nobody home');
      let shown: any;
      for (;;) {
        shown = (await api(node, 'GET', `/v1/webhooks/${hook.id}`)).body;
        if (!shown.enabled) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(shown.disabledReason).toContain('HTTP 503');
      expect(Date.parse(shown.disabledAt)).toBeGreaterThan(0);
      const listed = (await api(node, 'GET', '/v1/webhooks')).body.webhooks.find((w: any) => w.id === hook.id);
      expect(listed).toMatchObject({ enabled: false, disabledReason: shown.disabledReason });
      expect(listed.secret).toBeUndefined();

      receiver.fail = () => false;
      const enabled = await api(node, 'POST', `/v1/webhooks/${hook.id}/enable`);
      expect(enabled.status).toBe(200);
      expect(enabled.body.enabled).toBe(true);
      expect(enabled.body.disabledReason).toBeUndefined();
      await receiver.until(() => receiver.seen.get('dead')?.some((r) => r.payload.update.id === id) ?? false);
      expect((await api(node, 'DELETE', `/v1/webhooks/${hook.id}`)).status).toBe(204);
      expect((await api(node, 'GET', `/v1/webhooks/${hook.id}`)).status).toBe(404);
    } finally {
      await node.stop();
    }
  });
});

describe('webhook registration', () => {
  it('refuses loopback, private, link-local, multicast and unspecified hosts in any spelling', async () => {
    for (const url of [
      'http://127.0.0.1/', 'http://0x7f.1/', 'http://2130706433/', 'http://0177.0.0.1/', 'http://localhost:8080/', 'http://[::1]/',
      'http://[::ffff:127.0.0.1]/', 'http://[::ffff:7f00:1]/', 'http://169.254.169.254/latest', 'http://10.1.2.3/', 'http://172.16.0.1/',
      'http://192.168.1.1/', 'http://[fe80::1]/', 'http://[fc00::1]/', 'http://[fd12:3456::1]/', 'http://224.0.0.1/', 'http://[ff02::1]/',
      'http://0.0.0.0/', 'http://[::]/', 'http://100.64.0.1/', 'http://[64:ff9b::a00:1]/',
    ]) {
      const answer = await api(strict, 'POST', '/v1/webhooks', { url, stories: ['x'] });
      expect({ url, status: answer.status, code: answer.body.error.code }).toEqual({ url, status: 422, code: 'url_not_allowed' });
    }
    expect((await api(strict, 'GET', '/v1/webhooks')).body.webhooks).toEqual([]);
    const ok = await api(strict, 'POST', '/v1/webhooks', { url: 'https://93.184.216.34/hook', stories: ['x'] });
    expect(ok.status).toBe(201);
    expect((await api(strict, 'DELETE', `/v1/webhooks/${ok.body.id}`)).status).toBe(204);
  });

  it('checks the address again at delivery time', async () => {
    const outcome = await postWebhook(receiver.url('main'), {}, '{}', { timeoutMs: 1000, allowPrivate: false });
    expect(outcome).toEqual({ ok: false, reason: '127.0.0.1 is a non-public address' });
    expect(isForbiddenAddress('8.8.8.8')).toBe(false);
    expect(isForbiddenAddress('2606:4700::1111')).toBe(false);
    expect(isForbiddenAddress('::ffff:10.0.0.1')).toBe(true);
  });

  it('answers validation errors in the error shape and changes nothing', async () => {
    const cases: [unknown, string][] = [
      [{ url: 'ftp://93.184.216.34/', stories: ['x'] }, 'url'],
      [{ url: 'javascript:alert(1)', stories: ['x'] }, 'url'],
      [{ url: `https://93.184.216.34/${'a'.repeat(2000)}`, stories: ['x'] }, 'url'],
      [{ url: 'https://93.184.216.34/', stories: [] }, 'stories'],
      [{ url: 'https://93.184.216.34/', stories: Array.from({ length: 101 }, (_, i) => `s${i}`) }, 'stories'],
      [{ url: 'https://93.184.216.34/', stories: ['a*b'] }, 'stories.0'],
      [{ url: 'https://93.184.216.34/', stories: ['**'] }, 'stories.0'],
      [{ url: 'https://93.184.216.34/', stories: ['../x*'] }, 'stories.0'],
      [{ url: 'https://93.184.216.34/', stories: ['x'], secret: 'whsec_c2hvcnQ=' }, 'secret'],
      [{ url: 'https://93.184.216.34/', stories: ['x'], extra: 1 }, ''],
    ];
    for (const [body, path] of cases) {
      const answer = await api(strict, 'POST', '/v1/webhooks', body);
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('validation_failed');
      expect(answer.body.error.issues[0].path).toBe(path);
    }
    expect((await api(strict, 'POST', '/v1/webhooks', { url: 'https://93.184.216.34/', stories: ['x'] }, 'wrong-key')).status).toBe(401);
    expect((await api(strict, 'GET', '/v1/webhooks/wh_00000000000000000000')).body.error.code).toBe('not_found');
    expect((await api(strict, 'POST', '/v1/webhooks/nope/enable')).status).toBe(404);
    expect((await api(strict, 'GET', '/v1/webhooks')).body.webhooks).toEqual([]);
  });

  it('keeps a secret that is given and never shows it again', async () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const created = await api(strict, 'POST', '/v1/webhooks', { url: 'https://93.184.216.34/', stories: ['x', 'y-*'], secret });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ url: 'https://93.184.216.34/', stories: ['x', 'y-*'], enabled: true, secret });
    expect(created.body.id).toMatch(/^wh_[0-9a-f]{20}$/);
    const shown = await api(strict, 'GET', `/v1/webhooks/${created.body.id}`);
    expect(shown.body.secret).toBeUndefined();
    expect(shown.body.createdAt).toBe(created.body.createdAt);
  });
});
