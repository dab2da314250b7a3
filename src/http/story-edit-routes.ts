import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StoppressError } from '../protocol/errors.js';
import { StoryCreateInput, StoryMetaPatch } from '../protocol/story-meta.js';
import { StoryMetaInput } from '../protocol/update.js';
import type { StoryStore } from '../store/story-store.js';
import { parseOrThrow, parseStoryId } from './validate.js';

export interface StoryEditRoutesOptions {
  store: StoryStore;
}

/**
 * Creating and editing stories without overwriting anyone by accident (registered inside the publisher routes,
 * so their auth hook runs first): `POST /v1/stories` creates, or answers 409 `story_exists` with the existing
 * metadata; `PATCH /v1/stories/:story` changes only the fields named, optionally only while the metadata is
 * still the one an `If-Match` ETag was read at.
 */
export async function storyEditRoutes(app: FastifyInstance, { store }: StoryEditRoutesOptions): Promise<void> {
  app.post('/v1/stories', async (request, reply) => {
    const { story, ...meta } = parseOrThrow(StoryCreateInput, request.body, 'the story');
    const result = await store.createStory(story, meta, request.publisher?.name ?? null);
    if (!result.created) {
      throw new StoppressError('story_exists', `story "${story}" already exists: change it with PATCH /v1/stories/${story}, or choose another id`, undefined, {
        story: { story, ...result.existing },
      });
    }
    return reply.code(201).header('location', `/v1/stories/${story}`).send({ story, ...meta });
  });

  app.patch<{ Params: { story: string } }>('/v1/stories/:story', async (request, reply) => {
    const story = parseStoryId(request.params.story);
    const patch = parseOrThrow(StoryMetaPatch, request.body, 'the change');
    const ifVersion = ifMatchVersion(request);
    const { meta } = await store.patchMeta(story, patch, {
      publisher: request.publisher?.name ?? null,
      ...(ifVersion === undefined ? {} : { ifVersion }),
      // The story as it will be stored must be valid as a whole (e.g. a new start after the existing end).
      check: (merged) => void parseOrThrow(StoryMetaInput, merged, 'the story after this change'),
    });
    return reply.code(200).send({ story, ...meta });
  });
}

/**
 * The metadata version an `If-Match` names, or undefined without one (or with `*`: the story exists, which the
 * patch checks anyway). The ETag of `GET /v1/stories/:story` is `"<lastId>.<version>.<coding>.<revision>"`:
 * only the version is compared, so updates published meanwhile (lastId) and the coding never make it stale.
 */
function ifMatchVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*"(?:0|[1-9]\d*)-(?:0|[1-9]\d*)\.(0|[1-9]\d{0,15})\.[^"]*"\s*$/.exec(header);
  if (!match) {
    throw new StoppressError('bad_request', 'If-Match must be one ETag of GET /v1/stories/:story, quoted as sent (e.g. "1700000000000-0.3.identity.1a2b3c4d"), or *');
  }
  return Number(match[1]);
}
