import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startChildService, type ChildService } from '../support/child-service.js';
import { liveUrl } from '../support/live-client.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('backlog-bound');
const story = 'big-backlog';
const mib = 1024 * 1024;
let service: ChildService;
let redis: Redis;

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

beforeAll(async () => {
  redis = new Redis(redisUrl);
  // 5,000 updates of ~3 KB: a backlog of ~15 MiB per subscribe, far more than any socket may hold.
  const data = JSON.stringify({ kind: 'statement', occurredAt: '2022-02-15T10:00:00+03:00', text: 'x'.repeat(3_000) });
  const key = `${prefix}story:{${story}}:updates`;
  for (let batch = 0; batch < 10; batch++) {
    const pipeline = redis.pipeline();
    for (let i = 0; i < 500; i++) pipeline.xadd(key, '*', 'k', 'statement', 'd', data);
    await pipeline.exec();
  }
  // A 2 s drain timeout (5 s by default) leaves the 10 s promise room on a busy 2-core machine.
  service = await startChildService(prefix, { WS_DRAIN_TIMEOUT_MS: '2000' });
});
afterAll(async () => {
  service.process.kill('SIGKILL');
  await service.exited;
  await deletePrefix(prefix);
  redis.disconnect();
});

/** Subscribes with since 0-0 as a client that reads, and resolves once all 5,000 updates arrived. */
async function readWholeBacklog(): Promise<void> {
  const reader = new WebSocket(liveUrl(service.url), { perMessageDeflate: false });
  let updates = 0;
  const complete = new Promise<void>((resolve) =>
    reader.on('message', (data) => {
      if ((JSON.parse(data.toString()) as { type: string }).type === 'update' && ++updates === 5_000) resolve();
    }),
  );
  await new Promise((resolve) => reader.once('open', resolve));
  reader.send(JSON.stringify({ type: 'subscribe', story, since: '0-0' }));
  await complete;
  reader.close();
}

describe('the one bound on what a socket has pending', () => {
  it('holds for sockets that ask for huge backlogs and never read: memory stays flat and every one is closed within 10 s', async () => {
    const pid = service.process.pid!;
    // The baseline is a node that has served this backlog once to a reader: its normal working set.
    await readWholeBacklog();
    const baseline = rssBytes(pid);
    let closedSlow = 0;
    const allClosed = new Promise<void>((resolve) => {
      service.process.stdout!.on('data', (chunk: Buffer) => {
        closedSlow += chunk.toString().split('closing slow consumer').length - 1;
        if (closedSlow >= 50) resolve();
      });
    });

    const sockets = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const ws = new WebSocket(liveUrl(service.url), { perMessageDeflate: false });
        ws.on('error', () => undefined);
        await new Promise((resolve) => ws.once('open', resolve));
        // Never read: the kernel buffers fill, then only the server's own bound stands between it and its memory.
        (ws as unknown as { _socket: Socket })._socket.pause();
        return ws;
      }),
    );
    const started = Date.now();
    for (const ws of sockets) for (let i = 0; i < 20; i++) ws.send(JSON.stringify({ type: 'subscribe', story, since: '0-0' }));

    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 50);
    try {
      await Promise.race([allClosed, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${closedSlow} of 50 closed in 10 s`)), 10_000))]);
    } finally {
      clearInterval(sampler);
    }
    const closedAfterMs = Date.now() - started;
    process.stdout.write(`backlog bound: 50 stalled sockets closed in ${closedAfterMs} ms; RSS ${(baseline / mib).toFixed(0)} MiB → peak ${(peak / mib).toFixed(0)} MiB\n`);
    expect(closedAfterMs).toBeLessThan(10_000);
    expect(peak - baseline, `peak RSS ${(peak / mib).toFixed(0)} MiB from a baseline of ${(baseline / mib).toFixed(0)} MiB`).toBeLessThan(100 * mib);
    for (const ws of sockets) ws.terminate();

    // The node is healthy afterwards: a reading client gets the whole backlog.
    await readWholeBacklog();
  }, 45_000);
});
