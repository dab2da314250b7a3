import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StoppressError } from '../protocol/errors.js';
import { StoryMetaInput, UpdateInput } from '../protocol/update.js';
import type { StoryStore } from '../store/story-store.js';
import { parseOrThrow, parseStoryId } from './validate.js';

export interface IngestRoutesOptions {
  store: StoryStore;
  /** Throws `unauthorized` unless the Authorization header carries a publisher key. */
  authorize: (authorization: string | undefined) => void;
}

const idempotencyKeyPattern = /^[\x21-\x7e]{1,200}$/;

/** Publisher routes: append an update, set story metadata, check a key. Authentication runs before the body is read. */
export async function ingestRoutes(app: FastifyInstance, { store, authorize }: IngestRoutesOptions): Promise<void> {
  app.addHook('onRequest', async (request) => authorize(request.headers.authorization));

  app.post<{ Params: { story: string } }>('/v1/stories/:story/updates', async (request, reply) => {
    const story = parseStoryId(request.params.story);
    const input = parseOrThrow(UpdateInput, request.body, 'the update');
    const { created, id, json } = await store.append(story, input, idempotencyKeyOf(request));
    void reply.header('x-update-id', id);
    return reply.code(created ? 201 : 200).type('application/json; charset=utf-8').send(json);
  });

  // Lets a client (the desk) check a publisher key without writing anything.
  app.get('/v1/publisher', async () => ({ publisher: true }));

  app.put<{ Params: { story: string } }>('/v1/stories/:story', async (request, reply) => {
    const story = parseStoryId(request.params.story);
    const meta = parseOrThrow(StoryMetaInput, request.body, 'the story metadata');
    const stored = await store.putMeta(story, meta);
    // The visibility as stored: a PUT that left it out shows what it kept.
    return reply.code(200).send({ story, ...meta, visibility: stored.visibility, embargoUntil: stored.embargoUntil });
  });
}

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const value = request.headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !idempotencyKeyPattern.test(value)) {
    throw new StoppressError('bad_request', 'Idempotency-Key must be 1-200 visible ASCII characters (a UUID is a good choice)');
  }
  return value;
}
