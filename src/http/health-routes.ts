import type { FastifyInstance } from 'fastify';
import { StoppressError } from '../protocol/errors.js';
import { guardRedis } from '../store/redis-connection.js';

export interface HealthRoutesOptions {
  /** Resolves when Redis answers; rejects otherwise (quickly). */
  pingRedis: () => Promise<void>;
  isShuttingDown: () => boolean;
}

/** `/healthz`: the process is up. `/readyz`: it can serve (Redis reachable, not shutting down). */
export async function healthRoutes(app: FastifyInstance, { pingRedis, isShuttingDown }: HealthRoutesOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    if (isShuttingDown()) throw new StoppressError('shutting_down', 'this node is shutting down');
    // An unreachable Redis is 503 redis_unavailable, not a 500: load balancers read /readyz.
    await guardRedis(pingRedis);
    return { status: 'ready' };
  });
}
