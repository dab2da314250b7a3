import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { StoppressError } from '../protocol/errors.js';
import type { StoryStore } from '../store/story-store.js';
import { parseOrThrow, parseStoryId, parseUpdateId } from './validate.js';

export interface ReadRoutesOptions {
  store: StoryStore;
}

const RangeQuery = z.object({
  after: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Public read routes: the story list, the story view and the raw entries. */
export async function readRoutes(app: FastifyInstance, { store }: ReadRoutesOptions): Promise<void> {
  app.get('/v1/stories', async () => ({ stories: await store.listStories() }));

  app.get<{ Params: { story: string } }>('/v1/stories/:story', async (request) => {
    const story = parseStoryId(request.params.story);
    const view = await store.readView(story);
    if (!view) throw new StoppressError('not_found', `story "${story}" has no updates`);
    return view;
  });

  app.get<{ Params: { story: string } }>('/v1/stories/:story/updates', async (request) => {
    const story = parseStoryId(request.params.story);
    const query = parseOrThrow(RangeQuery, request.query, 'the query');
    const after = query.after === undefined ? undefined : parseUpdateId(query.after, 'after');
    return store.readRange(story, after, query.limit);
  });
}
