import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { StoppressError } from '../protocol/errors.js';
import { serveStory, type CdnPolicy } from '../read/cached-reply.js';
import type { StoryCache } from '../read/story-cache.js';
import type { StoryStore } from '../store/story-store.js';
import { pagedView } from '../web/view-paging.js';
import { parseOrThrow, parseStoryId, parseUpdateId } from './validate.js';

export interface ReadRoutesOptions {
  store: StoryStore;
  /** The read cache the story view is served from. */
  readCache: StoryCache;
  /** Cache-Control of the story view. */
  cdnPolicy: CdnPolicy;
}

/** Top-level updates of a paged view when `before` is given without `limit`. */
export const defaultViewPageLimit = 100;

const ViewQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  before: z.string().optional(),
});

const RangeQuery = z.object({
  after: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Public read routes: the story list, the story view and the raw entries. */
export async function readRoutes(app: FastifyInstance, { store, readCache, cdnPolicy }: ReadRoutesOptions): Promise<void> {
  app.get('/v1/stories', async () => ({ stories: await store.listStories() }));

  // The whole view, or with `limit`/`before` one page of its top-level updates; served from the read cache.
  app.get<{ Params: { story: string } }>('/v1/stories/:story', async (request, reply) => {
    const story = parseStoryId(request.params.story);
    // Most requests carry no query: skip the schema for them.
    const query = hasParameters(request.query) ? parseOrThrow(ViewQuery, request.query, 'the query') : {};
    const before = query.before === undefined ? undefined : parseUpdateId(query.before, 'before');
    const paged = query.limit !== undefined || before !== undefined;
    const limit = query.limit ?? defaultViewPageLimit;
    return serveStory(request, reply, {
      cache: readCache,
      policy: cdnPolicy,
      story,
      variant: paged ? `view:${limit}:${before ?? ''}` : 'view',
      evictable: paged,
      build: (cached) => ({
        contentType: 'application/json; charset=utf-8',
        body: JSON.stringify(paged ? pagedView(cached, limit, before) : cached.snapshot.view),
      }),
      notFound: () => {
        throw new StoppressError('not_found', `story "${story}" has no updates`);
      },
    });
  });

  app.get<{ Params: { story: string } }>('/v1/stories/:story/updates', async (request) => {
    const story = parseStoryId(request.params.story);
    const query = parseOrThrow(RangeQuery, request.query, 'the query');
    const after = query.after === undefined ? undefined : parseUpdateId(query.after, 'after');
    return store.readRange(story, after, query.limit);
  });
}

function hasParameters(query: unknown): boolean {
  if (typeof query !== 'object' || query === null) return false;
  for (const _ in query) return true;
  return false;
}
