import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { deletePrefix, startTestService, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('live-coalescing');
let service: RunningService;

beforeAll(async () => {
  service = await startTestService(prefix);
});
afterAll(async () => {
  vi.restoreAllMocks();
  await service.stop();
  await deletePrefix(prefix);
});

describe('a socket following several stories', () => {
  it('takes updates of several stories read together in one write', async () => {
    const stories = ['desk-a', 'desk-b', 'desk-c'];
    const dashboard = await LiveTestClient.connect(liveUrl(service.url));
    for (const story of stories) await dashboard.subscribe(story);

    // Every socket write of this process that carries update frames, as the list of frames it carried.
    const writes: string[][] = [];
    const record = (chunks: unknown[]): void => {
      const frames = chunks.map((c) => Buffer.from(c as Buffer).toString('latin1')).filter((c) => c.includes('"type":"update"'));
      if (frames.length > 0) writes.push(frames);
    };
    const writev = Socket.prototype._writev!;
    const write = Socket.prototype._write;
    vi.spyOn(Socket.prototype, '_writev').mockImplementation(function (this: Socket, chunks, callback) {
      record(chunks.map((c) => c.chunk));
      return writev.call(this, chunks, callback);
    });
    vi.spyOn(Socket.prototype, '_write').mockImplementation(function (this: Socket, chunk, encoding, callback) {
      record([chunk]);
      return write.call(this, chunk, encoding, callback);
    });

    // Three appends sent in one pipeline: Redis runs them in one turn and writes their three announcements to
    // this node's subscriber connection together, so the fan-in hands them over in one round.
    const statement = (text: string) => ({ kind: 'statement' as const, occurredAt: '2022-02-15T10:00:00+03:00', text });
    const ids = (await Promise.all(stories.map((story) => service.store.append(story, statement(`news for ${story}`))))).map((r) => r.id);

    await dashboard.waitFor(() => stories.every((story) => dashboard.updateIds(story).length === 1));
    vi.restoreAllMocks();
    expect(stories.map((story) => dashboard.updateIds(story)[0])).toEqual(ids);
    // Fewer writes than updates: at least two of them travelled in one write.
    expect(writes.length).toBeLessThan(stories.length);
    expect(Math.max(...writes.map((frames) => frames.length))).toBeGreaterThanOrEqual(2);
    dashboard.close();
  });
});
