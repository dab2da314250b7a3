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
  /**
   * Subscribes and unsubscribes made so far: the periodic check trusts a count read from Redis only if none was
   * made while it read (channels subscribed meanwhile are in `channels` but not in the count).
   */
  sent: number;
  /**
   * Resolves once the connection is up and its id read; replaced by a pending one when it closes. Nothing is
   * subscribed before: a connection in subscriber mode refuses CLIENT ID (and ioredis's own ready check).
   */
  usable: Promise<void>;
  markUsable: () => void;
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
  /** Channels subscribed again so far (after reconnects, failovers, failed checks): read by the metrics at scrape. */
  resubscribes = 0;

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
      // A connection that is down fails the subscribe now (the caller answers redis_unavailable) rather than
      // queueing it until the node is back; the channel stays placed and is subscribed on reconnect if kept.
      if (shard.downSince !== undefined) throw new Error(`the pub/sub connection to ${shard.node} is down`);
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
    shard.sent += 1;
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
      // ioredis's ready check sends INFO, which a connection in subscriber mode refuses; readiness is ours.
      enableReadyCheck: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      lazyConnect: true,
      connectTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    };
    const redis = this.#topology.subscriberConnection(node, options);
    let markUsable = (): void => undefined;
    const usable = new Promise<void>((resolve) => (markUsable = resolve));
    shard = { node, redis, channels: new Set(), clientId: undefined, downSince: undefined, inFlight: 0, sent: 0, usable, markUsable };
    const owned = shard;
    redis.on('smessage', (channel: string, payload: string) => this.#listener.message(channel, payload));
    redis.on('ready', () => void this.#shardOnReady(owned));
    redis.on('close', () => {
      // Once per outage: the retries that follow close again without a word until the connection is back.
      if (owned.downSince === undefined && !this.#stopped) this.#log.warn({ node: owned.node }, 'pub/sub connection lost; reconnecting');
      owned.downSince ??= Date.now();
      if (owned.clientId !== undefined) owned.usable = new Promise<void>((resolve) => (owned.markUsable = resolve));
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
      // Without ioredis's ready check, 'ready' only means connected: a connection refused right after
      // (maxclients, a restart) fails here, reconnects by itself and comes back. Up only if Redis answers.
      try {
        await shard.redis.ping();
      } catch {
        return;
      }
      // Up, but CLIENT ID refused (an ACL, say): deliver all the same, without the periodic ssub= check.
      this.#log.warn({ node: shard.node, err: String(error) }, 'could not read the subscriber connection id; its subscriptions are not checked');
    }
    if (shard.downSince !== undefined) this.#log.info({ node: shard.node, downForMs: Date.now() - shard.downSince }, 'pub/sub connection back');
    shard.downSince = undefined;
    shard.markUsable();
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
    this.resubscribes += channels.length;
    this.#listener.resubscribed(channels.filter((channel) => this.#placement.get(channel) === shard.node));
  }

  async #ssubscribe(shard: Shard, channels: string[]): Promise<void> {
    shard.inFlight += 1;
    shard.sent += 1;
    try {
      await shard.usable;
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
      const sentBefore = shard.sent;
      const expected = shard.channels.size;
      try {
        const line = String(await command.client('LIST', 'ID', shard.clientId));
        const match = /\bssub=(\d+)/.exec(line);
        if (!match) continue;
        held = Number(match[1]);
      } catch {
        continue;
      }
      // A subscribe made while CLIENT LIST was out is not in its count: nothing to conclude this time.
      if (shard.sent !== sentBefore || shard.inFlight > 0) continue;
      if (held < expected) {
        this.#log.warn({ node: shard.node, held, expected }, 'shard channels lost; subscribing again');
        await this.#resubscribe(shard, [...shard.channels]);
      }
    }
  }
}
