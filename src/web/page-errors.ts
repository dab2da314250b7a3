import type { FastifyReply } from 'fastify';
import type { StoppressError } from '../protocol/errors.js';
import { errorPage } from './render-pages.js';
import { contentSecurityPolicy } from './web-routes.js';

/** Answers `error` as an HTML error page with the pages' security headers. */
export function sendErrorPage(reply: FastifyReply, error: StoppressError): FastifyReply {
  const message = error.code === 'redis_unavailable' ? 'The live coverage is briefly unavailable. Try again in a moment.' : error.message;
  return reply
    .code(error.status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', contentSecurityPolicy)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-cache')
    .send(errorPage(error.status, message));
}
