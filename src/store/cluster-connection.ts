import { Cluster, type RedisOptions } from 'ioredis';
import { commandTimeoutMs } from './redis-connection.js';

export interface ClusterSeeds {
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean;
}

/** What every connection to a node of the cluster uses: credentials and TLS from the seeds. */
export function clusterNodeOptions(seeds: ClusterSeeds): RedisOptions {
  return {
    ...(seeds.username === undefined ? {} : { username: seeds.username }),
    ...(seeds.password === undefined ? {} : { password: seeds.password }),
    ...(seeds.tls ? { tls: {} } : {}),
    connectTimeout: 2_000,
  };
}

/**
 * Opens the command client on Redis Cluster: it routes every command to the master of its key's slot and
 * follows MOVED/ASK. Like the single-Redis connection, commands fail at once while the cluster cannot be
 * reached (no offline queue) and time out, so an ingest never hangs. The slot map is re-read every 2 s as
 * well as on MOVED, so the fan-in's subscriptions follow a failover promptly.
 */
export function createClusterConnection(seeds: ClusterSeeds): Cluster {
  return new Cluster(
    seeds.nodes.map(({ host, port }) => ({ host, port })),
    {
      lazyConnect: true,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      scaleReads: 'master',
      slotsRefreshInterval: 2_000,
      maxRedirections: 16,
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
      redisOptions: {
        ...clusterNodeOptions(seeds),
        commandTimeout: commandTimeoutMs,
        maxRetriesPerRequest: 1,
      },
    },
  );
}
