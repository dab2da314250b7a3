import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';

/** Where subscriber tokens are checked against (and, with a secret, signed with). */
export interface TokenKeySettings {
  /** SUBSCRIBER_TOKEN_SECRET: HS256, at least 32 bytes. */
  secret?: string | undefined;
  /** SUBSCRIBER_TOKEN_PUBLIC_KEY: a PEM public key (RSA → RS256, P-256 → ES256, Ed25519 → EdDSA). */
  publicKeyPem?: string | undefined;
  /** SUBSCRIBER_TOKEN_JWKS: the parsed contents of the JWKS file. */
  jwks?: JSONWebKeySet | undefined;
}

/** What a verifier needs: the accepted algorithms (never `none`) and the key for a token's header. */
export interface VerificationKeys {
  readonly algorithms: readonly string[];
  /** The key for a token whose protected header is `header` (jose calls it; it throws when none fits). */
  readonly keyFor: (header: JWSHeaderParameters) => Promise<KeyObject | CryptoKey | Uint8Array>;
  /** The HS256 key, when a secret is configured: only then can tokens be minted. */
  readonly signingKey: KeyObject | undefined;
}

/** Asymmetric algorithms a public key or JWKS may verify: listed, so that `none` and HS-with-a-public-key confusions never pass. */
export const asymmetricAlgorithms = ['RS256', 'ES256', 'EdDSA'] as const;

/** Thrown for unusable key settings; the message names the setting. */
export class TokenKeyError extends Error {
  override name = 'TokenKeyError';
}

/**
 * Builds the verification keys from the settings, or undefined when none is set (then no story can be read
 * privately, and private stories are shown to publishers only). Throws TokenKeyError naming a bad setting.
 */
export function verificationKeys(settings: TokenKeySettings): VerificationKeys | undefined {
  const { secret, publicKeyPem, jwks } = settings;
  if (secret === undefined && publicKeyPem === undefined && jwks === undefined) return undefined;
  if (publicKeyPem !== undefined && jwks !== undefined) throw new TokenKeyError('SUBSCRIBER_TOKEN_PUBLIC_KEY and SUBSCRIBER_TOKEN_JWKS are both set: set one');
  let signingKey: KeyObject | undefined;
  if (secret !== undefined) {
    if (Buffer.byteLength(secret) < 32) throw new TokenKeyError('SUBSCRIBER_TOKEN_SECRET: at least 32 bytes (HS256 needs a 256-bit secret); e.g. `openssl rand -hex 32`');
    signingKey = createSecretKey(Buffer.from(secret));
  }
  const algorithms: string[] = signingKey ? ['HS256'] : [];
  let asymmetric: ((header: JWSHeaderParameters) => Promise<KeyObject | CryptoKey>) | undefined;
  if (publicKeyPem !== undefined) {
    let key: KeyObject;
    try {
      key = createPublicKey(publicKeyPem);
    } catch (error) {
      throw new TokenKeyError(`SUBSCRIBER_TOKEN_PUBLIC_KEY: not a PEM public key (${error instanceof Error ? error.message : String(error)})`);
    }
    const alg = algorithmOf(key);
    algorithms.push(alg);
    asymmetric = async (header) => {
      if (header.alg !== alg) throw new Error(`the key is for ${alg}`);
      return key;
    };
  } else if (jwks !== undefined) {
    let set: ReturnType<typeof createLocalJWKSet>;
    try {
      set = createLocalJWKSet(jwks);
    } catch (error) {
      throw new TokenKeyError(`SUBSCRIBER_TOKEN_JWKS: not a JSON Web Key Set (${error instanceof Error ? error.message : String(error)})`);
    }
    algorithms.push(...asymmetricAlgorithms);
    asymmetric = (header) => set(header);
  }
  return Object.freeze({
    algorithms: Object.freeze(algorithms),
    signingKey,
    keyFor: async (header: JWSHeaderParameters) => {
      if (header.alg === 'HS256' && signingKey) return signingKey;
      if (header.alg !== 'HS256' && asymmetric) return asymmetric(header);
      throw new Error(`no key for ${String(header.alg)}`);
    },
  });
}

function algorithmOf(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new TokenKeyError(`SUBSCRIBER_TOKEN_PUBLIC_KEY: a ${key.asymmetricKeyType ?? 'unknown'} key${key.asymmetricKeyDetails?.namedCurve ? ` on ${key.asymmetricKeyDetails.namedCurve}` : ''}: use RSA (RS256), P-256 (ES256) or Ed25519 (EdDSA)`);
}
