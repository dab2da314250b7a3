import { fileURLToPath } from 'node:url';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { credentialsOf, isPrivateAt, readerCovers, type ReaderAccess, type ReaderCredentials } from '../access/story-access.js';
import { StoppressError } from '../protocol/errors.js';
import { storyIdPattern, updateIdPattern } from '../protocol/ids.js';
import { addVary, privateCacheControl, serveStory, type CdnPolicy, type ServeStoryOptions } from '../read/cached-reply.js';
import type { StoryCache } from '../read/story-cache.js';
import type { StoryStore } from '../store/story-store.js';
import { blogPage, deskPage, errorPage, indexPage } from './render-pages.js';
import { isPagePath } from './page-paths.js';
import { StaticFiles } from './static-files.js';
import { feedOf } from './view-paging.js';

export interface WebRoutesOptions {
  store: StoryStore;
  /** The read cache the story pages are served from. */
  readCache: StoryCache;
  /** Cache-Control of the story pages. */
  cdnPolicy: CdnPolicy;
  /** PUBLIC_URL: canonical links and JSON-LD are built from it, never from the Host header. */
  publicUrl: string;
  /** Who may see private stories (subscriber tokens, publisher keys). */
  access: ReaderAccess;
  /**
   * Directory of the built browser files (scripts/build-browser.mjs writes them).
   * @default "<project>/dist/public" (src/web and dist/web are both two levels below the project)
   */
  publicDir?: string;
}

/**
 * The Content-Security-Policy of every HTML page: scripts and styles only from files of this origin (so no
 * inline script runs, whatever got into the page; the JSON-LD block is data, which CSP does not execute), images
 * from this origin and https: only (update pictures are https URLs; never http: or other schemes), no
 * style attributes, sockets to this service, no framing, no `<base>`.
 */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: https:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Files partners load from their own pages: served with `Cross-Origin-Resource-Policy: cross-origin` (CORS comes from the app-wide plugin). */
const partnerFiles = new Set(['embed.js', 'embed.js.map', 'client.js', 'client.js.map']);

const favicon =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#b3122e"/><circle cx="16" cy="16" r="6" fill="#fff"/></svg>';

/**
 * The reader and newsroom pages: `/` (live stories), `/stories/:story` (the live blog, server-rendered, made
 * live by /assets/blog.js), `/desk`, and the built browser files (`/assets/*`, `/embed.js`, `/client.js`).
 * Pages read through the StoryStore; errors on these routes answer an HTML page rather than JSON.
 */
export async function webRoutes(app: FastifyInstance, options: WebRoutesOptions): Promise<void> {
  const { store, readCache, cdnPolicy, publicUrl, access } = options;
  const files = new StaticFiles(options.publicDir ?? fileURLToPath(new URL('../../dist/public/', import.meta.url)));

  app.setErrorHandler((error: FastifyError | StoppressError, request, reply) => {
    const known = error instanceof StoppressError ? error : undefined;
    if (!known) request.log.error({ err: error }, 'unhandled error on a page');
    const status = known?.status ?? 500;
    if (status === 503) void reply.header('retry-after', '1');
    // Files (/assets/*, /embed.js…) are fetched by scripts, not read by people: their errors keep the JSON shape.
    if (!isPagePath(request.url.split('?')[0] ?? '/')) return reply.code(status).send((known ?? new StoppressError('internal', 'internal error')).toBody());
    return sendHtml(reply.code(status), errorPage(status, known?.code === 'redis_unavailable' ? 'The live coverage is briefly unavailable. Try again in a moment.' : known?.message ?? 'An unexpected error happened.'));
  });

  // Private stories are listed only for a token (or publisher key) that covers them, and such a page is not stored.
  app.get('/', async (request, reply) => {
    const all = await store.listStories();
    const now = Date.now();
    let stories = all;
    if (all.some((s) => isPrivateAt(s, now))) {
      const reader = await access.reader(credentialsOf(request));
      stories = all.filter((s) => !isPrivateAt(s, now) || readerCovers(reader, s.story, now));
    }
    addVary(reply, 'Authorization');
    const withPrivate = stories.some((s) => isPrivateAt(s, now));
    return reply.headers(pageHeaders).header('content-type', 'text/html; charset=utf-8').header('cache-control', withPrivate ? privateCacheControl : 'no-cache').send(indexPage(stories));
  });

  app.get<{ Params: { story: string }; Querystring: { all?: string; before?: string } }>('/stories/:story', async (request, reply) => {
    const { story } = request.params;
    if (!storyIdPattern.test(story)) throw new StoppressError('not_found', 'There is no live coverage at this address.');
    // `?all=1` rendered the whole retained story on demand; it now pages like every page, from the first one.
    if (request.query.all !== undefined) return reply.code(301).header('location', story).header('cache-control', 'public, max-age=86400').send();
    const { before } = request.query;
    if (before !== undefined && (typeof before !== 'string' || !updateIdPattern.test(before))) {
      throw new StoppressError('invalid_update_id', 'before: not an update id like "1644914400000-0"');
    }
    return serveStory(request, reply, pageServing({ readCache, cdnPolicy, publicUrl, access }, story, credentialsOf(request), before));
  });

  app.get('/desk', async (_request, reply) => sendHtml(reply, deskPage()));

  app.get('/favicon.svg', async (_request, reply) =>
    reply.header('content-type', 'image/svg+xml').header('cache-control', 'public, max-age=86400').send(favicon),
  );

  const sendFile = async (request: FastifyRequest, reply: FastifyReply, name: string): Promise<FastifyReply> => {
    const file = await files.get(name);
    if (!file) throw new StoppressError('not_found', `no file ${name}`);
    void reply
      .header('content-type', file.contentType)
      .header('etag', file.etag)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('cross-origin-resource-policy', partnerFiles.has(name) ? 'cross-origin' : 'same-origin');
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.send(file.body);
  };
  app.get<{ Params: { '*': string } }>('/assets/*', (request, reply) => sendFile(request, reply, `assets/${request.params['*']}`));
  for (const name of partnerFiles) app.get(`/${name}`, (request, reply) => sendFile(request, reply, name));
}

function pageNotFound(): never {
  throw new StoppressError('not_found', 'There is no live coverage at this address.');
}

/**
 * How the live blog page `/stories/:story` (or its older page `before`) is served from the read cache. Shared by
 * the route and the hot path (src/http/hot-reads.ts), so both answer the same bytes.
 */
export function pageServing(
  { readCache, cdnPolicy, publicUrl, access }: Pick<WebRoutesOptions, 'readCache' | 'cdnPolicy' | 'publicUrl' | 'access'>,
  story: string,
  credentials: ReaderCredentials,
  before?: string,
): ServeStoryOptions {
  const pageUrl = `${publicUrl}/stories/${story}`;
  return {
    cache: readCache,
    policy: cdnPolicy,
    story,
    variant: before === undefined ? 'page' : `page:${before}`,
    evictable: before !== undefined,
    headers: pageHeaders,
    build: (cached) => ({
      contentType: 'text/html; charset=utf-8',
      body: blogPage(cached.snapshot.view, { publicUrl, pageUrl, feed: feedOf(cached), ...(before === undefined ? {} : { before }) }),
    }),
    notFound: pageNotFound,
    access: (stamp) => access.check(story, stamp, credentials, pageNotFound),
  };
}

/** Headers of every HTML page besides its type and caching. */
const pageHeaders: Readonly<Record<string, string>> = {
  'content-security-policy': contentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

function sendHtml(reply: FastifyReply, html: string): FastifyReply {
  return reply.headers(pageHeaders).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(html);
}
