import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { rawGet } from '../support/raw-get.js';
import { deletePrefix, post, publisherKey, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('read-cache');
const publicUrl = 'https://live.example.com';
/** Two nodes on one Redis and one prefix, as behind a load balancer. */
let nodeA: RunningService;
let nodeB: RunningService;
let story = 0;
const newStory = (name: string): string => `${name}-${++story}-${Date.now().toString(36)}`;

beforeAll(async () => {
  const env = { PUBLIC_URL: publicUrl, CDN_MAX_AGE_SECONDS: '4', CDN_STALE_SECONDS: '20', CDN_ENDED_MAX_AGE_SECONDS: '200' };
  [nodeA, nodeB] = await Promise.all([startTestService(prefix, env), startTestService(prefix, env)]);
});

afterAll(async () => {
  await Promise.all([nodeA?.stop(), nodeB?.stop()]);
  await deletePrefix(prefix);
});

async function append(node: RunningService, name: string, body: Record<string, unknown>): Promise<string> {
  const answer = await post(node.url, name, body);
  if (answer.status !== 201) throw new Error(`POST answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body.id as string;
}

async function putMeta(node: RunningService, name: string, meta: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${node.url}/v1/stories/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
    body: JSON.stringify(meta),
  });
  if (response.status !== 200) throw new Error(`PUT answered ${response.status}`);
}

const viewOf = async (node: RunningService, name: string, query = ''): Promise<any> => {
  const response = await fetch(`${node.url}/v1/stories/${name}${query}`);
  expect(response.status).toBe(200);
  return response.json();
};
const pageOf = async (node: RunningService, name: string): Promise<string> => {
  const response = await fetch(`${node.url}/stories/${name}`);
  expect(response.status).toBe(200);
  return response.text();
};

describe('validators and CDN headers', () => {
  it('answers a strong ETag per stamp and coding, and 304 for If-None-Match, on the page and the view', async () => {
    const name = newStory('etag');
    const id = await append(nodeA, name, statement('First.'));
    for (const path of [`/v1/stories/${name}`, `/stories/${name}`]) {
      const first = await rawGet(`${nodeA.url}${path}`, {});
      expect(first.status).toBe(200);
      expect(first.headers.etag).toMatch(new RegExp(`^"${id}\\.0\\.identity\\.[0-9a-f]{8}"$`));
      expect(first.headers.vary).toMatch(/Accept-Encoding/);
      const again = await rawGet(`${nodeA.url}${path}`, { 'if-none-match': first.headers.etag as string });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
      expect(again.headers.etag).toBe(first.headers.etag);
      expect(again.headers['cache-control']).toBe('public, max-age=0, s-maxage=4, stale-while-revalidate=20');
      // Another coding is another representation: no 304 across codings.
      const gzip = await rawGet(`${nodeA.url}${path}`, { 'accept-encoding': 'gzip', 'if-none-match': first.headers.etag as string });
      expect(gzip.status).toBe(200);
      expect(gzip.headers.etag).toBe((first.headers.etag as string).replace('.identity.', '.gzip.'));
    }
    // HEAD answers the same headers without a body.
    const head = await fetch(`${nodeA.url}/stories/${name}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toMatch(/^"[^"]+\.(br|gzip|identity)\.[0-9a-f]{8}"$/);
    expect(await head.text()).toBe('');
    // Any later change, on any node, changes the ETag.
    const next = await append(nodeB, name, statement('Second.'));
    const etag = (await rawGet(`${nodeA.url}/v1/stories/${name}`, {})).headers.etag as string;
    expect(etag.startsWith(`"${next}.0.identity.`)).toBe(true);
    const stale = etag.replace(next, id);
    const after = await rawGet(`${nodeA.url}/v1/stories/${name}`, { 'if-none-match': stale });
    expect(after.status).toBe(200);
    // Every node of one build and PUBLIC_URL gives the same ETag, so a CDN revalidating on any node gets a 304.
    expect((await rawGet(`${nodeB.url}/v1/stories/${name}`, { 'if-none-match': etag })).status).toBe(304);
  });

  it('lets shared caches keep an ended story longer, and a reopened one shorter again', async () => {
    const name = newStory('ended');
    await append(nodeA, name, statement('Over.'));
    const live = await fetch(`${nodeB.url}/v1/stories/${name}`);
    expect(live.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=4, stale-while-revalidate=20');
    await putMeta(nodeA, name, { title: 'Done', status: 'ended' });
    for (const path of [`/v1/stories/${name}`, `/stories/${name}`]) {
      const ended = await fetch(`${nodeB.url}${path}`);
      expect(ended.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=200, stale-while-revalidate=20');
      const notModified = await fetch(`${nodeB.url}${path}`, { headers: { 'if-none-match': ended.headers.get('etag')! } });
      expect(notModified.status).toBe(304);
      expect(notModified.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=200, stale-while-revalidate=20');
    }
    await putMeta(nodeA, name, { title: 'Done', status: 'live' });
    expect((await fetch(`${nodeB.url}/stories/${name}`)).headers.get('cache-control')).toBe('public, max-age=0, s-maxage=4, stale-while-revalidate=20');
  });
});

describe('compression', () => {
  it('sends brotli, gzip or identity by Accept-Encoding: the same bytes once decompressed', async () => {
    const name = newStory('coding');
    for (let i = 0; i < 30; i++) await append(nodeA, name, statement(`Update ${i}: ${'words that compress well '.repeat(10)}`));
    for (const path of [`/v1/stories/${name}`, `/stories/${name}`]) {
      const identity = await rawGet(`${nodeB.url}${path}`, {});
      expect(identity.headers['content-encoding']).toBeUndefined();
      const gzip = await rawGet(`${nodeB.url}${path}`, { 'accept-encoding': 'gzip' });
      expect(gzip.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(gzip.body).equals(identity.body)).toBe(true);
      const br = await rawGet(`${nodeB.url}${path}`, { 'accept-encoding': 'gzip, deflate, br' });
      expect(br.headers['content-encoding']).toBe('br');
      expect(brotliDecompressSync(br.body).equals(identity.body)).toBe(true);
      expect(br.body.length).toBeLessThan(identity.body.length / 3);
      const refused = await rawGet(`${nodeB.url}${path}`, { 'accept-encoding': 'br;q=0, gzip' });
      expect(refused.headers['content-encoding']).toBe('gzip');
      for (const answer of [identity, gzip, br]) expect(answer.headers.vary).toMatch(/Accept-Encoding/);
    }
  });
});

describe('freshness across nodes', () => {
  it('shows an update published on node A in the very next page and view of node B', async () => {
    const name = newStory('fresh');
    await append(nodeA, name, statement('Before.'));
    // Warm node B's cache, then publish on A and read B at once: B has not heard of it in any other way.
    expect((await viewOf(nodeB, name)).updates).toHaveLength(1);
    await pageOf(nodeB, name);
    for (let i = 0; i < 5; i++) {
      const id = await append(nodeA, name, statement(`Breaking ${i}.`));
      const view = await viewOf(nodeB, name);
      expect(view.lastId).toBe(id);
      expect(view.updates.at(-1).id).toBe(id);
      expect((await viewOf(nodeB, name, '?limit=1')).updates.map((u: any) => u.id)).toEqual([id]);
      expect(await pageOf(nodeB, name)).toContain(`id="u-${id}"`);
    }
  });

  it('invalidates on a correction, a withdrawal and a metadata change', async () => {
    const name = newStory('invalidate');
    await putMeta(nodeA, name, { title: 'Original title', status: 'live' });
    const target = await append(nodeA, name, statement('Units return.'));
    const other = await append(nodeA, name, statement('A wrong report.'));
    expect((await viewOf(nodeB, name)).title).toBe('Original title');
    expect(await pageOf(nodeB, name)).toContain('Units return.');

    await append(nodeA, name, { kind: 'correction', corrects: target, text: 'Units return by train.', note: 'Adds the train.' });
    expect((await viewOf(nodeB, name)).updates[0].text).toBe('Units return by train.');
    expect(await pageOf(nodeB, name)).toContain('Units return by train.');

    await append(nodeA, name, { kind: 'correction', corrects: other, retract: true, note: 'Not confirmed.' });
    expect((await viewOf(nodeB, name)).updates[1].withdrawn).toBe(true);
    const page = await pageOf(nodeB, name);
    expect(page).not.toContain('A wrong report.');
    expect(page).toContain('This update has been withdrawn.');

    await putMeta(nodeA, name, { title: 'A new title', status: 'live' });
    expect((await viewOf(nodeB, name)).title).toBe('A new title');
    expect(await pageOf(nodeB, name)).toContain('<h1 class="headline">A new title</h1>');
  });
});

describe('one rebuild per change', () => {
  it('reads the story once for many concurrent first requests, and not at all for later ones', async () => {
    const name = newStory('herd');
    for (let i = 0; i < 50; i++) await append(nodeA, name, statement(`Item ${i}.`));
    const reads = vi.spyOn(nodeB.store, 'readSnapshot');
    const readsAfter = vi.spyOn(nodeB.store, 'readSnapshotAfter');
    const stamps = vi.spyOn(nodeB.store, 'readStamp');
    try {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => fetch(`${nodeB.url}${i % 2 === 0 ? '/stories/' : '/v1/stories/'}${name}`, { headers: { 'accept-encoding': i % 4 < 2 ? 'br' : 'identity' } })),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      expect(reads.mock.calls.filter(([s]) => s === name)).toHaveLength(1);
      await Promise.all(Array.from({ length: 10 }, () => fetch(`${nodeB.url}/v1/stories/${name}`)));
      expect(reads.mock.calls.filter(([s]) => s === name)).toHaveLength(1);
      // Every request revalidated: concurrent ones share a stamp read sent after they arrived, never more than one each.
      const stampReads = stamps.mock.calls.filter(([s]) => s === name).length;
      expect(stampReads).toBeGreaterThanOrEqual(2);
      expect(stampReads).toBeLessThanOrEqual(30);
      await append(nodeA, name, statement('One more.'));
      await Promise.all(Array.from({ length: 10 }, () => fetch(`${nodeB.url}/v1/stories/${name}`)));
      // One more read for the change: of the entries after the cached snapshot only.
      expect(reads.mock.calls.filter(([s]) => s === name)).toHaveLength(1);
      expect(readsAfter.mock.calls.filter(([s]) => s === name)).toHaveLength(1);
    } finally {
      reads.mockRestore();
      readsAfter.mockRestore();
      stamps.mockRestore();
    }
  });
});

describe('reading only what changed', () => {
  it('gives a warm node the same view and page as a node that reads the whole stream, across corrections and trimming', async () => {
    const env = { PUBLIC_URL: publicUrl, STREAM_MAXLEN: '40' };
    const warm = await startTestService(prefix, env);
    try {
      const name = newStory('incremental');
      await putMeta(warm, name, { title: 'Incremental', status: 'live' });
      const ids: string[] = [];
      for (let i = 0; i < 150; i++) {
        const roll = i % 7;
        const target = ids[Math.max(0, ids.length - 1 - (i % 5))];
        const body =
          target && roll === 3
            ? { kind: 'correction', corrects: target, text: `Corrected ${i}`, note: `n${i}` }
            : target && roll === 5
              ? { kind: 'correction', corrects: target, retract: true, note: `w${i}` }
              : target && roll === 6
                ? { kind: 'reaction', occurredAt: '2022-02-15T12:00:00Z', text: `Reply ${i}`, inReplyTo: target }
                : statement(`Statement ${i}`);
        const answer = await post(warm.url, name, body);
        if (answer.status === 201 && body.kind !== 'correction') ids.push(answer.body.id);
        // Read now and then, so the warm node folds each change onto what it held.
        if (i % 3 === 0) await viewOf(warm, name);
        if (i % 10 === 0) await pageOf(warm, name);
      }
      await putMeta(warm, name, { title: 'Incremental, retitled', status: 'ended' });
      const cold = await startTestService(prefix, env);
      try {
        const [warmView, coldView] = await Promise.all([viewOf(warm, name), viewOf(cold, name)]);
        expect(warmView.updates.length).toBeLessThan(150);
        expect(warmView).toEqual(coldView);
        expect(await pageOf(warm, name)).toBe(await pageOf(cold, name));
        expect(await viewOf(warm, name, '?limit=5')).toEqual(await viewOf(cold, name, '?limit=5'));
      } finally {
        await cold.stop();
      }
    } finally {
      await warm.stop();
    }
  });
});

describe('the cache budget', () => {
  it('holds the byte budget over many stories, evicting the least recently used', async () => {
    const small = await startTestService(prefix, { PUBLIC_URL: publicUrl, READ_CACHE_MAX_BYTES: '300000' });
    try {
      const names = Array.from({ length: 8 }, (_, i) => newStory(`budget-${i}`));
      for (const name of names) for (let i = 0; i < 20; i++) await append(small, name, statement(`${name} ${i}: ${'x'.repeat(300)}`));
      for (const name of names) {
        await fetch(`${small.url}/v1/stories/${name}`, { headers: { 'accept-encoding': 'gzip' } });
        await pageOf(small, name);
        expect(small.readCache.bytes).toBeLessThanOrEqual(300_000);
      }
      expect(small.readCache.stories).toBeGreaterThan(0);
      expect(small.readCache.stories).toBeLessThan(names.length);
      // An evicted story is read again, whole and current.
      const view = await viewOf(small, names[0]!);
      expect(view.updates).toHaveLength(20);
      expect(small.readCache.bytes).toBeLessThanOrEqual(300_000);
    } finally {
      await small.stop();
    }
  });
});

describe('the canonical URL', () => {
  it('comes from PUBLIC_URL: a forged Host header changes nothing in the page', async () => {
    const name = newStory('host');
    await append(nodeA, name, statement('Hello.'));
    const port = new URL(nodeA.url).port;
    const honest = await rawGet(`${nodeA.url}/stories/${name}`, { host: `localhost:${port}` });
    const forged = await rawGet(`${nodeA.url}/stories/${name}`, { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' });
    expect(forged.status).toBe(200);
    expect(forged.body.equals(honest.body)).toBe(true);
    const html = forged.body.toString();
    expect(html).not.toContain('evil.example');
    expect(html).toContain(`<link rel="canonical" href="${publicUrl}/stories/${name}">`);
    expect(html).toContain(`"url":"${publicUrl}/stories/${name}"`);
    expect(html).toContain(`&lt;script src=&quot;${publicUrl}/embed.js&quot; data-story=&quot;${name}&quot;`);
  });
});

describe('the paged view', () => {
  it('answers the newest top-level updates with their reactions and corrections, and a cursor for older ones', async () => {
    const name = newStory('paged');
    const s: string[] = [];
    for (let i = 0; i < 6; i++) s.push(await append(nodeA, name, statement(`Statement ${i}.`)));
    const r1 = await append(nodeA, name, { kind: 'reaction', occurredAt: '2022-02-15T12:00:00Z', text: 'Reply to 4.', inReplyTo: s[4] });
    const free = await append(nodeA, name, { kind: 'reaction', occurredAt: '2022-02-15T12:00:00Z', text: 'A reaction on its own.' });
    const r2 = await append(nodeA, name, { kind: 'reaction', occurredAt: '2022-02-15T12:00:00Z', text: 'Late reply to 1.', inReplyTo: s[1] });
    const fix = await append(nodeA, name, { kind: 'correction', corrects: s[4], text: 'Statement 4, corrected.', note: 'Fixed.' });
    await append(nodeA, name, { kind: 'correction', corrects: r2, retract: true, note: 'Withdrawn.' });
    const lastId = (await viewOf(nodeA, name)).lastId;

    const first = await viewOf(nodeB, name, '?limit=3');
    // Newest three top-level: the free reaction, s5, s4 (with its reply), oldest first; lastId the stream's newest.
    expect(first.updates.map((u: any) => u.id)).toEqual([s[4], s[5], r1, free]);
    expect(first.updates[0]).toMatchObject({ text: 'Statement 4, corrected.', corrections: [{ id: fix, note: 'Fixed.' }] });
    expect(first.lastId).toBe(lastId);
    expect(first.nextBefore).toBe(s[4]);

    const second = await viewOf(nodeB, name, `?limit=3&before=${first.nextBefore}`);
    expect(second.updates.map((u: any) => u.id)).toEqual([s[1], s[2], s[3], r2]);
    expect(second.updates[3]).toMatchObject({ withdrawn: true });
    expect(second.nextBefore).toBe(s[1]);
    expect(second.lastId).toBe(lastId);

    const last = await viewOf(nodeB, name, `?limit=3&before=${second.nextBefore}`);
    expect(last.updates.map((u: any) => u.id)).toEqual([s[0]]);
    expect(last.nextBefore).toBeNull();

    // `before` alone pages by 100; without either, the whole view keeps its shape.
    expect((await viewOf(nodeB, name, `?before=${s[2]}`)).updates.map((u: any) => u.id)).toEqual([s[0], s[1], r2]);
    const whole = await viewOf(nodeB, name);
    expect(whole.updates).toHaveLength(9);
    expect(whole.nextBefore).toBeUndefined();
  });

  it('refuses a bad limit or before', async () => {
    const name = newStory('paged-bad');
    await append(nodeA, name, statement('x'));
    for (const [query, code] of [['?limit=0', 'validation_failed'], ['?limit=1001', 'validation_failed'], ['?limit=abc', 'validation_failed'], ['?before=yesterday', 'invalid_update_id']]) {
      const response = await fetch(`${nodeA.url}/v1/stories/${name}${query}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as any).error.code).toBe(code);
    }
  });
});
