import { once } from 'node:events';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySlot, startRedisCluster, storiesCoveringMasters, type RunningRedisCluster } from './redis-cluster.js';

// One real cluster for the file: 3 masters, each with a replica so that the failover test has one to promote.
let cluster: RunningRedisCluster;
let client: Cluster;
let subscriber: Cluster;

/** Resolves with the next sharded message on `channel` received by `sub`. */
function nextMessage(sub: Cluster, channel: string): Promise<string> {
  return new Promise((resolve) => {
    const subOnSmessage = (from: string, message: string): void => {
      if (from !== channel) return;
      sub.off('smessage', subOnSmessage);
      resolve(message);
    };
    sub.on('smessage', subOnSmessage);
  });
}

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  client = new Cluster(cluster.startupNodes);
  subscriber = new Cluster(cluster.startupNodes, { shardedSubscribers: true });
  // Sharded subscriber connections report node errors here; the failover test reads them.
  subscriber.on('nodeError', () => {});
  await Promise.all([once(client, 'ready'), once(subscriber, 'ready')]);
});

afterAll(async () => {
  client?.disconnect();
  subscriber?.disconnect();
  await cluster?.stop();
});

describe('startRedisCluster', () => {
  it('starts 3 masters with a replica each, and every node agrees on who serves each slot', async () => {
    const masters = cluster.nodes.filter((node) => node.role === 'master');
    expect(masters).toHaveLength(3);
    for (const master of masters) expect(cluster.replicaOf(master.port).masterPort).toBe(master.port);
    expect(cluster.seeds.split(',')).toHaveLength(6);
    for (const key of ['a', '{story-1}:updates', 'stoppress:story:{s}:meta', '{}x']) {
      expect(keySlot(key)).toBe(await cluster.command(masters[0]!.port, 'CLUSTER', 'KEYSLOT', key));
    }
  });

  it('finds stories whose hash-tag slots cover every master', () => {
    const stories = storiesCoveringMasters(cluster, 'cover', 2);
    const ports = stories.map((story) => cluster.masterFor(`{${story}}`).port);
    for (const master of cluster.nodes.filter((node) => node.role === 'master')) {
      expect(ports.filter((port) => port === master.port)).toHaveLength(2);
    }
  });

  it('lets an ioredis Cluster built from the seeds write to every master', async () => {
    const stories = storiesCoveringMasters(cluster, 'write');
    for (const story of stories) await client.set(`smoke:{${story}}:k`, story);
    for (const story of stories) {
      const owner = cluster.masterFor(`smoke:{${story}}:k`);
      expect(await cluster.command(owner.port, 'GET', `smoke:{${story}}:k`)).toBe(story);
    }
  });
});

describe('sharded pub/sub through ioredis Cluster', () => {
  it('delivers an SPUBLISH to a sharded subscriber on each master', async () => {
    const channels = storiesCoveringMasters(cluster, 'pubsub').map((story) => `ch:{${story}}`);
    for (const channel of channels) await subscriber.ssubscribe(channel);
    for (const channel of channels) {
      expect(await cluster.command(cluster.masterFor(channel).port, 'PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 1]);
      const received = nextMessage(subscriber, channel);
      expect(await client.spublish(channel, `hello ${channel}`)).toBe(1);
      expect(await received).toBe(`hello ${channel}`);
    }
  });

  it('runs a script that XADDs and SPUBLISHes a channel of the same hash tag in one step', async () => {
    client.defineCommand('appendAndPublish', {
      numberOfKeys: 2,
      lua: `local id = redis.call('XADD', KEYS[1], '*', 'd', ARGV[1])
            redis.call('SPUBLISH', KEYS[2], id .. ' ' .. ARGV[1])
            return id`,
    });
    const append = (stream: string, channel: string, data: string): Promise<string> =>
      (client as unknown as Record<string, (...args: string[]) => Promise<string>>).appendAndPublish!(stream, channel, data);
    for (const story of storiesCoveringMasters(cluster, 'script')) {
      const channel = `ch:{${story}}`;
      await subscriber.ssubscribe(channel);
      const received = nextMessage(subscriber, channel);
      const id = await append(`stream:{${story}}`, channel, 'update');
      expect(await received).toBe(`${id} update`);
      expect(await client.xlen(`stream:{${story}}`)).toBe(1);
    }
  });

  it('fails a script whose channel is in another slot only after its XADD has happened', async () => {
    // This is why the append script must publish to a channel carrying the story's own hash tag.
    const [story, other] = storiesCoveringMasters(cluster, 'crossslot');
    const stream = `stream:{${story}}`;
    const script = `redis.call('XADD', KEYS[1], '*', 'd', 'x') return redis.call('SPUBLISH', ARGV[1], 'x')`;
    await expect(client.eval(script, 1, stream, `ch:{${other}}`)).rejects.toThrow(/non local key/);
    expect(await client.xlen(stream)).toBe(1);
  });

  it('loses what is published while CLIENT KILL TYPE pubsub has dropped the subscriber, then resubscribes by itself', async () => {
    const [story] = storiesCoveringMasters(cluster, 'kill');
    const channel = `ch:{${story}}`;
    await subscriber.ssubscribe(channel);
    const owner = cluster.masterFor(channel);
    const resubscribed = once(subscriber, 'subscribersReady');
    const seen: string[] = [];
    const subscriberOnSmessage = (from: string, message: string): void => {
      if (from === channel) seen.push(message);
    };
    subscriber.on('smessage', subscriberOnSmessage);
    // One transaction on the owner: the kill and the publish happen before ioredis can react.
    const [[, killed], [, receivers]] = (await multiOn(owner.port, [
      ['client', 'KILL', 'TYPE', 'pubsub'],
      ['spublish', channel, 'lost'],
    ])) as [[null, number], [null, number]];
    expect(killed).toBeGreaterThanOrEqual(1);
    expect(receivers).toBe(0);
    await resubscribed;
    const after = nextMessage(subscriber, channel);
    expect(await client.spublish(channel, 'after')).toBe(1);
    expect(await after).toBe('after');
    subscriber.off('smessage', subscriberOnSmessage);
    expect(seen).toEqual(['after']);
  });

  it('completes a manual failover; ioredis 5.11 then leaves the channel unsubscribed until it is subscribed again', async () => {
    const [story] = storiesCoveringMasters(cluster, 'failover');
    const channel = `ch:{${story}}`;
    await subscriber.ssubscribe(channel);
    const oldMaster = cluster.masterFor(channel);
    const replica = cluster.replicaOf(oldMaster.port);
    // The demoted master pushes an unrequested `sunsubscribe`; ioredis has no event for it and reports it
    // as a "Command queue state error" node error.
    const pushedUnsubscribe = new Promise<void>((resolve) => {
      const subscriberOnNodeError = (error: Error): void => {
        if (!error.message.includes(`sunsubscribe,${channel}`)) return;
        subscriber.off('nodeError', subscriberOnNodeError);
        resolve();
      };
      subscriber.on('nodeError', subscriberOnNodeError);
    });

    const promoted = await cluster.failover(replica.port);
    await pushedUnsubscribe;
    expect(promoted.role).toBe('master');
    expect(cluster.masterFor(channel).port).toBe(replica.port);
    expect(cluster.replicaOf(replica.port).port).toBe(oldMaster.port);
    for (const node of cluster.nodes) {
      expect(await cluster.command(node.port, 'PUBSUB', 'SHARDNUMSUB', channel)).toEqual([channel, 0]);
    }
    expect(await client.spublish(channel, 'nobody')).toBe(0);

    await subscriber.ssubscribe(channel);
    const again = nextMessage(subscriber, channel);
    await client.spublish(channel, 'again');
    expect(await again).toBe('again');
  });
});

/** Runs `commands` (lower-case names, as ioredis wants them) in one MULTI/EXEC on the node on `port` and answers EXEC's `[error, reply]` pairs. */
async function multiOn(port: number, commands: (string | number)[][]): Promise<[Error | null, unknown][]> {
  const redis = new Redis({ host: '127.0.0.1', port });
  try {
    return (await redis.multi(commands).exec())!;
  } finally {
    redis.disconnect();
  }
}
