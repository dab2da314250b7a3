/**
 * The one catalogue of error codes. HTTP answers carry `{ error: { code, message, issues? } }`;
 * WebSocket error frames carry `{ type: "error", code, message }`. Every code is documented in the README
 * (a test fails when one is not).
 */
export const errorCatalogue = {
  bad_request: { status: 400, meaning: 'The request is malformed: not JSON, a JSON value that is not an object, a bad header, a path that is not valid percent-encoding, a CORS preflight without its headers, or not HTTP.' },
  validation_failed: { status: 400, meaning: 'The body or a parameter does not match the schema; `issues` lists each problem with its path.' },
  invalid_story_id: { status: 400, meaning: 'The story id is not 1-64 of a-z, 0-9 and "-".' },
  invalid_update_id: { status: 400, meaning: 'An update id (`after`, `since`) is not `<ms>-<seq>` with two canonical unsigned 64-bit integers (no leading zeros, each at most 18446744073709551615); the message says which rule it breaks.' },
  unauthorized: { status: 401, meaning: 'No `Authorization: Bearer <key>` header, or the key is not a publisher key (on `GET /metrics`: not the `METRICS_TOKEN`).' },
  not_found: { status: 404, meaning: 'No such story or route.' },
  method_not_allowed: { status: 405, meaning: 'The path exists but not with this method; the `Allow` header lists the methods it answers.' },
  request_timeout: { status: 408, meaning: 'The request (headers or body) was not received in time.' },
  story_exists: { status: 409, meaning: '`POST /v1/stories` for a story id that exists (it has metadata or updates); `error.story` carries its current metadata. Change it with `PATCH`.' },
  precondition_failed: { status: 412, meaning: '`PATCH /v1/stories/:story` with an `If-Match` whose metadata version is not the current one: someone changed the story since; `error.story` carries its current metadata. Reload and retry.' },
  target_not_found: { status: 422, meaning: '`corrects` or `inReplyTo` names an update that is not in this story (or was trimmed).' },
  url_not_allowed: { status: 422, meaning: 'A webhook URL whose host is, or resolves to, a loopback, private, link-local, unique-local, multicast or unspecified address (or does not resolve). Allowed only with `WEBHOOK_ALLOW_PRIVATE_NETWORKS=on`.' },
  target_is_correction: { status: 422, meaning: '`corrects` names a correction: correct the original update instead.' },
  body_too_large: { status: 413, meaning: 'The body is over the 64 KiB limit.' },
  uri_too_long: { status: 414, meaning: 'A part of the path (a story id, say) is over 500 characters.' },
  unsupported_media_type: { status: 415, meaning: 'The body is not `application/json`.' },
  headers_too_large: { status: 431, meaning: 'The request line and headers are over 16 KiB (the answer is written before the connection is closed).' },
  redis_unavailable: { status: 503, meaning: 'Redis is unreachable or did not answer within 1.5 s; the answer comes within 2.0 s of the request\'s arrival. A timed-out append may still land, so retry with the same Idempotency-Key: it is stored at most once.' },
  not_delivering: { status: 503, meaning: '`/readyz` only: this node cannot deliver live updates: a pub/sub connection (the message names the Redis node) has been down longer than `READY_PUBSUB_GRACE_MS`, or filling a gap from a stream keeps failing.' },
  shutting_down: { status: 503, meaning: 'The node is shutting down; retry (on another node).' },
  token_invalid: { status: 401, meaning: 'A subscriber token is malformed, is not signed with an accepted algorithm and key (`alg: none` never is), names the wrong `iss` or `aud`, is not valid yet (`nbf`), or has claims of the wrong type (`stories` entries must be story ids or prefixes ending in one `*`); the message says which.' },
  token_expired: { status: 401, meaning: 'The subscriber token is past its `exp`. On `/v1/live`, subscriptions a token covered end with this code when it expires unrefreshed (send a new `auth` frame before then).' },
  minting_unavailable: { status: 501, meaning: '`POST /v1/tokens` needs `SUBSCRIBER_TOKEN_SECRET`: with only a public key (or JWKS) configured this service can verify tokens but not sign them.' },
  internal: { status: 500, meaning: 'An unexpected error; it is logged with the request id.' },
  // WebSocket-only codes (sent in error frames; the socket stays open).
  bad_frame: { status: 400, meaning: 'A WebSocket frame is not JSON, not a known type, or fails validation.' },
  subscription_limit: { status: 429, meaning: 'The socket already follows the maximum number of stories.' },
  not_subscribed: { status: 400, meaning: '`unsubscribe` for a story this socket does not follow.' },
  rate_limited: { status: 429, meaning: 'The socket sent subscribe and unsubscribe frames faster than `WS_SUBSCRIBE_RATE` allows (after a burst of `WS_SUBSCRIBE_BURST`); retry later. A socket that keeps going is closed with 1008.' },
  node_story_limit: { status: 503, meaning: 'This node already follows `MAX_ACTIVE_STORIES` stories; retry later (or on another node).' },
  not_flaggable: { status: 422, meaning: 'Flags (`key`, `pinned`) were set on a correction or a story change: only statements and reactions carry them.' },
  token_required: { status: 401, meaning: 'WebSocket: the story is private and no subscriber token came with the subscribe (send an `auth` frame or a `token` field). Over HTTP (pages, reads, SSE) a private story without a token answers `not_found`.' },
  forbidden: { status: 403, meaning: 'WebSocket: the subscriber token does not cover this private story. (A story\'s id and existence are not secret on `/v1/live`; its content is.) Over HTTP this answers `not_found`.' },
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

export interface ErrorIssue {
  path: string;
  message: string;
}

/** The one error type: a catalogued code, its HTTP status, a message for people and optional field issues. */
export class StoppressError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly issues: ErrorIssue[] | undefined;
  /** Extra members of the error body (e.g. `story` for `story_exists`), after `code`, `message` and `issues`. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, issues?: ErrorIssue[], details?: Record<string, unknown>) {
    super(message);
    this.name = 'StoppressError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.issues = issues;
    this.details = details;
  }

  toBody(): { error: { code: ErrorCode; message: string; issues?: ErrorIssue[] } & Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}), ...this.details } };
  }
}

/**
 * WebSocket close codes used by the server, with their meaning. Clients reconnect and resume with `since`
 * on every code except 1008.
 */
export const closeCodes = {
  goingAway: 1001, // the node is shutting down: reconnect (to any node) and resume with `since`
  policyViolation: 1008, // too many bad frames: fix the client before reconnecting
  messageTooBig: 1009, // an inbound frame over the size limit
  tryAgainLater: 1013, // the socket fell too far behind (slow consumer): reconnect and resume with `since`
} as const;
