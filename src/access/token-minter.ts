import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { StoppressError } from '../protocol/errors.js';
import type { TokenCheckOptions } from './subscriber-token.js';
import type { VerificationKeys } from './verification-keys.js';

/** What a publisher asks to mint (validated at the HTTP edge). */
export interface MintRequest {
  /** `sub`: the partner. */
  sub: string;
  /** Story ids and patterns (valid, see story-patterns.ts). */
  stories: readonly string[];
  ttlSeconds: number;
}

/**
 * Signs an HS256 subscriber token with `sub`, `stories`, `iat`, `exp`, a random `jti`, and `iss`/`aud` when
 * configured (so the service's own verifier accepts it). Throws `minting_unavailable` without a secret.
 */
export async function mintToken(keys: VerificationKeys | undefined, check: TokenCheckOptions, request: MintRequest, nowMs = Date.now()): Promise<{ token: string; expiresAt: string }> {
  if (!keys?.signingKey) {
    throw new StoppressError('minting_unavailable', 'this service has no SUBSCRIBER_TOKEN_SECRET: it verifies tokens signed elsewhere (SUBSCRIBER_TOKEN_PUBLIC_KEY or SUBSCRIBER_TOKEN_JWKS) but cannot sign any; mint them where the private key is');
  }
  const issuedAt = Math.floor(nowMs / 1000);
  const exp = issuedAt + request.ttlSeconds;
  let jwt = new SignJWT({ stories: [...request.stories] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.sub)
    .setIssuedAt(issuedAt)
    .setExpirationTime(exp)
    .setJti(randomUUID());
  if (check.issuer !== undefined) jwt = jwt.setIssuer(check.issuer);
  if (check.audience !== undefined) jwt = jwt.setAudience(check.audience);
  return { token: await jwt.sign(keys.signingKey), expiresAt: new Date(exp * 1000).toISOString() };
}
