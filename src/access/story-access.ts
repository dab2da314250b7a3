import { StoppressError } from '../protocol/errors.js';
import { patternsCover } from './story-patterns.js';
import type { SubscriberToken, TokenVerifier } from './subscriber-token.js';

/** A story's stored visibility fields (absent on stories that never set them: they are public). */
export interface VisibilityFields {
  readonly visibility?: string | null | undefined;
  readonly embargoUntil?: string | null | undefined;
}

/**
 * True when the story is private at `nowMs`: `visibility: "private"` and no `embargoUntil` that has passed. An
 * embargoed story opens up at its `embargoUntil` on every node by this rule alone, whether or not the scheduler
 * has written the switch yet (the switch then only records it and tells live subscribers).
 */
export function isPrivateAt(fields: VisibilityFields, nowMs: number): boolean {
  if (fields.visibility !== 'private') return false;
  if (fields.embargoUntil) {
    const until = Date.parse(fields.embargoUntil);
    if (!Number.isNaN(until) && nowMs >= until) return false;
  }
  return true;
}

/** Who is reading: nobody in particular, a publisher (sees every story), or a subscriber with a verified token. */
export type Reader = { readonly kind: 'anonymous' } | { readonly kind: 'publisher' } | { readonly kind: 'subscriber'; readonly token: SubscriberToken };

/** Credentials as a request carries them: the Authorization header, or a `token` query parameter. */
export interface ReaderCredentials {
  readonly authorization?: string | undefined;
  readonly token?: string | undefined;
}

const anonymous: Reader = Object.freeze({ kind: 'anonymous' });
const publisher: Reader = Object.freeze({ kind: 'publisher' });

/** True when `reader` may see private `story` at `nowMs` (a token past its `exp` covers nothing). */
export function readerCovers(reader: Reader, story: string, nowMs: number): boolean {
  if (reader.kind === 'publisher') return true;
  if (reader.kind === 'anonymous') return false;
  return reader.token.expiresAtMs > nowMs && patternsCover(reader.token.stories, story);
}

/**
 * The access check every route that shows a story calls (pages, views, ranges, feeds, SSE; `/v1/live` uses the
 * same verifier and `readerCovers`). A token is verified only when a private story needs it, so public reads
 * cost nothing extra. Reader routes take subscriber tokens as `Authorization: Bearer`; a publisher key there
 * is accepted too (the desk reads private stories with it).
 */
export class ReaderAccess {
  readonly #verify: TokenVerifier | undefined;
  readonly #isPublisherKey: (key: string) => boolean;

  /**
   * @param verify the subscriber token verifier; undefined when no key is configured (then only publishers see private stories)
   * @param isPublisherKey constant-time check of a publisher key
   */
  constructor(verify: TokenVerifier | undefined, isPublisherKey: (key: string) => boolean) {
    this.#verify = verify;
    this.#isPublisherKey = isPublisherKey;
  }

  /** Verifies one raw token; rejects with `token_invalid` / `token_expired`. */
  async verifyToken(token: string): Promise<SubscriberToken> {
    if (!this.#verify) throw new StoppressError('token_invalid', 'the subscriber token is invalid: this service is configured to accept no subscriber tokens');
    return this.#verify(token);
  }

  /** The reader behind `credentials`. Rejects with `token_invalid` / `token_expired` when a token is given and bad. */
  async reader(credentials: ReaderCredentials): Promise<Reader> {
    const raw = rawToken(credentials);
    if (raw === undefined) return anonymous;
    if (this.#isPublisherKey(raw)) return publisher;
    return { kind: 'subscriber', token: await this.verifyToken(raw) };
  }

  /**
   * Checks that the request may see `story` with visibility `fields`. Resolves `true` for a story private at
   * `nowMs` that the credentials cover (answer it `Cache-Control: private, no-store`), `false` for a public one.
   * A private story without credentials, or with a token that does not cover it, calls `notFound` (so an
   * answer never tells a private story from a missing one); a bad or expired token rejects with 401.
   */
  async check(story: string, fields: VisibilityFields, credentials: ReaderCredentials, notFound: () => never, nowMs = Date.now()): Promise<boolean> {
    if (!isPrivateAt(fields, nowMs)) return false;
    if (rawToken(credentials) === undefined) notFound();
    const reader = await this.reader(credentials);
    if (!readerCovers(reader, story, nowMs)) notFound();
    return true;
  }
}

/** The credentials of an HTTP request: its Authorization header and its `token` query parameter (only a single string counts). */
export function credentialsOf(request: { headers: { authorization?: string | undefined }; query: unknown }): ReaderCredentials {
  const token = typeof request.query === 'object' && request.query !== null ? (request.query as { token?: unknown }).token : undefined;
  return { authorization: request.headers.authorization, token: typeof token === 'string' ? token : undefined };
}

/**
 * `url` with the value of every `token` query parameter replaced by `[redacted]`: subscriber tokens travel in
 * URLs where browsers cannot send headers (EventSource, the embed), and they must never reach a log line.
 */
export function redactTokenInUrl(url: string): string {
  const query = url.indexOf('?');
  if (query === -1 || !/token=/i.test(url)) return url;
  return url.slice(0, query) + url.slice(query).replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

/** The token of `credentials`: the Bearer value, else the `token` query parameter; undefined when neither is there. */
function rawToken(credentials: ReaderCredentials): string | undefined {
  const { authorization, token } = credentials;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw new StoppressError('token_invalid', 'the Authorization header must be "Bearer <token>"');
    return match[1];
  }
  return token === undefined || token === '' ? undefined : token;
}
