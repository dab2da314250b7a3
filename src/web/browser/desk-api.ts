/**
 * The desk's calls to the publisher API: JSON in and out, the publisher key as a Bearer token, errors as
 * DeskApiError carrying the API's `issues` so forms can put each message next to its field.
 */

/** The `error` object of a failed call, as sent (e.g. `story` of `story_exists` and `precondition_failed`). */
export type ErrorDetails = Record<string, unknown>;

export interface FieldIssue {
  path: string;
  message: string;
}

/** A failed call: `status` 0 and `network` true when no answer came back (the request may still have landed). */
export class DeskApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: FieldIssue[];
  readonly network: boolean;
  readonly details: ErrorDetails;

  constructor(status: number, code: string, message: string, issues: FieldIssue[] = [], details: ErrorDetails = {}) {
    super(message);
    this.name = 'DeskApiError';
    this.status = status;
    this.code = code;
    this.issues = issues;
    this.network = status === 0;
    this.details = details;
  }
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
  /** The answer's ETag, or null. */
  etag: string | null;
}

/** Calls the API; resolves on 2xx, rejects with DeskApiError otherwise. */
export async function callApi<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH',
  path: string,
  options: { key?: string; body?: unknown; idempotencyKey?: string; ifMatch?: string } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  if (options.ifMatch) headers['if-match'] = options.ifMatch;
  let response: Response;
  try {
    // `no-cache`: always revalidate, so the ETag read (the If-Match of a later edit) is the current one.
    response = await fetch(path, { method, headers, cache: 'no-cache', ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
  } catch {
    throw new DeskApiError(0, 'network', 'No answer from the service (network error). Publishing again is safe: it will not duplicate.');
  }
  const text = await response.text().catch(() => '');
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (response.ok) return { status: response.status, body: body as T, etag: response.headers.get('etag') };
  const error = (body as { error?: { code?: unknown; message?: unknown; issues?: unknown } } | null)?.error;
  const issues = Array.isArray(error?.issues)
    ? (error.issues as unknown[]).filter((i): i is FieldIssue => typeof (i as FieldIssue)?.path === 'string' && typeof (i as FieldIssue)?.message === 'string')
    : [];
  throw new DeskApiError(
    response.status,
    typeof error?.code === 'string' ? error.code : 'http_error',
    typeof error?.message === 'string' ? error.message : `The service answered ${response.status}.`,
    issues,
    typeof error === 'object' && error !== null ? (error as ErrorDetails) : {},
  );
}

/** A new Idempotency-Key: a UUID (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * One form's submissions: the same Idempotency-Key until a submission succeeds, so a retry after a network
 * error or a double click is answered with the first result instead of publishing twice.
 */
export class Submission {
  #key: string | undefined;
  #inFlight = false;

  /** The key of the current attempt (created on first use). */
  get key(): string {
    return (this.#key ??= newIdempotencyKey());
  }

  get inFlight(): boolean {
    return this.#inFlight;
  }

  /** Runs one attempt; resets the key only when it succeeds. Refuses to start while one is in flight. */
  async run<T>(attempt: (idempotencyKey: string) => Promise<T>): Promise<T | undefined> {
    if (this.#inFlight) return undefined;
    this.#inFlight = true;
    try {
      const result = await attempt(this.key);
      this.#key = undefined;
      return result;
    } finally {
      this.#inFlight = false;
    }
  }

  /** Forgets the key (the form now means something else, e.g. another story). */
  reset(): void {
    this.#key = undefined;
  }
}
