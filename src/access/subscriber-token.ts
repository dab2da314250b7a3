import { errors as joseErrors, jwtVerify, type JWSHeaderParameters } from 'jose';
import { StoppressError } from '../protocol/errors.js';
import { maxStoryPatterns, storyPatternProblem } from './story-patterns.js';
import type { VerificationKeys } from './verification-keys.js';

/** A verified subscriber token: who it was issued to, what it covers, until when. */
export interface SubscriberToken {
  /** `sub`: the partner. */
  readonly subject: string;
  /** `stories`: exact ids and prefix patterns (see story-patterns.ts). */
  readonly stories: readonly string[];
  /** `exp` in ms since the epoch. */
  readonly expiresAtMs: number;
}

export interface TokenCheckOptions {
  /** SUBSCRIBER_TOKEN_ISSUER: checked against `iss` when set. */
  issuer?: string | undefined;
  /** SUBSCRIBER_TOKEN_AUDIENCE: checked against `aud` when set. */
  audience?: string | undefined;
}

/** Tokens longer than this are refused before any parsing (a hundred patterns fit in well under it). */
export const maxTokenChars = 8_192;

/** Verifies a compact JWT; resolves the token or rejects with StoppressError `token_invalid` / `token_expired`. */
export type TokenVerifier = (token: string) => Promise<SubscriberToken>;

/**
 * A verifier over `keys`. Contract: the signature must verify with an accepted algorithm (`keys.algorithms`,
 * never `none`); `exp` and `sub` are required, `nbf` must have passed, `iss`/`aud` must match when configured;
 * `stories` must be a list of 1-100 valid patterns. `iat`, `nbf` and `jti` are accepted with their standard
 * types; claims the service does not know are ignored, but the ones it knows must have the right type.
 */
export function createTokenVerifier(keys: VerificationKeys, options: TokenCheckOptions = {}): TokenVerifier {
  const verifyOptions = {
    algorithms: [...keys.algorithms],
    requiredClaims: ['exp', 'sub'],
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  };
  return async (token) => {
    if (token.length > maxTokenChars) throw invalid(`the token is over ${maxTokenChars} characters`);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, (header: JWSHeaderParameters) => keys.keyFor(header), verifyOptions));
    } catch (error) {
      throw tokenError(error);
    }
    return claimsOf(payload);
  };
}

function claimsOf(payload: Record<string, unknown>): SubscriberToken {
  const { sub, exp, stories, jti } = payload;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200) throw invalid('"sub" must be a string of 1-200 characters');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalid('"exp" must be a number of seconds');
  if (jti !== undefined && typeof jti !== 'string') throw invalid('"jti" must be a string');
  if (!Array.isArray(stories) || stories.length === 0) throw invalid('"stories" must be a non-empty list of story ids or patterns');
  if (stories.length > maxStoryPatterns) throw invalid(`"stories" lists ${stories.length} entries: at most ${maxStoryPatterns}`);
  for (const pattern of stories) {
    const problem = storyPatternProblem(pattern);
    if (problem !== undefined) throw invalid(`"stories": ${problem}`);
  }
  return Object.freeze({ subject: sub, stories: Object.freeze([...(stories as string[])]), expiresAtMs: exp * 1000 });
}

function invalid(message: string): StoppressError {
  return new StoppressError('token_invalid', `the subscriber token is invalid: ${message}`);
}

function tokenError(error: unknown): StoppressError {
  if (error instanceof joseErrors.JWTExpired) return new StoppressError('token_expired', 'the subscriber token has expired: get a new one');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = error.claim;
    if (claim === 'nbf') return invalid('it is not valid yet ("nbf" is in the future)');
    if (claim === 'iss' || claim === 'aud') return invalid(`"${claim}" is not the one this service expects`);
    return invalid(`"${claim}": ${error.reason === 'missing' ? 'missing' : error.message}`);
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return invalid('its algorithm is not accepted here');
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return invalid('its signature does not verify');
  if (error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JWSInvalid) return invalid('it is not a signed JWT (header.payload.signature)');
  if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) return invalid('no key of the key set matches it');
  return invalid('it cannot be verified with the configured keys');
}
