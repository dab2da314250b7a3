import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/log.js';
import { ShardChannels } from '../../src/store/shard-channels.js';
import { singleTopology } from '../../src/store/redis-topology.js';
import { LogSink } from '../support/log-sink.js';
import { redisUrl, uniquePrefix } from '../support/test-service.js';
import { waitUntil } from '../support/wait-until.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The command connection's CLIENT LIST replies are held until the test lets each one through (and may be
 * replaced): the periodic check's read of what Redis holds, made to land at a chosen moment.
 */
function heldClientList(command: Redis): { asked: Promise<void>; release: (replace?: (line: string) => string) => void } {
  const real = command.client.bind(command) as (...args: unknown[]) => Promise<unknown>;
  let markAsked!: () => void;
  const asked = new Promise<void>((resolve) => (markAsked = resolve));
  let release!: (replace?: (line: string) => string) => void;
  const released = new Promise<((line: string) => string) | undefined>((resolve) => (release = resolve));
  let first = true;
  (command as unknown as { client: (...args: unknown[]) => Promise<unknown> }).client = async (...args: unknown[]) => {
    const reply = await real(...args);
    if (args[0] !== 'LIST' || !first) return reply;
    first = false;
    markAsked();
    const replace = await released;
    return replace ? replace(String(reply)) : reply;
  };
  return { asked, release };
}

describe('ShardChannels periodic check (CLIENT LIST ssub=)', () => {
  const opened: { stop(): void }[] = [];
  afterEach(() => opened.splice(0).forEach((o) => o.stop()));

  async function setUp(): Promise<{ channels: ShardChannels; command: Redis; sink: LogSink; resubscribed: string[][]; prefix: string }> {
    const command = new Redis(redisUrl);
    opened.push({ stop: () => command.disconnect() });
    const sink = new LogSink();
    const channels = new ShardChannels(singleTopology(command, redisUrl), createLogger('warn', sink), { checkMs: 10 });
    opened.push(channels);
    const resubscribed: string[][] = [];
    channels.listen({ message: () => undefined, resubscribed: (list) => resubscribed.push([...list]) });
    return { channels, command, sink, resubscribed, prefix: uniquePrefix('shard-channels') };
  }

  it('does not take channels subscribed while CLIENT LIST was out for lost ones', async () => {
    const { channels, command, sink, resubscribed, prefix } = await setUp();
    await channels.subscribe(`${prefix}{a}:live`);
    const list = heldClientList(command);
    channels.start();
    await list.asked;
    // Redis answered "ssub=1"; two more channels are subscribed (and confirmed) before the check reads that.
    await channels.subscribe(`${prefix}{b}:live`);
    await channels.subscribe(`${prefix}{c}:live`);
    const before = { reports: resubscribed.length, channels: channels.resubscribes };
    list.release();
    await turn();
    expect(sink.find('shard channels lost; subscribing again')).toEqual([]);
    expect(resubscribed.length).toBe(before.reports);
    expect(channels.resubscribes).toBe(before.channels);
  });

  it('still subscribes again when Redis holds fewer channels than it should and nothing changed meanwhile', async () => {
    const { channels, command, sink, resubscribed, prefix } = await setUp();
    const names = [`${prefix}{a}:live`, `${prefix}{b}:live`];
    for (const name of names) await channels.subscribe(name);
    const list = heldClientList(command);
    channels.start();
    await list.asked;
    const before = { reports: resubscribed.length, channels: channels.resubscribes };
    // As if Redis had dropped one of the two without a word.
    list.release((line) => line.replace(/\bssub=\d+/, 'ssub=1'));
    await sink.waitFor(() => sink.find('shard channels lost; subscribing again', { held: 1, expected: 2 }).length === 1);
    await waitUntil(() => resubscribed.slice(before.reports).some((list) => names.every((name) => list.includes(name))));
    expect(channels.resubscribes).toBe(before.channels + 2);
  });
});
