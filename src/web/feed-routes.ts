import type { FastifyInstance } from 'fastify';
import { credentialsOf, type ReaderAccess } from '../access/story-access.js';
import { StoppressError } from '../protocol/errors.js';
import { serveStory, type CdnPolicy } from '../read/cached-reply.js';
import type { StoryCache } from '../read/story-cache.js';
import { storyIdPattern } from '../protocol/ids.js';
import { atomFeed, jsonFeed } from './render-feeds.js';

export interface FeedRoutesOptions {
  /** The read cache the feeds are built in, once per change of the story, like the page and the view. */
  readCache: StoryCache;
  /** Cache-Control and ETag revision: the same as the page's. */
  cdnPolicy: CdnPolicy;
  /** PUBLIC_URL: feed and entry links and ids are built from it, never from the Host header. */
  publicUrl: string;
  /** Private stories: a feed of one needs a subscriber token covering it, as the page and the view do. */
  access: ReaderAccess;
}

const formats = {
  atom: { contentType: 'application/atom+xml; charset=utf-8', render: atomFeed },
  json: { contentType: 'application/feed+json; charset=utf-8', render: jsonFeed },
} as const;

/**
 * `GET /stories/:story/feed.atom` (Atom 1.0) and `/stories/:story/feed.json` (JSON Feed 1.1): the story's newest
 * updates, corrections applied. Served from the read cache as variants of the story, with the page's ETag,
 * Cache-Control and compression; errors answer in the JSON error shape (feed readers are programs).
 */
export async function feedRoutes(app: FastifyInstance, options: FeedRoutesOptions): Promise<void> {
  const { readCache, cdnPolicy, publicUrl, access } = options;
  for (const [extension, format] of Object.entries(formats)) {
    app.get<{ Params: { story: string } }>(`/stories/:story/feed.${extension}`, async (request, reply) => {
      const { story } = request.params;
      if (!storyIdPattern.test(story)) {
        throw new StoppressError('invalid_story_id', `story id ${JSON.stringify(story)} is invalid: use 1-64 of a-z, 0-9 and "-", not starting with "-"`);
      }
      const notFound = (): never => {
        throw new StoppressError('not_found', `story "${story}" has no updates`);
      };
      return serveStory(request, reply, {
        access: (stamp) => access.check(story, stamp, credentialsOf(request), notFound),
        cache: readCache,
        policy: cdnPolicy,
        story,
        variant: `feed.${extension}`,
        evictable: false,
        build: (cached) => ({ contentType: format.contentType, body: format.render(cached.snapshot.view, { publicUrl }) }),
        notFound,
      });
    });
  }
}
