import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ServiceMetrics } from '../metrics.js';
import { storyIdPattern } from '../protocol/ids.js';
import { serveStory, type ServeStoryOptions, type StoryReply } from '../read/cached-reply.js';

/** One route the hot path answers: `GET <prefix><story>`, with no query string and no credentials. */
export interface HotRead {
  /** The route as Fastify names it, for metrics and logs (e.g. "/v1/stories/:story"). */
  route: string;
  /** The path before the story id (e.g. "/v1/stories/"). */
  prefix: string;
  /** How the route serves `story` to a request without credentials (the route's own options, see viewServing). */
  serving(story: string): ServeStoryOptions;
}

export interface HotReadsOptions {
  reads: readonly HotRead[];
  /** What the CORS plugin adds to an answer to a request without `Origin` (see corsHeadersWithoutOrigin). */
  corsHeaders: Readonly<Record<string, string>>;
  metrics: ServiceMetrics;
  /** The HTTP logger: one `request` line per answer, as the router's onResponse hook writes. */
  logger: Logger;
  isShuttingDown: () => boolean;
}

/** One series of a counter (one route, one status). */
type LabelledCounter = { inc(): void };

/** Answers a bare node:http request, or hands it to the router (`fallback`) untouched. */
export type HotReadHandler = (req: IncomingMessage, res: ServerResponse, fallback: (req: IncomingMessage, res: ServerResponse) => void) => boolean;

/** Why the hot path gave up on a request it handed to the router: the router answers that error, not a second try. */
const handedOver = new WeakMap<IncomingMessage, unknown>();

/**
 * The error the hot path met on `req` before handing it to the router, once. The router answers it in the
 * route's error shape (JSON, or the page's HTML) instead of reading again: behind a Redis that does not answer,
 * a second read would double the wait past the 2 s within which a request gets its 503.
 */
export function takeHandedOverFailure(req: IncomingMessage): unknown {
  const failure = handedOver.get(req);
  handedOver.delete(req);
  return failure;
}

/**
 * What serveStory sets, held until it sends, so a request it gives up on reaches the router untouched. Headers
 * are kept as parallel lists and written as one flat list: `writeHead` with an object whose keys were added one
 * by one cost 2 × the whole answer's CPU otherwise (measured: 26 against 15 µs per request).
 */
class HeldReply implements StoryReply {
  status = 200;
  readonly names: string[];
  readonly values: string[];
  body: Buffer | undefined;
  sent = false;

  constructor(names: readonly string[], values: readonly string[]) {
    this.names = names.slice();
    this.values = values.slice();
  }

  header(name: string, value: string): void {
    const at = this.names.indexOf(name);
    if (at === -1) {
      this.names.push(name);
      this.values.push(value);
    } else this.values[at] = value;
  }

  getHeader(name: string): string | undefined {
    const at = this.names.indexOf(name);
    return at === -1 ? undefined : this.values[at];
  }

  code(status: number): void {
    this.status = status;
  }

  send(body?: Buffer): void {
    this.body = body;
    this.sent = true;
  }

  /** The headers as `writeHead` takes them flat: name, value, name, value… */
  flatHeaders(): string[] {
    const flat: string[] = [];
    for (let i = 0; i < this.names.length; i++) flat.push(this.names[i]!, this.values[i]!);
    return flat;
  }
}

/**
 * The hot path of a page-load storm: the story page and the story view, asked for with no query and no
 * credentials, answered on bare node:http before the router. A Fastify request costs more than the read itself
 * at these rates (in `npm run bench:read`, /healthz, which does nothing, reached 0.62-0.83× the floor's rate
 * and 1-2× its p99). The answer is the route's own (serveStory with the route's options, the same CORS, `x-request-id`,
 * metric and log line); anything else (another method or path, a query, `Origin`, `Authorization`, shutdown)
 * and every answer serveStory throws for (not found, private, Redis down) goes to the router, which answers it
 * as always, error shape and all (see takeHandedOverFailure).
 */
export function hotReads(o: HotReadsOptions): HotReadHandler {
  const corsNames = Object.keys(o.corsHeaders);
  const corsValues = Object.values(o.corsHeaders);
  // Per route and status, its series of each counter, looked up once: prom-client hashes the labels on every inc.
  const counted = new Map<string, { requests: LabelledCounter; hot: LabelledCounter }>();
  const countersOf = (route: string, status: number): { requests: LabelledCounter; hot: LabelledCounter } => {
    const key = `${status} ${route}`;
    let series = counted.get(key);
    if (!series) {
      series = { requests: o.metrics.httpRequests.labels({ route, status: String(status) }), hot: o.metrics.httpHotAnswers.labels({ route }) };
      counted.set(key, series);
    }
    return series;
  };
  return (req, res, fallback) => {
    if (req.method !== 'GET' || req.headers.origin !== undefined || req.headers.authorization !== undefined || o.isShuttingDown()) return false;
    const url = req.url ?? '';
    const read = o.reads.find((r) => url.startsWith(r.prefix));
    if (!read) return false;
    const story = url.slice(read.prefix.length);
    // A query, a trailing slash, an escaped character: the router's to parse.
    if (!storyIdPattern.test(story)) return false;
    const startedAt = performance.now();
    const reply = new HeldReply(corsNames, corsValues);
    serveStory(req, reply, read.serving(story)).then(
      () => {
        if (!reply.sent) return fallback(req, res);
        const id = randomUUID();
        reply.header('x-request-id', id);
        // A 304 has no body, and no Content-Length (as the router answers it).
        if (reply.body !== undefined) reply.header('content-length', String(reply.body.length));
        res.writeHead(reply.status, reply.flatHeaders()).end(reply.body);
        const series = countersOf(read.route, reply.status);
        series.requests.inc();
        series.hot.inc();
        if (o.logger.isLevelEnabled('info')) {
          o.logger.info({ reqId: id, method: 'GET', url, status: reply.status, ms: Math.round((performance.now() - startedAt) * 10) / 10 }, 'request');
        }
      },
      (error: unknown) => {
        handedOver.set(req, error);
        fallback(req, res);
      },
    );
    return true;
  };
}

/** The headers @fastify/cors adds to an answer to a request without `Origin`, for `allowedOrigins`. */
export function corsHeadersWithoutOrigin(allowedOrigins: readonly string[]): Record<string, string> {
  // Any origin: the wildcard. A list: nothing to reflect without Origin, but the answer varies by it.
  return allowedOrigins.includes('*') ? { 'access-control-allow-origin': '*' } : { vary: 'Origin' };
}
