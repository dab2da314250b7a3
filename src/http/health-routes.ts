import type { FastifyInstance } from 'fastify';
import { StoppressError } from '../protocol/errors.js';
import { guardRedis } from '../store/redis-connection.js';

export interface HealthRoutesOptions {
  /** Resolves when Redis answers; rejects otherwise (quickly). */
  pingRedis: () => Promise<void>;
  isShuttingDown: () => boolean;
  /** Why this node cannot deliver live updates right now (naming the Redis shard), or undefined when it can. */
  deliveryProblem: () => string | undefined;
}

/**
 * `/healthz`: the process is up. `/readyz`: it can serve: not shutting down, Redis answers, and its live
 * delivery works (a PING alone would stay green while a lost pub/sub connection silently delivers nothing).
 */
export async function healthRoutes(app: FastifyInstance, { pingRedis, isShuttingDown, deliveryProblem }: HealthRoutesOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    if (isShuttingDown()) throw new StoppressError('shutting_down', 'this node is shutting down');
    // An unreachable Redis is 503 redis_unavailable, not a 500: load balancers read /readyz.
    await guardRedis(pingRedis);
    const problem = deliveryProblem();
    if (problem !== undefined) throw new StoppressError('not_delivering', problem);
    return { status: 'ready' };
  });
}
