import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { StoppressError } from '../protocol/errors.js';
import type { CdnPolicy } from '../read/cached-reply.js';
import type { StoryCache } from '../read/story-cache.js';
import type { StoryStore } from '../store/story-store.js';
import { httpErrorHandler } from './error-handler.js';
import { healthRoutes } from './health-routes.js';
import { ingestRoutes } from './ingest-routes.js';
import { useJsonObjectBodies } from './json-body.js';
import { createPublisherAuth } from './publisher-auth.js';
import { readRoutes } from './read-routes.js';
import { webRoutes } from '../web/web-routes.js';

export interface HttpAppOptions {
  store: StoryStore;
  /** The per-node cache the story page and view are served from. */
  readCache: StoryCache;
  cdnPolicy: CdnPolicy;
  /** PUBLIC_URL: the base of canonical links. */
  publicUrl: string;
  logger: Logger;
  publisherKeys: readonly string[];
  /** Origins allowed to read the API from a browser; `*` for any. */
  allowedOrigins: readonly string[];
  pingRedis: () => Promise<void>;
  isShuttingDown: () => boolean;
}

/** Request bodies over this are refused with 413 before they are parsed. */
export const bodyLimitBytes = 64 * 1024;

/**
 * Builds the HTTP API (not listening). Fastify brings the router, the JSON body parser (which refuses
 * `__proto__`/`constructor.prototype` keys), the body limit and CORS, so none of them is hand-written here.
 */
export async function buildHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    bodyLimit: bodyLimitBytes,
    routerOptions: { maxParamLength: 500 },
    return503OnClosing: true,
  });
  app.setErrorHandler(httpErrorHandler);
  useJsonObjectBodies(app);
  app.setNotFoundHandler((request, reply) => {
    const error = new StoppressError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
    void reply.status(404).send(error.toBody());
  });
  // One log line per request, with its id; headers (and so the publisher key) are never logged.
  app.addHook('onResponse', async (request, reply) => {
    const updateId = reply.getHeader('x-update-id');
    request.log.info(
      { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, ...(updateId ? { updateId } : {}) },
      'request',
    );
  });
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    // A request that was in flight when shutdown began must not leave its keep-alive socket holding the exit.
    if (options.isShuttingDown()) void reply.header('connection', 'close');
  });

  await app.register(cors, {
    origin: options.allowedOrigins.includes('*') ? '*' : [...options.allowedOrigins],
    methods: ['GET', 'HEAD'],
  });
  await app.register(healthRoutes, { pingRedis: options.pingRedis, isShuttingDown: options.isShuttingDown });
  await app.register(readRoutes, { store: options.store, readCache: options.readCache, cdnPolicy: options.cdnPolicy });
  await app.register(ingestRoutes, { store: options.store, authorize: createPublisherAuth(options.publisherKeys) });
  await app.register(webRoutes, { store: options.store, readCache: options.readCache, cdnPolicy: options.cdnPolicy, publicUrl: options.publicUrl });
  return app;
}
