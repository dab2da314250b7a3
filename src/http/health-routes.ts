import type { FastifyInstance } from 'fastify';
import { StoppressError } from '../protocol/errors.js';

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
    await pingRedis();
    return { status: 'ready' };
  });
}
