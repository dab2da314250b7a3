import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { NodeKey, RedisTopology } from './redis-topology.js';

export interface ShardChannelsOptions {
  /** How often each shard's subscriptions are checked against what Redis holds (CLIENT LIST ssub=). @default 1000 */
  checkMs?: number;
}

export interface ShardChannelsListener {
  /** A message published on a channel this node subscribes to. */
  message(channel: string, payload: string): void;
  /**
   * These channels were (re)subscribed after a reconnect, a failover, a topology change or a failed check:
   * messages may have been missed before, so whatever follows them must be checked against the stream.
   */
  resubscribed(channels: readonly string[]): void;
}

/** A node this process subscribes on: one connection in subscriber mode, and the channels it should hold there. */
interface Shard {
  readonly node: NodeKey;
  readonly redis: Redis;
  readonly channels: Set<string>;
  /** CLIENT ID of the connection, read on every connect before it subscribes to anything. */
  clientId: number | undefined;
  /** Since when the connection is down (ms), or undefined while it is up. */
  downSince: number | undefined;
  /** SSUBSCRIBE/SUNSUBSCRIBE commands in flight: the periodic check waits for a quiet moment. */
  inFlight: number;
}

/** What `/readyz` needs to know: the shard that has been unable to deliver the longest, if any. */
export interface ShardHealth {
  readonly node: NodeKey;
  readonly downForMs: number;
}

/**
 * Sharded pub/sub subscriptions (SSUBSCRIBE) for this process, one connection per Redis node that serves a
 * subscribed channel's slot. The process owns its subscriptions rather than trusting the client library to
 * restore them: it subscribes again by itself on every reconnect, on every `sunsubscribe` it did not ask for
 * (a failover moves a slot away from a master, which then drops its shard channels), on topology changes, and
 * when a periodic check (CLIENT LIST `ssub=`) finds a connection holding fewer channels than it should. After
 * each of these it reports the channels as `resubscribed`, so the fan-in can fill what it missed from the
 * streams.
 */
export class ShardChannels {
  readonly #topology: RedisTopology;
  #listener: ShardChannelsListener = { message: () => undefined, resubscribed: () => undefined };
  readonly #log: Logger;
  readonly #checkMs: number;
  readonly #shards = new Map<NodeKey, Shard>();
  /** channel → the node it is subscribed on. */
  readonly #placement = new Map<string, NodeKey>();
  #checkTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(topology: RedisTopology, log: Logger, options: ShardChannelsOptions = {}) {
    this.#topology = topology;
    this.#log = log;
    this.#checkMs = options.checkMs ?? 1_000;
    topology.onChange(() => void this.#replace());
  }

  /** Where messages and resubscriptions go (the fan-in). */
  listen(listener: ShardChannelsListener): void {
    this.#listener = listener;
  }

  start(): void {
    this.#checkTimer = setInterval(() => void this.#check(), this.#checkMs);
    this.#checkTimer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#checkTimer);
    for (const shard of this.#shards.values()) shard.redis.disconnect();
    this.#shards.clear();
    this.#placement.clear();
  }

  /** Subscribes to `channel` on the node that serves its slot; resolves once Redis confirmed it. */
  async subscribe(channel: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const shard = this.#place(channel);
      try {
        await this.#ssubscribe(shard, [channel]);
        return;
      } catch (error) {
        // MOVED: the slot map is out of date (a failover or a resharding); read it again and retry once.
        if (attempt > 0 || !/MOVED|CLUSTERDOWN/.test(String(error))) throw error;
        await this.#topology.refresh();
      }
    }
  }

  /** Stops receiving `channel`. */
  unsubscribe(channel: string): void {
    const node = this.#placement.get(channel);
    if (node === undefined) return;
    this.#placement.delete(channel);
    const shard = this.#shards.get(node);
    if (!shard) return;
    shard.channels.delete(channel);
    if (shard.redis.status !== 'ready') return;
    shard.inFlight += 1;
    shard.redis
      .sunsubscribe(channel)
      .catch(() => undefined)
      .finally(() => (shard.inFlight -= 1));
  }

  /** The subscribed shard that has been down the longest, or undefined when every one is up. */
  unhealthiest(): ShardHealth | undefined {
    const now = Date.now();
    let worst: ShardHealth | undefined;
    for (const shard of this.#shards.values()) {
      if (shard.channels.size === 0 || shard.downSince === undefined) continue;
      const downForMs = now - shard.downSince;
      if (!worst || downForMs > worst.downForMs) worst = { node: shard.node, downForMs };
    }
    return worst;
  }

  /** The node a channel is subscribed on (for tests and readiness messages). */
  nodeOf(channel: string): NodeKey | undefined {
    return this.#placement.get(channel);
  }

  /** Records `channel` on the node that serves it now and returns that node's shard. */
  #place(channel: string): Shard {
    const node = this.#topology.nodeFor(channel);
    const previous = this.#placement.get(channel);
    if (previous !== undefined && previous !== node) this.#shards.get(previous)?.channels.delete(channel);
    this.#placement.set(channel, node);
    const shard = this.#shardFor(node);
    shard.channels.add(channel);
    return shard;
  }

  #shardFor(node: NodeKey): Shard {
    let shard = this.#shards.get(node);
    if (shard) return shard;
    const options: RedisOptions = {
      // This class resubscribes by itself, after reading the connection's id.
      autoResubscribe: false,
      // No INFO ready check: a SSUBSCRIBE that reaches a connection still in its ready check puts it in
      // subscriber mode, INFO is then refused and the subscribe fails. Readiness (loading) does not matter here.
      enableReadyCheck: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      lazyConnect: true,
      connectTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    };
    const redis = this.#topology.subscriberConnection(node, options);
    shard = { node, redis, channels: new Set(), clientId: undefined, downSince: undefined, inFlight: 0 };
    const owned = shard;
    redis.on('smessage', (channel: string, payload: string) => this.#listener.message(channel, payload));
    redis.on('ready', () => void this.#shardOnReady(owned));
    redis.on('close', () => {
      owned.downSince ??= Date.now();
      owned.clientId = undefined;
    });
    redis.on('error', (error: Error) => this.#shardOnError(owned, error));
    this.#shards.set(node, shard);
    redis.connect().catch(() => undefined);
    return shard;
  }

  async #shardOnReady(shard: Shard): Promise<void> {
    try {
      shard.clientId = Number(await shard.redis.client('ID'));
    } catch (error) {
      this.#log.warn({ node: shard.node, err: String(error) }, 'could not read the subscriber connection id');
    }
    if (shard.downSince !== undefined) this.#log.info({ node: shard.node, downForMs: Date.now() - shard.downSince }, 'pub/sub connection back');
    shard.downSince = undefined;
    await this.#resubscribe(shard, [...shard.channels]);
  }

  /**
   * ioredis has no event for a `sunsubscribe` pushed by the server (a master that lost a slot in a failover
   * drops that slot's shard channels): with no command waiting for it, the reply surfaces as a "Command queue
   * state error". Either way, the slot map is read again and the channels placed where they belong now.
   */
  #shardOnError(shard: Shard, error: Error): void {
    if (/sunsubscribe/.test(error.message)) {
      this.#log.warn({ node: shard.node }, 'Redis dropped shard channels (failover?); subscribing again');
      void this.#replace();
      return;
    }
    this.#log.debug({ node: shard.node, err: error.message }, 'pub/sub connection error');
  }

  /** Reads the slot map again and moves every channel whose slot changed master, subscribing it there. */
  async #replace(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#topology.refresh();
    } catch (error) {
      this.#log.warn({ err: String(error) }, 'could not read the cluster slot map');
    }
    const moved = new Map<Shard, string[]>();
    for (const [channel, node] of this.#placement) {
      let target: NodeKey;
      try {
        target = this.#topology.nodeFor(channel);
      } catch {
        continue;
      }
      if (target === node) continue;
      const shard = this.#place(channel);
      moved.set(shard, [...(moved.get(shard) ?? []), channel]);
    }
    for (const [shard, channels] of moved) await this.#resubscribe(shard, channels);
    // Connections that hold nothing any more (a demoted or dead master) are closed.
    for (const [node, shard] of this.#shards) {
      if (shard.channels.size > 0) continue;
      shard.redis.disconnect();
      this.#shards.delete(node);
    }
    // Channels that stayed put may have been dropped too (a sunsubscribe on a node that kept its slots).
    if (moved.size === 0) for (const shard of this.#shards.values()) await this.#check(shard);
  }

  /** Subscribes `channels` on `shard` again and reports them as resubscribed. */
  async #resubscribe(shard: Shard, channels: string[]): Promise<void> {
    if (channels.length === 0 || this.#stopped) return;
    try {
      await this.#ssubscribe(shard, channels);
    } catch (error) {
      this.#log.warn({ node: shard.node, channels: channels.length, err: String(error) }, 'resubscribe failed; the next check retries');
      if (/MOVED/.test(String(error))) void this.#replace();
      return;
    }
    this.#listener.resubscribed(channels.filter((channel) => this.#placement.get(channel) === shard.node));
  }

  async #ssubscribe(shard: Shard, channels: string[]): Promise<void> {
    shard.inFlight += 1;
    try {
      await Promise.all(channels.map((channel) => shard.redis.ssubscribe(channel)));
    } finally {
      shard.inFlight -= 1;
    }
  }

  /**
   * Compares what each connection holds on its node (CLIENT LIST ID … → `ssub=`) with the channels it should
   * hold; a shortfall means subscriptions were lost without a word, and they are made again.
   */
  async #check(only?: Shard): Promise<void> {
    for (const shard of only ? [only] : [...this.#shards.values()]) {
      if (this.#stopped || shard.clientId === undefined || shard.inFlight > 0 || shard.redis.status !== 'ready') continue;
      const command = this.#topology.commandConnection(shard.node);
      if (!command) continue;
      let held: number;
      try {
        const line = String(await command.client('LIST', 'ID', shard.clientId));
        const match = /\bssub=(\d+)/.exec(line);
        if (!match) continue;
        held = Number(match[1]);
      } catch {
        continue;
      }
      if (held < shard.channels.size && shard.inFlight === 0) {
        this.#log.warn({ node: shard.node, held, expected: shard.channels.size }, 'shard channels lost; subscribing again');
        await this.#resubscribe(shard, [...shard.channels]);
      }
    }
  }
}
