import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { StoppressError } from '../protocol/errors.js';
import type { ServiceMetrics } from '../metrics.js';

export interface MetricsRouteOptions {
  metrics: ServiceMetrics;
  /** When set, a scrape must send `Authorization: Bearer <token>`; unset, /metrics is open (keep it off the public network). */
  token: string | undefined;
}

/** `GET /metrics`: the Prometheus text exposition of the service's registry. */
export async function metricsRoute(app: FastifyInstance, { metrics, token }: MetricsRouteOptions): Promise<void> {
  const expected = token === undefined ? undefined : sha256(token);
  app.get('/metrics', async (request, reply) => {
    if (expected) {
      const match = /^Bearer ([\x21-\x7e]+)$/.exec(request.headers.authorization ?? '');
      if (!match) throw new StoppressError('unauthorized', 'missing metrics token: send "Authorization: Bearer <METRICS_TOKEN>"');
      // Digests of equal length, compared in constant time: the token's length does not show in the timing.
      if (!timingSafeEqual(sha256(match[1]!), expected)) throw new StoppressError('unauthorized', 'the metrics token is not valid');
    }
    const { contentType, body } = await metrics.exposition();
    return reply.type(contentType).send(body);
  });
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
