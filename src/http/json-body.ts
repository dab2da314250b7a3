import type { FastifyInstance } from 'fastify';
import { StoppressError } from '../protocol/errors.js';

/**
 * Makes `application/json` the only body type: Fastify's own JSON parser (secure-json-parse, which refuses
 * `__proto__` and `constructor.prototype` keys) still does the parsing; this only says *why* a body was
 * refused, and refuses a JSON value that is not an object. Fastify's `text/plain` parser is removed, so any
 * other content type is 415.
 */
export function useJsonObjectBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, body as string, (error, value) => {
      if (error) {
        if ((error as Error & { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
          done(explainRefusal(body as string), undefined);
          return;
        }
        done(error, undefined);
        return;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        done(new StoppressError('bad_request', `the body must be a JSON object, not ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}`), undefined);
        return;
      }
      done(null, value);
    });
  });
}

/** Runs only for a refused body: plain JSON.parse tells a syntax error (with its position) from a poisoning key. */
function explainRefusal(body: string): StoppressError {
  try {
    JSON.parse(body);
  } catch (error) {
    return new StoppressError('bad_request', `the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return new StoppressError('bad_request', 'the body was refused: "__proto__" and "constructor.prototype" keys are not allowed');
}
