import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { credentialsOf, isPrivateAt, readerCovers, type ReaderAccess, type ReaderCredentials } from '../access/story-access.js';
import { StoppressError } from '../protocol/errors.js';
import type { StorySummary } from '../protocol/update.js';
import { addVary, privateCacheControl, serveStory, type CdnPolicy, type ServeStoryOptions } from '../read/cached-reply.js';
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
  /** Who may see private stories (subscriber tokens, publisher keys). */
  access: ReaderAccess;
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
export async function readRoutes(app: FastifyInstance, { store, readCache, cdnPolicy, access }: ReadRoutesOptions): Promise<void> {
  // Private stories are listed only to requests whose token covers them; such a list is nobody else's to store.
  app.get('/v1/stories', async (request, reply) => {
    const { stories, withPrivate } = await visibleStories(store, access, request);
    addVary(reply, 'Authorization');
    if (withPrivate) void reply.header('cache-control', privateCacheControl);
    return { stories };
  });

  // The whole view, or with `limit`/`before` one page of its top-level updates; served from the read cache.
  app.get<{ Params: { story: string } }>('/v1/stories/:story', async (request, reply) => {
    const story = parseStoryId(request.params.story);
    // Most requests carry no query: skip the schema for them.
    const query = hasParameters(request.query) ? parseOrThrow(ViewQuery, request.query, 'the query') : {};
    const before = query.before === undefined ? undefined : parseUpdateId(query.before, 'before');
    const paged = query.limit !== undefined || before !== undefined;
    const page = paged ? { limit: query.limit ?? defaultViewPageLimit, before } : undefined;
    return serveStory(request, reply, viewServing({ readCache, cdnPolicy, access }, story, credentialsOf(request), page));
  });

  app.get<{ Params: { story: string } }>('/v1/stories/:story/updates', async (request, reply) => {
    const story = parseStoryId(request.params.story);
    const query = parseOrThrow(RangeQuery, request.query, 'the query');
    const after = query.after === undefined ? undefined : parseUpdateId(query.after, 'after');
    const stamp = await readCache.stamp(story);
    addVary(reply, 'Authorization');
    if (await access.check(story, stamp, credentialsOf(request), () => notFound(story))) void reply.header('cache-control', privateCacheControl);
    return store.readRange(story, after, query.limit);
  });
}

/**
 * How `GET /v1/stories/:story` is served from the read cache: the whole view, or one `page` of its top-level
 * updates. Shared by the route and the hot path (src/http/hot-reads.ts), so both answer the same bytes.
 */
export function viewServing(
  { readCache, cdnPolicy, access }: Pick<ReadRoutesOptions, 'readCache' | 'cdnPolicy' | 'access'>,
  story: string,
  credentials: ReaderCredentials,
  page?: { limit: number; before: string | undefined },
): ServeStoryOptions {
  return {
    cache: readCache,
    policy: cdnPolicy,
    story,
    variant: page ? `view:${page.limit}:${page.before ?? ''}` : 'view',
    evictable: page !== undefined,
    build: (cached) => ({
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify(page ? pagedView(cached, page.limit, page.before) : cached.snapshot.view),
    }),
    notFound: () => notFound(story),
    access: (stamp) => access.check(story, stamp, credentials, () => notFound(story)),
  };
}

function notFound(story: string): never {
  throw new StoppressError('not_found', `story "${story}" has no updates`);
}

/**
 * The stories a request may see listed: the public ones, and the private ones its token (or publisher key)
 * covers. Rejects with 401 for a bad or expired token. Shared by `GET /v1/stories` and the index page.
 */
export async function visibleStories(
  store: StoryStore,
  access: ReaderAccess,
  request: { headers: { authorization?: string | undefined }; query: unknown },
): Promise<{ stories: StorySummary[]; withPrivate: boolean }> {
  const all = await store.listStories();
  const now = Date.now();
  if (!all.some((s) => isPrivateAt(s, now))) return { stories: all, withPrivate: false };
  const reader = await access.reader(credentialsOf(request));
  const stories = all.filter((s) => !isPrivateAt(s, now) || readerCovers(reader, s.story, now));
  return { stories, withPrivate: stories.some((s) => isPrivateAt(s, now)) };
}

function hasParameters(query: unknown): boolean {
  if (typeof query !== 'object' || query === null) return false;
  for (const _ in query) return true;
  return false;
}
