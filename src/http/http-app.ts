import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ReaderAccess, redactTokenInUrl } from '../access/story-access.js';
import { createTokenVerifier, type TokenCheckOptions } from '../access/subscriber-token.js';
import type { VerificationKeys } from '../access/verification-keys.js';
import { StoppressError } from '../protocol/errors.js';
import type { CdnPolicy } from '../read/cached-reply.js';
import type { StoryCache } from '../read/story-cache.js';
import type { ServiceMetrics } from '../metrics.js';
import type { ServiceAudit } from '../store/service-audit.js';
import type { StoryStore } from '../store/story-store.js';
import { clientErrorHandler, errorCodeOf, frameworkErrorHandler, httpErrorHandler, notFoundHandler } from './error-handler.js';
import { healthRoutes } from './health-routes.js';
import { metricsRoute } from './metrics-route.js';
import { ingestRoutes } from './ingest-routes.js';
import { useJsonObjectBodies } from './json-body.js';
import { createPublisherAuth, createPublisherKeyCheck } from './publisher-auth.js';
import { eventRoutes, type EventStreams } from './event-routes.js';
import { tokenRoutes } from './token-routes.js';
import { readRoutes, viewServing } from './read-routes.js';
import { corsHeadersWithoutOrigin, hotReads, takeHandedOverFailure } from './hot-reads.js';
import { RouteMethods } from './route-methods.js';
import { pageServing, webRoutes } from '../web/web-routes.js';
import { feedRoutes } from '../web/feed-routes.js';
import type { WebhookStore } from '../store/webhook-store.js';
import { webhookRoutes } from './webhook-routes.js';
import { serviceAuditRoutes } from './service-audit-routes.js';

export interface HttpAppOptions {
  store: StoryStore;
  /** Who minted tokens and managed webhooks (GET /v1/audit). */
  serviceAudit: ServiceAudit;
  /** The per-node cache the story page and view are served from. */
  readCache: StoryCache;
  cdnPolicy: CdnPolicy;
  /** PUBLIC_URL: the base of canonical links. */
  publicUrl: string;
  logger: Logger;
  publisherKeys: readonly string[];
  /** Named publisher keys (PUBLISHERS): writes made with them are audited with the name. */
  publishers?: readonly { readonly name: string; readonly key: string }[];
  /** Origins allowed to read the API from a browser; `*` for any. */
  allowedOrigins: readonly string[];
  pingRedis: () => Promise<void>;
  /** Why live delivery is broken (for /readyz), or undefined. */
  deliveryProblem: () => string | undefined;
  isShuttingDown: () => boolean;
  metrics: ServiceMetrics;
  /** Bearer token for GET /metrics; undefined leaves it open. */
  metricsToken: string | undefined;
  /** Webhook registration: the registry, WEBHOOK_ALLOW_PRIVATE_NETWORKS, and how to tell this node's dispatcher of a change. */
  webhooks?: { store: WebhookStore; allowPrivateNetworks: boolean; registryChanged: () => void };
  /** Subscriber token keys (SUBSCRIBER_TOKEN_*); undefined when none is configured. */
  subscriberTokenKeys?: VerificationKeys | undefined;
  subscriberTokenCheck?: TokenCheckOptions;
  /** Opens Server-Sent Events streams (the live layer's, through the same hub as sockets). */
  eventStreams?: EventStreams;
  /** Answer plain GETs of the story page and view on the hot path (src/http/hot-reads.ts); false sends them through the router (READ_HOT_PATH). @default true */
  hotReads?: boolean;
}

const noCredentials = { authorization: undefined, token: undefined };

/** Request bodies over this are refused with 413 before they are parsed. */
export const bodyLimitBytes = 64 * 1024;

/**
 * Builds the HTTP API (not listening). Fastify brings the router, the JSON body parser (which refuses
 * `__proto__`/`constructor.prototype` keys), the body limit and CORS, so none of them is hand-written here.
 */
export async function buildHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const tokenCheck = options.subscriberTokenCheck ?? {};
  const publisherKeys = [...options.publisherKeys, ...(options.publishers ?? []).map((p) => p.key)];
  const access = new ReaderAccess(
    options.subscriberTokenKeys ? createTokenVerifier(options.subscriberTokenKeys, tokenCheck) : undefined,
    createPublisherKeyCheck(publisherKeys),
  );
  const httpLogger = options.logger.child({ component: 'http' });
  const reads = { readCache: options.readCache, cdnPolicy: options.cdnPolicy, publicUrl: options.publicUrl, access };
  const hot =
    options.hotReads === false
      ? undefined
      : hotReads({
          reads: [
            { route: '/v1/stories/:story', prefix: '/v1/stories/', serving: (story) => viewServing(reads, story, noCredentials) },
            { route: '/stories/:story', prefix: '/stories/', serving: (story) => pageServing(reads, story, noCredentials) },
          ],
          corsHeaders: corsHeadersWithoutOrigin(options.allowedOrigins),
          metrics: options.metrics,
          logger: httpLogger,
          isShuttingDown: options.isShuttingDown,
        });
  const app = Fastify({
    // The router's own server, with the hot path of the story page and view in front of it.
    serverFactory: (router, settings) => {
      const server = createServer((req, res) => {
        if (!hot?.(req, res, router)) router(req, res);
      });
      // What Fastify sets on a server it creates itself.
      server.keepAliveTimeout = Number(settings.keepAliveTimeout ?? 72_000);
      server.requestTimeout = Number(settings.requestTimeout ?? 0);
      server.setTimeout(Number(settings.connectionTimeout ?? 0));
      return server;
    },
    loggerInstance: httpLogger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    bodyLimit: bodyLimitBytes,
    routerOptions: { maxParamLength: 500 },
    // A request arriving during shutdown gets 503 shutting_down from the hook below, in the error shape
    // (Fastify's own 503 has its own body).
    return503OnClosing: false,
    // Errors raised before any route runs answer in the one error shape too (see error-handler.ts).
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  app.setErrorHandler(httpErrorHandler);
  useJsonObjectBodies(app);
  const routes = new RouteMethods();
  app.addHook('onRoute', (route) => routes.add(route.method, route.url));
  app.setNotFoundHandler(notFoundHandler(routes));
  // @fastify/cors answers a preflight without Origin or Access-Control-Request-Method with plain text; refuse it
  // here first, in the error shape.
  // The hooks every request runs are callback-style: an async hook costs each request a promise and a turn.
  app.addHook('onRequest', (request, _reply, done) => {
    const failure = takeHandedOverFailure(request.raw);
    if (failure !== undefined) return done(failure as Error);
    if (options.isShuttingDown()) return done(new StoppressError('shutting_down', 'this node is shutting down: retry (on another node)'));
    if (request.method === 'OPTIONS' && (!request.headers.origin || !request.headers['access-control-request-method'])) {
      return done(new StoppressError('bad_request', 'a CORS preflight (OPTIONS) needs the Origin and Access-Control-Request-Method headers'));
    }
    done();
  });
  // One log line per request, with its id and, for an error, its code; headers (and so the publisher key) are
  // never logged. Health probes run every few seconds: their lines go to debug.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    // The route pattern, never the raw URL: one series per route and status however many stories there are.
    options.metrics.httpRequests.inc({ route: route ?? 'unmatched', status: String(reply.statusCode) });
    const updateId = reply.getHeader('x-update-id');
    const code = errorCodeOf(reply);
    const line = { method: request.method, url: redactTokenInUrl(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, ...(updateId ? { updateId } : {}), ...(code ? { code } : {}) };
    if (route === '/healthz' || route === '/readyz') request.log.debug(line, 'request');
    else request.log.info(line, 'request');
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-request-id', request.id);
    // A request that was in flight when shutdown began must not leave its keep-alive socket holding the exit.
    if (options.isShuttingDown()) void reply.header('connection', 'close');
    done(null, payload);
  });

  await app.register(cors, {
    origin: options.allowedOrigins.includes('*') ? '*' : [...options.allowedOrigins],
    methods: ['GET', 'HEAD'],
  });
  await app.register(healthRoutes, { pingRedis: options.pingRedis, isShuttingDown: options.isShuttingDown, deliveryProblem: options.deliveryProblem });
  await app.register(metricsRoute, { metrics: options.metrics, token: options.metricsToken });
  const authorize = createPublisherAuth(options.publisherKeys, options.publishers);
  await app.register(readRoutes, { store: options.store, readCache: options.readCache, cdnPolicy: options.cdnPolicy, access });
  if (options.eventStreams) await app.register(eventRoutes, { readCache: options.readCache, access, streams: options.eventStreams });
  await app.register(ingestRoutes, { store: options.store, metrics: options.metrics, authorize });
  await app.register(tokenRoutes, { keys: options.subscriberTokenKeys, check: tokenCheck, authorize, audit: options.serviceAudit });
  await app.register(serviceAuditRoutes, { audit: options.serviceAudit, authorize });
  await app.register(webRoutes, { store: options.store, readCache: options.readCache, cdnPolicy: options.cdnPolicy, publicUrl: options.publicUrl, access });
  if (options.webhooks) {
    await app.register(webhookRoutes, {
      webhooks: options.webhooks.store,
      authorize,
      audit: options.serviceAudit,
      allowPrivateNetworks: options.webhooks.allowPrivateNetworks,
      registryChanged: options.webhooks.registryChanged,
    });
  }
  await app.register(feedRoutes, { readCache: options.readCache, cdnPolicy: options.cdnPolicy, publicUrl: options.publicUrl, access });
  return app;
}
