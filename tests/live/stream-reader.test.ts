import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamReader, type StoryEntries } from '../../src/live/stream-reader.js';
import { StoryStore } from '../../src/store/story-store.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('stream-reader');
const command = new Redis(redisUrl);
const blocking = new Redis(redisUrl);
const store = new StoryStore(command, { keyPrefix: prefix, streamMaxLen: 1000, idempotencyTtlSeconds: 60 });
const received: { story: string; ids: string[] }[] = [];
const waiters: (() => void)[] = [];
// A block far longer than the test timeout: only CLIENT UNBLOCK can make the reader see a new story in time.
const reader = new StreamReader(blocking, command, store, (batches: readonly StoryEntries[]) => {
  for (const { story, entries } of batches) received.push({ story, ids: entries.map((e) => e.id) });
  for (const wake of waiters.splice(0)) wake();
}, pino({ level: 'silent' }), { blockMs: 120_000 });

const statement = (text: string) => ({ kind: 'statement' as const, occurredAt: '2022-02-15T10:00:00+03:00', text });
const nextDelivery = () => new Promise<void>((resolve) => waiters.push(resolve));

beforeAll(async () => {
  await reader.start();
});
afterAll(async () => {
  await reader.stop();
  await deletePrefix(prefix);
  command.disconnect();
});

describe('the stream reader', () => {
  it('picks up a story added while it blocks, without waiting out the block', async () => {
    await reader.activate('first');
    let delivered = nextDelivery();
    const a = await store.append('first', statement('a'));
    await delivered;

    // The reader is now blocked (for 120 s) on "first" only; "second" must interrupt it.
    await reader.activate('second');
    delivered = nextDelivery();
    const b = await store.append('second', statement('b'));
    await delivered;
    expect(received).toEqual([
      { story: 'first', ids: [a.id] },
      { story: 'second', ids: [b.id] },
    ]);
  });

  it('delivers only entries appended after activation, once, in order, and nothing after deactivation', async () => {
    await store.append('third', statement('before activation'));
    await reader.activate('third');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store.append('third', statement(`after ${i}`))).id);
    while (received.filter((r) => r.story === 'third').flatMap((r) => r.ids).length < 5) await nextDelivery();
    expect(received.filter((r) => r.story === 'third').flatMap((r) => r.ids)).toEqual(ids);

    reader.deactivate('third');
    await store.append('third', statement('after deactivation'));
    await reader.activate('fourth');
    const delivered = nextDelivery();
    const marker = await store.append('fourth', statement('marker'));
    await delivered;
    // The marker was appended after the "third" entry and has arrived; the "third" entry did not.
    expect(received.at(-1)).toEqual({ story: 'fourth', ids: [marker.id] });
    expect(received.filter((r) => r.story === 'third').flatMap((r) => r.ids)).toEqual(ids);
  });
});
