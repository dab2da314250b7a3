import { createHash, timingSafeEqual } from 'node:crypto';
import { StoppressError } from '../protocol/errors.js';

/**
 * Who made a request: the name of a PUBLISHERS key, or `null` for an anonymous PUBLISHER_KEYS key. Every write
 * is audited with it.
 */
export interface PublisherIdentity {
  readonly name: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the publisher routes' auth hook before the handler runs; null on routes without publisher auth. */
    publisher: PublisherIdentity | null;
  }
}

/**
 * Checks `Authorization: Bearer <key>` against the anonymous and the named publisher keys in constant time:
 * both sides are hashed to equal-length digests and every configured key is compared (no early exit), so
 * neither the key length nor which key matched shows in the timing. Answers who the key belongs to.
 */
export function createPublisherAuth(
  anonymousKeys: readonly string[],
  named: readonly { readonly name: string; readonly key: string }[] = [],
): (authorization: string | undefined) => PublisherIdentity {
  const anonymous: PublisherIdentity = Object.freeze({ name: null });
  const known = [
    ...anonymousKeys.map((key) => ({ digest: sha256(key), identity: anonymous })),
    ...named.map(({ name, key }) => ({ digest: sha256(key), identity: Object.freeze({ name }) as PublisherIdentity })),
  ];
  return (authorization) => {
    const match = /^Bearer ([\x21-\x7e]+)$/.exec(authorization ?? '');
    if (!match) throw new StoppressError('unauthorized', 'missing publisher key: send "Authorization: Bearer <publisher key>"');
    const given = sha256(match[1]!);
    let found: PublisherIdentity | undefined;
    for (const { digest, identity } of known) {
      // Keys are unique (config refuses duplicates), so at most one matches; every key is compared all the same.
      const equal = timingSafeEqual(digest, given);
      found = equal ? identity : found;
    }
    if (!found) throw new StoppressError('unauthorized', 'the publisher key is not valid');
    return found;
  };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** A constant-time check of one publisher key (the reader routes accept a publisher key where a subscriber token goes). */
export function createPublisherKeyCheck(publisherKeys: readonly string[]): (key: string) => boolean {
  const digests = publisherKeys.map(sha256);
  return (key) => {
    const given = sha256(key);
    let ok = false;
    for (const digest of digests) ok = timingSafeEqual(digest, given) || ok;
    return ok;
  };
}
