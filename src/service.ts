import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { DemoStory } from './demo/demo-loader.js';
import { buildHttpApp } from './http/http-app.js';
import { Gateway } from './live/gateway.js';
import { Hub } from './live/hub.js';
import { StreamReader } from './live/stream-reader.js';
import type { Logger } from './log.js';
import { connectRedis, createBlockingConnection, createCommandConnection } from './store/redis-connection.js';
import { StoryCache } from './read/story-cache.js';
import { StoryStore } from './store/story-store.js';
import { renderRevision } from './web/render-revision.js';

/** A running service: its address and an ordered shutdown. */
export interface RunningService {
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  readonly store: StoryStore;
  readonly readCache: StoryCache;
  readonly hub: Hub;
  readonly gateway: Gateway;
  /** Ordered shutdown: refuse new work, close sockets with 1001, finish in-flight requests, close Redis. */
  stop(): Promise<void>;
}

/**
 * The composition root: config → redis → store → live hub → http + ws. Used by `main.ts` (the process) and by
 * the integration tests (in-process). Throws when Redis cannot be reached.
 */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const redis: Redis = createCommandConnection(config.redisUrl);
  redis.on('error', (error: Error) => logger.warn({ component: 'redis', err: error.message }, 'redis connection error'));
  await connectRedis(redis);

  const store = new StoryStore(redis, {
    keyPrefix: config.redisKeyPrefix,
    streamMaxLen: config.streamMaxLen,
    idempotencyTtlSeconds: config.idempotencyTtlSeconds,
  });

  const readCache = new StoryCache(store, { maxBytes: config.readCacheMaxBytes });

  const hub = new Hub();
  const blocking = createBlockingConnection(config.redisUrl);
  blocking.on('error', (error: Error) => logger.warn({ component: 'stream-reader', err: error.message }, 'redis connection error'));
  const reader = new StreamReader(blocking, redis, store, hub.publishAll, logger.child({ component: 'stream-reader' }));
  hub.attach(reader);
  await reader.start();

  let shuttingDown = false;
  const app = await buildHttpApp({
    store,
    readCache,
    cdnPolicy: {
      maxAgeSeconds: config.cdnMaxAgeSeconds,
      staleSeconds: config.cdnStaleSeconds,
      endedMaxAgeSeconds: config.cdnEndedMaxAgeSeconds,
      revision: renderRevision(config.publicUrl),
    },
    publicUrl: config.publicUrl,
    logger,
    publisherKeys: config.publisherKeys,
    allowedOrigins: config.allowedOrigins,
    pingRedis: async () => {
      await redis.ping();
    },
    isShuttingDown: () => shuttingDown,
  });
  const gateway = new Gateway({
    hub,
    store,
    logger,
    allowedOrigins: config.allowedOrigins,
    maxFrameBytes: config.wsMaxFrameBytes,
    maxSubscriptions: config.wsMaxSubscriptions,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    heartbeatMs: config.wsHeartbeatMs,
  });
  gateway.attach(app.server);

  let demo: DemoStory | undefined;
  if (config.demo) {
    demo = new DemoStory(store, logger);
    if (await demo.loadIfAbsent()) demo.replay(config.demoIntervalMs);
  }

  await app.listen({ port: config.port, host: config.host });
  const { port } = app.server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  logger.info({ port, host: config.host }, 'stoppress listening');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      shuttingDown = true;
      demo?.stop();
      gateway.closeAll();
      // Fastify stops accepting, lets in-flight requests (ingests) finish and closes idle keep-alive sockets.
      await Promise.all([app.close(), gateway.drained(3_000)]);
      await reader.stop();
      await redis.quit().catch(() => redis.disconnect());
    })());

  return { url: `http://${host}:${port}`, port, app, store, readCache, hub, gateway, stop };
}
