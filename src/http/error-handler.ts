import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { StoppressError } from '../protocol/errors.js';

/**
 * Maps every error to the `{ error: { code, message, issues? } }` body. Fastify's own body-parsing errors
 * (bad JSON, prototype poisoning, size, media type) arrive here too and keep their status.
 */
export function httpErrorHandler(error: FastifyError | StoppressError, request: FastifyRequest, reply: FastifyReply): void {
  const mapped = toStoppressError(error);
  if (mapped.code === 'internal') request.log.error({ err: error }, 'unhandled error');
  else if (mapped.code === 'redis_unavailable') request.log.warn({ code: mapped.code }, 'redis unavailable');
  if (mapped.status === 503) void reply.header('retry-after', '1');
  void reply.status(mapped.status).send(mapped.toBody());
}

function toStoppressError(error: FastifyError | StoppressError): StoppressError {
  if (error instanceof StoppressError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new StoppressError('body_too_large', 'the body is over the 64 KiB limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new StoppressError('unsupported_media_type', 'send the body as "Content-Type: application/json"');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new StoppressError('bad_request', 'the body is empty: send a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new StoppressError('bad_request', `the body is not valid JSON: ${error.message}`);
  }
  if (error.statusCode === 400) {
    // secure-json-parse refuses "__proto__" and "constructor.prototype" keys with a SyntaxError.
    return new StoppressError('bad_request', `the body was refused: ${error.message}`);
  }
  if (error.statusCode === 413) return new StoppressError('body_too_large', 'the body is over the 64 KiB limit');
  if (error.statusCode === 415) return new StoppressError('unsupported_media_type', 'send the body as "Content-Type: application/json"');
  return new StoppressError('internal', 'internal error');
}
