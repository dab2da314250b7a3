import { createHash, timingSafeEqual } from 'node:crypto';
import { StoppressError } from '../protocol/errors.js';

/**
 * Checks `Authorization: Bearer <key>` against the publisher keys in constant time: both sides are hashed to
 * equal-length digests and every configured key is compared, so neither the key length nor which key matched
 * shows in the timing.
 */
export function createPublisherAuth(publisherKeys: readonly string[]): (authorization: string | undefined) => void {
  const digests = publisherKeys.map(sha256);
  return (authorization) => {
    const match = /^Bearer ([\x21-\x7e]+)$/.exec(authorization ?? '');
    if (!match) throw new StoppressError('unauthorized', 'missing publisher key: send "Authorization: Bearer <publisher key>"');
    const given = sha256(match[1]!);
    let ok = false;
    for (const digest of digests) ok = timingSafeEqual(digest, given) || ok;
    if (!ok) throw new StoppressError('unauthorized', 'the publisher key is not valid');
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
