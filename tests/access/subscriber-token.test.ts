import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { patternsCover, storyPatternProblem } from '../../src/access/story-patterns.js';
import { isPrivateAt, ReaderAccess, readerCovers } from '../../src/access/story-access.js';
import { createTokenVerifier } from '../../src/access/subscriber-token.js';
import { mintToken } from '../../src/access/token-minter.js';
import { TokenKeyError, verificationKeys } from '../../src/access/verification-keys.js';

const secret = 'a-test-secret-of-at-least-thirty-two-bytes';
const keys = verificationKeys({ secret })!;
const verify = createTokenVerifier(keys);
const now = () => Math.floor(Date.now() / 1000);

function hs(claims: Record<string, unknown>, header: Record<string, unknown> = {}, key = keys.signingKey!): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', ...header }).sign(key);
}
const good = (extra: Record<string, unknown> = {}) => ({ sub: 'partner-a', exp: now() + 60, stories: ['election-2026-*', 'budget'], ...extra });

async function refusal(token: string, verifier = verify): Promise<{ code: string; message: string }> {
  try {
    await verifier(token);
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
  throw new Error('the token was accepted');
}

describe('story patterns', () => {
  it('accepts story ids, prefixes ending in one "*", and a bare "*"', () => {
    for (const p of ['budget', 'election-2026-*', '*', 'a*']) expect(storyPatternProblem(p)).toBeUndefined();
  });
  it('refuses patterns that try to escape their prefix', () => {
    for (const p of ['*foo', 'a*b', '**', 'a**', '-a*', 'A*', 'a?', '.*', '', 'x'.repeat(65), `${'x'.repeat(64)}*`, 7, null]) {
      expect(storyPatternProblem(p), String(p)).toBeTypeOf('string');
    }
  });
  it('covers exactly what the patterns say', () => {
    expect(patternsCover(['election-2026-*'], 'election-2026-results')).toBe(true);
    expect(patternsCover(['election-2026-*'], 'election-2025-results')).toBe(false);
    expect(patternsCover(['budget'], 'budget-2')).toBe(false);
    expect(patternsCover(['*'], 'anything')).toBe(true);
  });
});

describe('subscriber tokens', () => {
  it('verifies an HS256 token and reads its claims, ignoring claims it does not know', async () => {
    const token = await verify(await hs(good({ iat: now(), nbf: now() - 5, jti: 'j1', plan: 'gold', nested: { x: 1 } })));
    expect(token).toEqual({ subject: 'partner-a', stories: ['election-2026-*', 'budget'], expiresAtMs: expect.any(Number) });
  });

  it('refuses alg "none", malformed tokens and wrong signatures with token_invalid', async () => {
    const unsecured = new UnsecuredJWT(good()).encode();
    expect(await refusal(unsecured)).toMatchObject({ code: 'token_invalid' });
    for (const bad of ['', 'not-a-jwt', 'a.b.c', 'a.b', '....', 'x'.repeat(9000)]) expect((await refusal(bad)).code, bad.slice(0, 20)).toBe('token_invalid');
    const other = verificationKeys({ secret: 'another-secret-of-at-least-thirty-two-bytes' })!;
    expect(await refusal(await hs(good(), {}, other.signingKey!))).toEqual({ code: 'token_invalid', message: expect.stringMatching(/signature/) });
    const valid = await hs(good());
    const [h, p, s] = valid.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify(good({ stories: ['*'] }))).toString('base64url')}.${s}`;
    expect((await refusal(tampered)).code).toBe('token_invalid');
    expect(p).toBeTruthy();
  });

  it('answers token_expired past exp, and token_invalid before nbf', async () => {
    expect((await refusal(await hs(good({ exp: now() - 10 })))).code).toBe('token_expired');
    expect(await refusal(await hs(good({ nbf: now() + 3600 })))).toEqual({ code: 'token_invalid', message: expect.stringMatching(/nbf/) });
  });

  it('validates the known claims types: sub, exp, stories, jti', async () => {
    const cases: Record<string, unknown>[] = [
      { sub: undefined },
      { sub: 42 },
      { exp: undefined },
      { exp: 'tomorrow' },
      { stories: undefined },
      { stories: 'budget' },
      { stories: [] },
      { stories: ['*foo'] },
      { stories: ['a*b'] },
      { stories: ['**'] },
      { stories: [{ id: 'x' }] },
      { stories: Array.from({ length: 101 }, (_, i) => `s${i}`) },
      { jti: 5 },
      { iat: 'now' },
      { nbf: 'soon' },
    ];
    for (const claims of cases) {
      const payload = Object.fromEntries(Object.entries(good(claims)).filter(([, v]) => v !== undefined));
      expect((await refusal(await hs(payload))).code, JSON.stringify(claims).slice(0, 60)).toBe('token_invalid');
    }
  });

  it('checks iss and aud when configured', async () => {
    const strict = createTokenVerifier(keys, { issuer: 'https://news.example', audience: 'partners' });
    expect((await refusal(await hs(good()), strict)).code).toBe('token_invalid');
    expect((await refusal(await hs(good({ iss: 'https://evil.example', aud: 'partners' })), strict)).code).toBe('token_invalid');
    await expect(strict(await hs(good({ iss: 'https://news.example', aud: 'partners' })))).resolves.toMatchObject({ subject: 'partner-a' });
  });

  it.each([
    ['RS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['EdDSA', () => generateKeyPairSync('ed25519')],
  ] as const)('verifies %s tokens against SUBSCRIBER_TOKEN_PUBLIC_KEY and refuses HS256 ones signed with the PEM text', async (alg, pair) => {
    const { publicKey, privateKey } = pair();
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const verifier = createTokenVerifier(verificationKeys({ publicKeyPem: pem })!);
    const token = await new SignJWT(good()).setProtectedHeader({ alg }).sign(privateKey);
    await expect(verifier(token)).resolves.toMatchObject({ subject: 'partner-a' });
    // The classic confusion: an HS256 token whose "secret" is the public key's PEM.
    const confused = await new SignJWT(good()).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(pem));
    expect((await refusal(confused, verifier)).code).toBe('token_invalid');
    expect((await refusal(new UnsecuredJWT(good()).encode(), verifier)).code).toBe('token_invalid');
  });

  it('verifies tokens against a JWKS by kid, and refuses unknown kids', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const verifier = createTokenVerifier(verificationKeys({ jwks: { keys: [jwk] } })!);
    await expect(verifier(await new SignJWT(good()).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey))).resolves.toMatchObject({ subject: 'partner-a' });
    expect((await refusal(await new SignJWT(good()).setProtectedHeader({ alg: 'ES256', kid: 'k2' }).sign(privateKey), verifier)).code).toBe('token_invalid');
  });

  it('refuses unusable key settings, naming them', () => {
    expect(() => verificationKeys({ secret: 'short' })).toThrow(TokenKeyError);
    expect(() => verificationKeys({ publicKeyPem: 'not a pem' })).toThrow(/SUBSCRIBER_TOKEN_PUBLIC_KEY/);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => verificationKeys({ publicKeyPem: p384 })).toThrow(/P-256/);
    expect(verificationKeys({})).toBeUndefined();
  });

  it('mints tokens its own verifier accepts, and refuses to mint without a secret', async () => {
    const minted = await mintToken(keys, {}, { sub: 'p', stories: ['a-*'], ttlSeconds: 60 });
    expect(Date.parse(minted.expiresAt) - Date.now()).toBeGreaterThan(55_000);
    await expect(verify(minted.token)).resolves.toMatchObject({ subject: 'p', stories: ['a-*'] });
    const pem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await expect(mintToken(verificationKeys({ publicKeyPem: pem }), {}, { sub: 'p', stories: ['*'], ttlSeconds: 60 })).rejects.toMatchObject({ code: 'minting_unavailable' });
  });
});

describe('story access', () => {
  it('keeps an embargoed story private until embargoUntil, then public', () => {
    const at = Date.parse('2026-01-01T10:00:00Z');
    const fields = { visibility: 'private', embargoUntil: '2026-01-01T12:00:00+02:00' };
    expect(isPrivateAt(fields, at - 1)).toBe(true);
    expect(isPrivateAt(fields, at)).toBe(false);
    expect(isPrivateAt({ visibility: 'private' }, at)).toBe(true);
    expect(isPrivateAt({}, at)).toBe(false);
  });

  it('answers not_found for missing or non-covering tokens and 401 codes for bad ones', async () => {
    const access = new ReaderAccess(verify, (key) => key === 'publisher-key-1');
    const notFound = (): never => {
      throw Object.assign(new Error('nf'), { code: 'not_found' });
    };
    const priv = { visibility: 'private' };
    await expect(access.check('s', {}, {}, notFound)).resolves.toBe(false);
    await expect(access.check('s', priv, {}, notFound)).rejects.toMatchObject({ code: 'not_found' });
    await expect(access.check('s', priv, { authorization: 'Bearer publisher-key-1' }, notFound)).resolves.toBe(true);
    await expect(access.check('s', priv, { token: 'junk' }, notFound)).rejects.toMatchObject({ code: 'token_invalid' });
    await expect(access.check('s', priv, { token: await hs(good()) }, notFound)).rejects.toMatchObject({ code: 'not_found' });
    await expect(access.check('budget', priv, { authorization: `Bearer ${await hs(good())}` }, notFound)).resolves.toBe(true);
    await expect(access.check('budget', priv, { token: await hs(good({ exp: now() - 1 })) }, notFound)).rejects.toMatchObject({ code: 'token_expired' });
    expect(readerCovers({ kind: 'anonymous' }, 'budget', Date.now())).toBe(false);
  });
});
