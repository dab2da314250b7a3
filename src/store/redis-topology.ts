import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisClient } from './redis-client.js';

/** A Redis node, as `host:port` (ioredis's node key). */
export type NodeKey = string;

/**
 * Where each shard channel lives, and how to reach a node: what the channel subscriber needs to know about the
 * deployment. One Redis is a topology with a single node that owns every slot.
 */
export interface RedisTopology {
  /** The master that serves `channel`'s slot now. */
  nodeFor(channel: string): NodeKey;
  /** A new connection to `node` for subscribing (lazy: it connects when first used). */
  subscriberConnection(node: NodeKey, options: RedisOptions): Redis;
  /** The command connection to `node`, for node-local commands (CLIENT LIST); undefined when unknown. */
  commandConnection(node: NodeKey): Redis | undefined;
  /** Re-reads the slot map (after a MOVED reply, a `sunsubscribe` nobody asked for, or a failover). */
  refresh(): Promise<void>;
  /** Calls `listener` whenever the slot map may have changed. */
  onChange(listener: () => void): void;
}

/** The topology of one Redis: every channel is on its one node. */
export function singleTopology(command: Redis, url: string): RedisTopology {
  const { hostname, port } = new URL(url);
  const node = `${hostname || '127.0.0.1'}:${port || 6379}`;
  return {
    nodeFor: () => node,
    subscriberConnection: (_node, options) => new Redis(url, options),
    commandConnection: () => command,
    refresh: async () => undefined,
    onChange: () => undefined,
  };
}

/** The topology of a Redis Cluster, read from the ioredis `Cluster` client's slot map. */
export function clusterTopology(cluster: Cluster, nodeOptions: RedisOptions): RedisTopology {
  return {
    nodeFor(channel) {
      const owner = cluster.slots[calculateSlot(channel)]?.[0];
      if (owner === undefined) throw new Error(`no node serves the slot of ${channel}: the cluster's slot map is not known yet`);
      return owner;
    },
    subscriberConnection(node, options) {
      const separator = node.lastIndexOf(':');
      return new Redis({ ...nodeOptions, ...options, host: node.slice(0, separator), port: Number(node.slice(separator + 1)) });
    },
    commandConnection(node) {
      return cluster.nodes('master').find((redis) => `${redis.options.host}:${redis.options.port}` === node);
    },
    refresh: () =>
      new Promise<void>((resolve, reject) => {
        cluster.refreshSlotsCache((error) => (error ? reject(error) : resolve()));
      }),
    onChange(listener) {
      cluster.on('refresh', listener);
      cluster.on('+node', listener);
      cluster.on('-node', listener);
    },
  };
}

/** Whether a command client is an ioredis Cluster. */
export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}
