import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { credentialsOf, type ReaderAccess } from '../access/story-access.js';
import { StoppressError } from '../protocol/errors.js';
import { addVary, privateCacheControl } from '../read/cached-reply.js';
import type { StoryCache } from '../read/story-cache.js';
import { parseStoryId, parseUpdateId } from './validate.js';

/** What opens an SSE stream once the route has checked it (src/live/sse-streams.ts, wired by service.ts). */
export interface EventStreams {
  open(request: {
    story: string;
    lastEventId: string | undefined;
    response: ServerResponse;
    headers: Record<string, string | string[]>;
    expiresAtMs: number | undefined;
  }): void;
}

export interface EventRoutesOptions {
  readCache: StoryCache;
  access: ReaderAccess;
  streams: EventStreams;
}

/**
 * `GET /v1/stories/:story/events`: the story's updates as Server-Sent Events. Everything that can be refused
 * (story id, resume id, access) is checked before the first byte, so refusals keep the JSON error shape.
 */
export async function eventRoutes(app: FastifyInstance, { readCache, access, streams }: EventRoutesOptions): Promise<void> {
  app.get<{ Params: { story: string }; Querystring: { lastEventId?: unknown } }>('/v1/stories/:story/events', async (request, reply) => {
    const story = parseStoryId(request.params.story);
    const header = request.headers['last-event-id'];
    const given = header ?? request.query.lastEventId;
    const lastEventId = given === undefined ? undefined : parseUpdateId(given, header === undefined ? 'lastEventId' : 'Last-Event-ID');
    const credentials = credentialsOf(request);
    const stamp = await readCache.stamp(story);
    const notFound = (): never => {
      throw new StoppressError('not_found', `story "${story}" has no updates`);
    };
    const isPrivate = await access.check(story, stamp, credentials, notFound);
    let expiresAtMs: number | undefined;
    if (isPrivate) {
      const reader = await access.reader(credentials);
      if (reader.kind === 'subscriber') expiresAtMs = reader.token.expiresAtMs;
    }
    addVary(reply, 'Authorization');
    void reply.header('cache-control', isPrivate ? privateCacheControl : 'no-cache').header('x-request-id', request.id);
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = Array.isArray(value) ? value : String(value);
    reply.hijack();
    streams.open({ story, lastEventId, response: reply.raw, headers, expiresAtMs });
    request.log.info({ method: 'GET', story, status: 200, private: isPrivate }, 'event stream opened');
  });
}
