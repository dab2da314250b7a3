import type { FastifyInstance } from 'fastify';
import { UpdateFlagsInput } from '../protocol/update.js';
import type { StoryStore } from '../store/story-store.js';
import { parseOrThrow, parseStoryId, parseUpdateId } from './validate.js';

export interface FlagsRoutesOptions {
  store: StoryStore;
}

/**
 * `POST /v1/stories/:story/updates/:id/flags` with `{ key?, pinned? }`: sets or clears an update's key-event and
 * pinned flags after publishing. The change is a story-change entry in the stream (delivered live as a `story`
 * frame); the answer is that entry. Registered inside the ingest routes, so their publisher check runs first.
 */
export async function flagsRoutes(app: FastifyInstance, { store }: FlagsRoutesOptions): Promise<void> {
  app.post<{ Params: { story: string; id: string } }>('/v1/stories/:story/updates/:id/flags', async (request, reply) => {
    const story = parseStoryId(request.params.story);
    const id = parseUpdateId(request.params.id, 'the update id');
    const flags = parseOrThrow(UpdateFlagsInput, request.body, 'the flags');
    const { change } = await store.setFlags(story, id, flags, request.publisher?.name ?? null);
    return reply.code(200).send(change);
  });
}
