import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { startChildService, type ChildService } from '../support/child-service.js';
import { deletePrefix, post, publisherKey, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('live-nodes');
const children: ChildService[] = [];

afterAll(async () => {
  for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  await deletePrefix(prefix);
});

async function node(): Promise<ChildService> {
  const child = await startChildService(prefix);
  children.push(child);
  return child;
}

describe('several service processes on one Redis', () => {
  it('delivers every update on every node, whichever node ingested it, in stream order', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const story = 'cross-node';
    const onA = await LiveTestClient.connect(liveUrl(a.url));
    const onB = await LiveTestClient.connect(liveUrl(b.url));
    await onA.subscribe(story);
    await onB.subscribe(story);

    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const via = i % 2 === 0 ? a : b;
      const response = await post(via.url, story, statement(`via ${i % 2 === 0 ? 'a' : 'b'} ${i}`));
      expect(response.status).toBe(201);
      ids.push(response.body.id);
    }
    for (const client of [onA, onB]) {
      await client.waitFor(() => client.updateIds(story).length >= ids.length);
      expect(client.updateIds(story)).toEqual(ids);
      client.close();
    }
  });

  it('lets a client move to another node and resume with since, after its node stops', async () => {
    const [a, b] = await Promise.all([node(), node()]);
    const story = 'move';
    const first = await LiveTestClient.connect(liveUrl(a.url));
    await first.subscribe(story);
    const before: string[] = [];
    for (let i = 0; i < 3; i++) before.push((await post(b.url, story, statement(`before ${i}`))).body.id);
    await first.waitFor(() => first.updateIds(story).length === 3);

    a.process.kill('SIGTERM');
    expect((await first.closed).code).toBe(1001);
    expect(await a.exited).toBe(0);

    const during: string[] = [];
    for (let i = 0; i < 4; i++) during.push((await post(b.url, story, statement(`during ${i}`))).body.id);
    const second = await LiveTestClient.connect(liveUrl(b.url));
    await second.subscribe(story, first.updateIds(story).at(-1));
    await second.waitFor(() => second.updateIds(story).length === 4);
    expect([...first.updateIds(story), ...second.updateIds(story)]).toEqual([...before, ...during]);
    second.close();
  });
});

describe('graceful shutdown on SIGTERM', () => {
  it('closes sockets with 1001, finishes an in-flight ingest and exits with 0 within 10 s', async () => {
    const service = await node();
    const story = 'drain';
    const client = await LiveTestClient.connect(liveUrl(service.url));
    await client.subscribe(story);

    // An ingest in flight: headers sent and acknowledged (100-continue), body not yet sent.
    const body = JSON.stringify(statement('sent while the node drains'));
    const request = http.request(`${service.url}/v1/stories/${story}/updates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${publisherKey}`, expect: '100-continue' },
    });
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      request.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      request.on('error', reject);
    });
    await new Promise<void>((resolve) => request.once('continue', () => resolve()));

    const started = Date.now();
    service.process.kill('SIGTERM');
    expect((await client.closed).code).toBe(1001);
    request.end(body);

    const answer = await response;
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.text)).toMatchObject({ story, text: 'sent while the node drains' });
    expect(await service.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
