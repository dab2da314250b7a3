import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ServiceAudit } from '../store/service-audit.js';
import { parseOrThrow, parseUpdateId } from './validate.js';

export interface ServiceAuditRoutesOptions {
  audit: ServiceAudit;
  /** Throws `unauthorized` unless the Authorization header carries a publisher key. */
  authorize: (authorization: string | undefined) => unknown;
}

const AuditQuery = z.object({
  after: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** `GET /v1/audit` (publisher key): who minted tokens and managed webhooks, oldest first, paged with `after`/`limit`. */
export async function serviceAuditRoutes(app: FastifyInstance, { audit, authorize }: ServiceAuditRoutesOptions): Promise<void> {
  app.addHook('onRequest', async (request) => {
    authorize(request.headers.authorization);
  });
  app.get('/v1/audit', async (request, reply) => {
    const query = parseOrThrow(AuditQuery, request.query, 'the query');
    const after = query.after === undefined ? undefined : parseUpdateId(query.after, 'after');
    void reply.header('cache-control', 'private, no-store');
    return audit.read(after, query.limit);
  });
}
