import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StoppressError } from '../protocol/errors.js';
import { StoryMetaInput, UpdateInput } from '../protocol/update.js';
import type { ServiceMetrics } from '../metrics.js';
import type { StoryStore } from '../store/story-store.js';
import { auditRoutes } from './audit-routes.js';
import type { PublisherIdentity } from './publisher-auth.js';
import { storyEditRoutes } from './story-edit-routes.js';
import { parseOrThrow, parseStoryId } from './validate.js';
import { flagsRoutes } from './flags-routes.js';

export interface IngestRoutesOptions {
  store: StoryStore;
  metrics: ServiceMetrics;
  /** Throws `unauthorized` unless the Authorization header carries a publisher key; answers whose key it is. */
  authorize: (authorization: string | undefined) => PublisherIdentity;
}

const idempotencyKeyPattern = /^[\x21-\x7e]{1,200}$/;

/** Publisher routes: append an update, set story metadata, check a key. Authentication runs before the body is read. */
export async function ingestRoutes(app: FastifyInstance, { store, metrics, authorize }: IngestRoutesOptions): Promise<void> {
  app.decorateRequest('publisher', null);
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      request.publisher = authorize(request.headers.authorization);
    } catch (error) {
      return done(error as Error);
    }
    done();
  });

  app.post<{ Params: { story: string } }>('/v1/stories/:story/updates', async (request, reply) => {
    const story = parseStoryId(request.params.story);
    const input = parseOrThrow(UpdateInput, request.body, 'the update');
    const { created, id, json } = await store.append(story, input, idempotencyKeyOf(request), request.publisher?.name ?? null);
    if (created) metrics.publishes.inc({ kind: input.kind });
    void reply.header('x-update-id', id);
    return reply.code(created ? 201 : 200).type('application/json; charset=utf-8').send(json);
  });

  await app.register(flagsRoutes, { store });

  // Lets a client (the desk) check a publisher key without writing anything.
  app.get('/v1/publisher', async () => ({ publisher: true }));

  app.put<{ Params: { story: string } }>('/v1/stories/:story', async (request, reply) => {
    const story = parseStoryId(request.params.story);
    const meta = parseOrThrow(StoryMetaInput, request.body, 'the story metadata');
    const stored = await store.putMeta(story, meta, request.publisher?.name ?? null);
    // The visibility as stored: a PUT that left it out shows what it kept.
    return reply.code(200).send({ story, ...meta, visibility: stored.visibility, embargoUntil: stored.embargoUntil });
  });

  await app.register(storyEditRoutes, { store });
  await app.register(auditRoutes, { store });
}

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const value = request.headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !idempotencyKeyPattern.test(value)) {
    throw new StoppressError('bad_request', 'Idempotency-Key must be 1-200 visible ASCII characters (a UUID is a good choice)');
  }
  return value;
}
