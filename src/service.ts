import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { DemoStory } from './demo/demo-loader.js';
import { buildHttpApp } from './http/http-app.js';
import { Gateway } from './live/gateway.js';
import { Hub } from './live/hub.js';
import { StoryFeed } from './live/story-feed.js';
import { SseStreams } from './live/sse-streams.js';
import { EmbargoScheduler } from './store/embargo-scheduler.js';
import { createTokenVerifier } from './access/subscriber-token.js';
import type { Logger } from './log.js';
import { ServiceMetrics } from './metrics.js';
import { clusterNodeOptions, createClusterConnection } from './store/cluster-connection.js';
import type { RedisClient } from './store/redis-client.js';
import { connectRedis, createCommandConnection, RedisUnreachableError } from './store/redis-connection.js';
import { clusterTopology, singleTopology, type RedisTopology } from './store/redis-topology.js';
import { logConnectionOutages } from './store/connection-log.js';
import { ServiceAudit } from './store/service-audit.js';
import { ShardChannels } from './store/shard-channels.js';
import { StoryCache } from './read/story-cache.js';
import { StoryStore } from './store/story-store.js';
import { renderRevision } from './web/render-revision.js';
import { WebhookStore } from './store/webhook-store.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';

/** A running service: its address and an ordered shutdown. */
export interface RunningService {
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  readonly store: StoryStore;
  readonly readCache: StoryCache;
  readonly hub: Hub;
  readonly feed: StoryFeed;
  readonly channels: ShardChannels;
  readonly gateway: Gateway;
  readonly metrics: ServiceMetrics;
  /** This node's webhook deliveries. */
  readonly webhooks: WebhookDispatcher;
  readonly sseStreams: SseStreams;
  readonly embargoes: EmbargoScheduler;
  /** Ordered shutdown: refuse new work, close sockets with 1001, finish in-flight requests, close Redis. */
  stop(): Promise<void>;
}

/**
 * The composition root: config → redis → store → live hub → http + ws. Used by `main.ts` (the process) and by
 * the integration tests (in-process). Throws RedisUnreachableError when Redis cannot be reached.
 */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  let redis: RedisClient;
  let topology: RedisTopology;
  if (config.redisCluster) {
    const cluster = createClusterConnection(config.redisCluster);
    redis = cluster;
    topology = clusterTopology(cluster, clusterNodeOptions(config.redisCluster));
  } else {
    const single = createCommandConnection(config.redisUrl);
    redis = single;
    topology = singleTopology(single, config.redisUrl);
  }
  const metrics = new ServiceMetrics();
  metrics.timeRedisCommands(redis);
  // A lost and a restored connection are one line each, not a warning per retry.
  logConnectionOutages(redis, logger.child({ component: 'redis' }), 'redis connection');
  await connectRedis(redis).catch((error: unknown) => {
    redis.disconnect();
    metrics.close();
    throw new RedisUnreachableError(config.redisForLogs, error instanceof Error ? error.message : String(error));
  });

  const store = new StoryStore(redis, {
    keyPrefix: config.redisKeyPrefix,
    streamMaxLen: config.streamMaxLen,
    idempotencyTtlSeconds: config.idempotencyTtlSeconds,
    log: logger.child({ component: 'store' }),
  });

  const readCache = new StoryCache(store, { maxBytes: config.readCacheMaxBytes });

  // The fan-in: one shard channel subscription per followed story, gaps filled from the streams.
  const hub = new Hub(config.maxActiveStories, metrics);
  const feedLog = logger.child({ component: 'fan-in' });
  const channels = new ShardChannels(topology, feedLog);
  const feed = new StoryFeed(channels, store, hub.publishAll, feedLog);
  hub.attach(feed);
  channels.start();

  // Webhooks: workers subscribe through the hub like sockets; appends on this node start work at once.
  const webhookStore = new WebhookStore(redis, config.redisKeyPrefix);
  const webhooks = new WebhookDispatcher(webhookStore, hub, logger.child({ component: 'webhooks' }), {
    ...config.webhooks,
    allowPrivate: config.webhooks.allowPrivateNetworks,
  });
  store.onAppend(webhooks.storyAppended);
  const sseStreams = new SseStreams({
    hub,
    store,
    logger,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    drainTimeoutMs: config.wsDrainTimeoutMs,
    heartbeatMs: config.sseHeartbeatMs,
  });
  const embargoes = new EmbargoScheduler(store, { pollMs: config.embargoPollMs, log: logger.child({ component: 'embargo' }) });
  embargoes.start();
  const subscriberTokenCheck = { issuer: config.subscriberTokenIssuer, audience: config.subscriberTokenAudience };

  let shuttingDown = false;
  const app = await buildHttpApp({
    serviceAudit: new ServiceAudit(redis, config.redisKeyPrefix),
    subscriberTokenKeys: config.subscriberTokenKeys,
    subscriberTokenCheck,
    eventStreams: sseStreams,
    store,
    readCache,
    cdnPolicy: {
      maxAgeSeconds: config.cdnMaxAgeSeconds,
      staleSeconds: config.cdnStaleSeconds,
      endedMaxAgeSeconds: config.cdnEndedMaxAgeSeconds,
      revision: renderRevision(config.publicUrl),
    },
    publicUrl: config.publicUrl,
    hotReads: config.readHotPath,
    logger,
    publisherKeys: config.publisherKeys,
    publishers: config.publishers,
    allowedOrigins: config.allowedOrigins,
    deliveryProblem: () => {
      const shard = channels.unhealthiest();
      if (shard && shard.downForMs > config.readyPubsubGraceMs) return `the pub/sub connection to Redis node ${shard.node} has been down for ${shard.downForMs} ms`;
      const failing = feed.failingStory();
      if (failing) return `reading story "${failing.story}" from Redis node ${channels.nodeOf(store.channel(failing.story)) ?? 'unknown'} failed ${failing.failures} times in a row`;
      return undefined;
    },
    pingRedis: async () => {
      await redis.ping();
    },
    isShuttingDown: () => shuttingDown,
    metrics,
    metricsToken: config.metricsToken,
    webhooks: { store: webhookStore, allowPrivateNetworks: config.webhooks.allowPrivateNetworks, registryChanged: () => webhooks.kick() },
  });
  const gateway = new Gateway({
    hub,
    store,
    logger,
    metrics,
    allowedOrigins: config.allowedOrigins,
    ownOrigin: new URL(config.publicUrl).origin,
    maxFrameBytes: config.wsMaxFrameBytes,
    maxSubscriptions: config.wsMaxSubscriptions,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    drainTimeoutMs: config.wsDrainTimeoutMs,
    subscribeRate: config.wsSubscribeRate,
    subscribeBurst: config.wsSubscribeBurst,
    heartbeatMs: config.wsHeartbeatMs,
    verifyToken: config.subscriberTokenKeys ? createTokenVerifier(config.subscriberTokenKeys, subscriberTokenCheck) : undefined,
  });
  gateway.attach(app.server);
  metrics.readLiveState({
    connections: () => gateway.connectionCount,
    subscriptions: () => gateway.subscriptionCount,
    activeStories: () => hub.activeStories,
    gapFills: () => feed.gapFills,
    resubscribes: () => channels.resubscribes,
    pubsubDownMs: () => channels.unhealthiest()?.downForMs ?? 0,
  });

  let demo: DemoStory | undefined;
  if (config.demo) {
    demo = new DemoStory(store, logger);
    if (await demo.loadIfAbsent()) demo.replay(config.demoIntervalMs);
  }

  await app.listen({ port: config.port, host: config.host });
  webhooks.start();
  const { port } = app.server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  logger.info({ port, host: config.host }, 'stoppress listening');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      shuttingDown = true;
      demo?.stop();
      gateway.closeAll();
      sseStreams.closeAll();
      await embargoes.stop();
      // Fastify stops accepting, lets in-flight requests (ingests) finish and closes idle keep-alive sockets.
      await Promise.all([app.close(), gateway.drained(3_000), webhooks.stop()]);
      channels.stop();
      store.close();
      await redis.quit().catch(() => redis.disconnect());
      metrics.close();
    })());

  return { url: `http://${host}:${port}`, port, app, store, readCache, hub, feed, channels, gateway, metrics, webhooks, sseStreams, embargoes, stop };
}
