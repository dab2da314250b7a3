import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { StoppressError, type ErrorCode } from '../protocol/errors.js';
import { sendErrorPage } from '../web/page-errors.js';
import { isPagePath } from '../web/page-paths.js';
import type { RouteMethods } from './route-methods.js';

/**
 * Maps every error to the `{ error: { code, message, issues? } }` body. Fastify's own body-parsing errors
 * (bad JSON, prototype poisoning, size, media type) arrive here too and keep their status.
 */
export function httpErrorHandler(error: FastifyError | StoppressError, request: FastifyRequest, reply: FastifyReply): void {
  const mapped = toStoppressError(error);
  if (mapped.code === 'internal') request.log.error({ err: error }, 'unhandled error');
  else if (mapped.code === 'redis_unavailable') request.log.warn({ code: mapped.code }, 'redis unavailable');
  sendError(request, reply, mapped);
}

/**
 * Fastify's `frameworkErrors`: errors its router raises before any route or hook runs (a path that is not valid
 * percent-encoding, a path parameter over `maxParamLength`). Without it they answer in Fastify's own shape.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return sendError(request, reply, new StoppressError('bad_request', 'the path is not valid percent-encoding (a "%" must start an escape such as "%20")'));
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return sendError(request, reply, new StoppressError('uri_too_long', 'a part of the path is over 500 characters'));
  }
  request.log.error({ err: error }, 'unhandled framework error');
  sendError(request, reply, new StoppressError('internal', 'internal error'));
}

/** The not-found handler: 405 with `Allow` when another method answers this path, 404 otherwise. */
export function notFoundHandler(routes: RouteMethods) {
  return (request: FastifyRequest, reply: FastifyReply): void => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = routes.allowed(path);
    if (allowed.length > 0) {
      void reply.header('allow', allowed.join(', '));
      return sendError(request, reply, new StoppressError('method_not_allowed', `${request.method} is not allowed on ${path}: use ${allowed.join(', ')}`));
    }
    sendError(request, reply, new StoppressError('not_found', `no route ${request.method} ${path}`));
  };
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before there is a request (headers over the
 * size limit, a malformed request line, a request that took too long). Written to the socket, then closed.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const mapped =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new StoppressError('headers_too_large', 'the request line and headers are over 16 KiB')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new StoppressError('request_timeout', 'the request was not received in time')
        : new StoppressError('bad_request', 'the request is not valid HTTP');
  const body = JSON.stringify(mapped.toBody());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${mapped.status} ${STATUS_CODES[mapped.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** The error code each errored reply answered with, for its request log line. */
const answeredCodes = new WeakMap<FastifyReply, ErrorCode>();

/** The catalogued code this reply answered with, when it answered an error. */
export function errorCodeOf(reply: FastifyReply): ErrorCode | undefined {
  return answeredCodes.get(reply);
}

/** Answers an error: an HTML page for the HTML pages' paths, the JSON error body everywhere else. */
function sendError(request: FastifyRequest, reply: FastifyReply, error: StoppressError): void {
  answeredCodes.set(reply, error.code);
  if (error.status === 503) void reply.header('retry-after', '1');
  if (isPagePath(request.url.split('?')[0] ?? '/') && request.method !== 'OPTIONS') {
    void sendErrorPage(reply, error);
    return;
  }
  void reply.status(error.status).send(error.toBody());
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
  if (error.statusCode === 408) return new StoppressError('request_timeout', 'the request body was not received in time');
  return new StoppressError('internal', 'internal error');
}
