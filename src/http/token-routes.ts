import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { maxStoryPatterns, storyPatternProblem } from '../access/story-patterns.js';
import type { TokenCheckOptions } from '../access/subscriber-token.js';
import { mintToken } from '../access/token-minter.js';
import type { VerificationKeys } from '../access/verification-keys.js';
import type { ServiceAudit } from '../store/service-audit.js';
import type { PublisherIdentity } from './publisher-auth.js';
import { parseOrThrow } from './validate.js';

export interface TokenRoutesOptions {
  /** The configured keys; minting needs SUBSCRIBER_TOKEN_SECRET among them. */
  keys: VerificationKeys | undefined;
  check: TokenCheckOptions;
  /** Throws `unauthorized` unless the Authorization header carries a publisher key; answers whose key it is. */
  authorize: (authorization: string | undefined) => PublisherIdentity;
  /** Where each minted token is recorded (who, for whom, which stories, until when; never the token). */
  audit: ServiceAudit;
}

/** Longest lifetime of a minted token: a partner's server mints new ones long before. */
export const maxTokenTtlSeconds = 30 * 86_400;

const MintBody = z.strictObject({
  sub: z.string().min(1).max(200),
  stories: z
    .array(z.string().superRefine((value, context) => {
      const problem = storyPatternProblem(value);
      if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
    }))
    .min(1)
    .max(maxStoryPatterns),
  ttlSeconds: z.number().int().min(1).max(maxTokenTtlSeconds),
});

/** `POST /v1/tokens` (publisher key): mints a subscriber token for `sub` covering `stories` for `ttlSeconds`. */
export async function tokenRoutes(app: FastifyInstance, { keys, check, authorize, audit }: TokenRoutesOptions): Promise<void> {
  app.addHook('onRequest', async (request) => authorize(request.headers.authorization));
  app.post('/v1/tokens', async (request, reply) => {
    const body = parseOrThrow(MintBody, request.body, 'the token request');
    const minted = await mintToken(keys, check, body);
    const { name } = authorize(request.headers.authorization);
    await audit.record({ publisher: name, action: 'mint_token', sub: body.sub, stories: body.stories, expiresAt: minted.expiresAt });
    return reply.code(201).send(minted);
  });
}
