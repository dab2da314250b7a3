import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { StoryStore } from '../store/story-store.js';
import { parseOrThrow, parseStoryId, parseUpdateId } from './validate.js';

export interface AuditRoutesOptions {
  store: StoryStore;
}

const AuditQuery = z.object({
  after: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * `GET /v1/stories/:story/audit`: who made each write of a story, oldest first, paged with `after`/`limit`.
 * Registered inside the publisher routes: readers never see it.
 */
export async function auditRoutes(app: FastifyInstance, { store }: AuditRoutesOptions): Promise<void> {
  app.get<{ Params: { story: string } }>('/v1/stories/:story/audit', async (request, reply) => {
    const story = parseStoryId(request.params.story);
    const query = parseOrThrow(AuditQuery, request.query, 'the query');
    const after = query.after === undefined ? undefined : parseUpdateId(query.after, 'after');
    // Private to publishers: never kept by a shared cache.
    void reply.header('cache-control', 'private, no-store');
    return store.readAudit(story, after, query.limit);
  });
}
