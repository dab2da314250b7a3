import { fileURLToPath } from 'node:url';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StoppressError } from '../protocol/errors.js';
import { storyIdPattern } from '../protocol/ids.js';
import type { StoryStore } from '../store/story-store.js';
import { blogPage, blogPageLimit, deskPage, errorPage, indexPage } from './render-pages.js';
import { isPagePath } from './page-paths.js';
import { StaticFiles } from './static-files.js';

export interface WebRoutesOptions {
  store: StoryStore;
  /**
   * Directory of the built browser files (scripts/build-browser.mjs writes them).
   * @default "<project>/dist/public" (src/web and dist/web are both two levels below the project)
   */
  publicDir?: string;
}

/**
 * The Content-Security-Policy of every HTML page: scripts and styles only from files of this origin (so no
 * inline script runs, whatever got into the page; the JSON-LD block is data, which CSP does not execute), no
 * style attributes, sockets to this service, no framing, no `<base>`.
 */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
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
  const { store } = options;
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

  app.get('/', async (_request, reply) => sendHtml(reply, indexPage(await store.listStories())));

  app.get<{ Params: { story: string }; Querystring: { all?: string } }>('/stories/:story', async (request, reply) => {
    const { story } = request.params;
    const view = storyIdPattern.test(story) ? await store.readView(story) : null;
    if (!view) throw new StoppressError('not_found', 'There is no live coverage at this address.');
    const limit = request.query.all === '1' ? Number.POSITIVE_INFINITY : blogPageLimit;
    return sendHtml(reply, blogPage(view, `${request.protocol}://${request.host}/stories/${story}`, limit));
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

function sendHtml(reply: FastifyReply, html: string): FastifyReply {
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', contentSecurityPolicy)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'strict-origin-when-cross-origin')
    .header('cache-control', 'no-cache')
    .send(html);
}
