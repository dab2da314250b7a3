import type { IncomingHttpHeaders } from 'node:http';
import type { StoryStamp } from '../store/story-store.js';
import type { CachedStory, Coding, StoryCache } from './story-cache.js';

/** How long shared caches (CDNs) may keep story pages and views. */
export interface CdnPolicy {
  /** `s-maxage` for a live story. @default 3 (CDN_MAX_AGE_SECONDS) */
  maxAgeSeconds: number;
  /** `stale-while-revalidate`. @default 10 (CDN_STALE_SECONDS) */
  staleSeconds: number;
  /** `s-maxage` for an ended story, at most 300: it may be reopened or corrected. @default 120 (CDN_ENDED_MAX_AGE_SECONDS) */
  endedMaxAgeSeconds: number;
  /** The render revision (PUBLIC_URL and rendering code) in every ETag: a deploy that changes a template changes them. */
  revision: string;
}

/**
 * `Cache-Control` of a story page or view. `max-age=0`: a browser revalidates every time (a 304 costs one O(1)
 * Redis read); `s-maxage`: a CDN may answer for a few seconds, the live socket brings what is newer.
 */
export function cacheControl(policy: CdnPolicy, status: string | null): string {
  const ended = status === 'ended';
  const cached = cacheControlByPolicy.get(policy);
  if (cached) return ended ? cached.ended : cached.live;
  const header = (maxAge: number): string => `public, max-age=0, s-maxage=${maxAge}, stale-while-revalidate=${policy.staleSeconds}`;
  const built = { live: header(policy.maxAgeSeconds), ended: header(policy.endedMaxAgeSeconds) };
  cacheControlByPolicy.set(policy, built);
  return ended ? built.ended : built.live;
}

const cacheControlByPolicy = new WeakMap<CdnPolicy, { live: string; ended: string }>();

/**
 * The strong ETag of a story representation at `stamp` in `coding` (each coding is a different byte sequence),
 * rendered by code and settings of `revision`: `"<lastId>.<version>.<coding>.<revision>"`.
 */
export function etagOf(stamp: StoryStamp, coding: Coding, revision: string): string {
  return `"${stamp.lastId ?? '0-0'}.${stamp.version}.${coding}.${revision}"`;
}

/**
 * The coding to send for an `Accept-Encoding` header: brotli, else gzip, else identity. A coding listed with
 * `q=0` is refused; `*` stands for any coding not listed.
 */
export function negotiateCoding(acceptEncoding: string | undefined): Coding {
  if (!acceptEncoding) return 'identity';
  // Browsers send a handful of distinct values: parse each once.
  const known = codingByHeader.get(acceptEncoding);
  if (known) return known;
  const coding = parseAcceptEncoding(acceptEncoding);
  if (codingByHeader.size >= 256) codingByHeader.clear();
  codingByHeader.set(acceptEncoding, coding);
  return coding;
}

const codingByHeader = new Map<string, Coding>();

function parseAcceptEncoding(acceptEncoding: string): Coding {
  const q = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name = '', ...params] = part.trim().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (name) q.set(name.trim(), Number.isNaN(value) ? 0 : value);
  }
  const accepts = (coding: string): boolean => (q.get(coding) ?? q.get('*') ?? 0) > 0;
  if (accepts('br')) return 'br';
  if (accepts('gzip')) return 'gzip';
  return 'identity';
}

/** True when an `If-None-Match` header lists `etag` (weak comparison, as RFC 9110 asks for If-None-Match) or is `*`. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * What serveStory needs of a reply: a Fastify reply, or the hot path's answer to a bare node:http request
 * (src/http/hot-reads.ts). Headers set here are only written by `send`.
 */
export interface StoryReply {
  header(name: string, value: string): unknown;
  getHeader(name: string): unknown;
  code(status: number): unknown;
  send(body?: Buffer): unknown;
}

/** Adds a token to `Vary` without dropping what others (CORS: `Origin`) put there. */
export function addVary(reply: StoryReply, token: string): void {
  const current = reply.getHeader('vary');
  const list = current === undefined ? [] : String(current).split(',').map((t) => t.trim()).filter(Boolean);
  if (!list.some((t) => t.toLowerCase() === token.toLowerCase())) list.push(token);
  reply.header('vary', list.join(', '));
}

export interface ServeStoryOptions {
  cache: StoryCache;
  policy: CdnPolicy;
  story: string;
  /** The representation's name within the story (one per URL shape: "page", "view", "view:20:"). */
  variant: string;
  /** False for the story's main page and view: a flood of cursors (`before=`) must not push them out. @default true */
  evictable?: boolean;
  build: (story: CachedStory) => { body: string | Buffer; contentType: string };
  /** Extra headers of the full answer and of the 304 (e.g. the page's Content-Security-Policy). */
  headers?: Record<string, string>;
  /** Called when the story does not exist; throws the route's not-found error. */
  notFound: () => never;
  /**
   * The access check of the story at a stamp (see access/story-access.ts): resolves true when the story is
   * private and the request may see it, false when it is public; throws (404/401) when the request may not.
   * Called on the stamp read first and again on the stamp of the content served, so bytes read after a story
   * turned private are never sent on an older check.
   */
  access?: (stamp: StoryStamp) => Promise<boolean>;
}

/** Cache-Control of a private story's answers: nothing may store them, whatever the CDN policy says of public ones. */
export const privateCacheControl = 'private, no-store';

/**
 * Answers a story page or view from the read cache: one O(1) stamp read; 304 when `If-None-Match` names the
 * current representation; otherwise the stored bytes in the negotiated coding, built at most once per change.
 */
export async function serveStory<R extends StoryReply>(request: { headers: IncomingHttpHeaders }, reply: R, o: ServeStoryOptions): Promise<R> {
  const coding = negotiateCoding(request.headers['accept-encoding']);
  const ifNoneMatch = request.headers['if-none-match'];
  addVary(reply, 'Accept-Encoding');
  if (o.headers) for (const name in o.headers) reply.header(name, o.headers[name]!);

  const stamp = await o.cache.stamp(o.story);
  let isPrivate = o.access ? await o.access(stamp) : false;
  const cacheControlAt = (at: StoryStamp): string => (isPrivate ? privateCacheControl : cacheControl(o.policy, at.status));
  const notModified = (at: StoryStamp, etag: string): R => {
    reply.code(304);
    reply.header('etag', etag);
    reply.header('cache-control', cacheControlAt(at));
    reply.send();
    return reply;
  };
  if (o.access) addVary(reply, 'Authorization');
  const early = etagOf(stamp, coding, o.policy.revision);
  if (stamp.lastId !== null || stamp.version > 0) {
    if (ifNoneMatchHits(ifNoneMatch, early)) return notModified(stamp, early);
  }

  const cached = await o.cache.at(o.story, stamp);
  if (!cached) o.notFound();
  if (o.access && (cached.stamp.visibility !== stamp.visibility || cached.stamp.embargoUntil !== stamp.embargoUntil)) isPrivate = (await o.access(cached.stamp)) || isPrivate;
  const etag = etagOf(cached.stamp, coding, o.policy.revision);
  if (ifNoneMatchHits(ifNoneMatch, etag)) return notModified(cached.stamp, etag);
  const representation = cached.representation(o.variant, o.build, o.evictable ?? true);
  const body = await cached.encoded(representation, coding);
  reply.header('content-type', representation.contentType);
  reply.header('etag', etag);
  reply.header('cache-control', cacheControlAt(cached.stamp));
  if (coding !== 'identity') reply.header('content-encoding', coding);
  reply.send(body);
  return reply;
}
