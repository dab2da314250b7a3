import type { StoryChange, StoryView, Update, ViewUpdate } from '../protocol/update.js';
import type { BackoffOptions } from './backoff.js';

/**
 * Where the connection stands:
 * - `connecting`: before the socket first opened;
 * - `live`: the socket is open and every story followed when it opened is subscribed;
 * - `reconnecting`: the socket dropped; a new one is being opened after a backoff delay;
 * - `offline`: closed by the application, refused by the server with 1008, or the browser says it is offline
 *   (`navigator.onLine === false`; the client reconnects on the `online` event).
 */
export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

/** What went wrong, for `error` handlers. */
export type LiveClientErrorCode =
  /** The server refused a subscription (`serverCode`: `invalid_story_id`, `subscription_limit`…); `willRetry` says whether the client tries again. */
  | 'subscribe_failed'
  /** The server sent an error frame about no particular story. */
  | 'server_error'
  /** `GET /v1/stories/:story` failed after `recovered: false`; the client retries with backoff. */
  | 'reset_failed'
  /** The server closed the socket with 1008 (too many bad frames); the client does not reconnect. */
  | 'policy_violation'
  /** An application handler threw; the client carries on with the next update. */
  | 'handler_failed';

/** The one error type of the client. */
export class LiveClientError extends Error {
  readonly code: LiveClientErrorCode;
  /** The story concerned, if any. */
  readonly story: string | undefined;
  /** The server's error code (from an error frame), if any. */
  readonly serverCode: string | undefined;
  /** Whether the client keeps trying on its own. */
  readonly willRetry: boolean;

  constructor(code: LiveClientErrorCode, message: string, details: { story?: string; serverCode?: string; willRetry?: boolean; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'LiveClientError';
    this.code = code;
    this.story = details.story;
    this.serverCode = details.serverCode;
    this.willRetry = details.willRetry ?? false;
  }
}

/**
 * The application's callbacks for one followed story. Each update is delivered at most once and in stream
 * order (ids strictly increase), across reconnects and server restarts. A handler that throws is reported to
 * `error` and does not stop delivery.
 */
export interface FollowHandlers {
  /** A statement or reaction; also corrections when there is no `correction` handler. */
  update?(update: Update): void;
  /**
   * A correction (`kind: 'correction'`). `target` is the corrected update with this and every earlier
   * correction folded in (`text`, `withdrawn`, `corrections`), or undefined when the client has not seen it
   * (it was published before this follow started, was not in the `view` it was seeded with, and no reset loaded it).
   */
  correction?(correction: Update, target: ViewUpdate | undefined): void;
  /**
   * A story change (a `story` frame): the story's metadata after it (`meta`: title, summary, status, coverage
   * times, `pinned`) and, for a flags change, the update whose key-event or pinned flag changed (`flags`). In
   * stream order with the updates; its id moves `lastId` like an update's. Without this handler story changes
   * are skipped (never passed to `update`).
   */
  story?(change: StoryChange): void;
  /**
   * The updates after the last one delivered are no longer retained (`recovered: false`): `view` is the story
   * reloaded from `GET /v1/stories/:story`, corrections folded. Replace what is shown with it; updates
   * delivered afterwards all have ids above `view.lastId`.
   */
  reset?(view: StoryView): void;
  /** The connection's status: called with the current one soon after `follow`, then on each change. */
  status?(status: LiveStatus): void;
  /** Errors concerning this story (and handler errors); see LiveClientError. */
  error?(error: LiveClientError): void;
}

export interface FollowOptions {
  /**
   * Deliver every update after this id (for a page rendered from a view with that `lastId`). Without it (and
   * without `view`): updates published from now on.
   * @default view.lastId when `view` is given (`'0-0'` for a story with no updates yet), else live from now
   */
  since?: string;
  /**
   * The story view the application rendered (`GET /v1/stories/:story`, whole or paged with `?limit=`/`?before=`).
   * Its updates seed what corrections are folded into, so a correction or withdrawal of an update shown in the
   * view reaches `correction` with its target; without it, such a target is undefined. Delivery resumes after
   * its `lastId` unless `since` says otherwise, so nothing published between the read and the follow is lost.
   * Must be this story's view (its `story` is checked).
   */
  view?: StoryView;
  /**
   * When the server no longer has what was missed (`recovered: false`), reload only the newest `resetLimit`
   * top-level updates with their reactions (`GET /v1/stories/:story?limit=`) for `reset`: what the application
   * shows, not the whole story. 1..1000. @default the whole story
   */
  resetLimit?: number;
}

/** One followed story. */
export interface Follow {
  readonly story: string;
  /** The id of the last update delivered (or the point live delivery started from); what a resubscribe sends as `since`. */
  readonly lastId: string | undefined;
  /** Stops delivery at once and unsubscribes. Idempotent. */
  unfollow(): void;
}

/** The subset of the standard WebSocket the client uses: the browser's and `ws`'s both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type FetchLike = (url: string, init?: { headers?: Record<string, string>; signal?: AbortSignal }) => Promise<{
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}>;

export interface ConnectOptions extends Partial<BackoffOptions> {
  /**
   * The WebSocket implementation. Browsers have one; in Node 20 pass `ws`'s: `import { WebSocket } from 'ws'`.
   * @default globalThis.WebSocket
   */
  WebSocket?: WebSocketConstructor;
  /** Used to reload a story after `recovered: false`. @default globalThis.fetch */
  fetch?: FetchLike;
  /** Source of randomness for the backoff jitter, in [0, 1). @default Math.random */
  random?: () => number;
  /**
   * Statements and reactions kept per story to hand corrections their folded target; the oldest go first.
   * @default 10000
   */
  keptUpdatesPerStory?: number;
  /**
   * A subscriber token for private stories, or a function that answers a fresh one (minted by the partner's
   * server with `POST /v1/tokens`). It is sent in an `auth` frame when the socket opens, before any subscribe,
   * and again before it expires (the function is called for each), so subscriptions never drop for it; a
   * subscription the server ended with `token_expired` is resumed with a fresh token.
   */
  token?: string | (() => string | Promise<string>);
  /** Every status change of the connection (the same as each follow's `status` handler). */
  onStatus?(status: LiveStatus): void;
  /**
   * Errors that concern no followed story, and story errors whose follow has no `error` handler. Without it,
   * an error the client cannot get over on its own (`willRetry: false`: a thrown handler, 1008, a refused
   * subscription) is thrown asynchronously, like an EventEmitter 'error' without a listener; errors it
   * retries show in the status only.
   */
  onError?(error: LiveClientError): void;
}

/** One socket to the service, carrying any number of followed stories. */
export interface LiveConnection {
  readonly status: LiveStatus;
  /**
   * Follows a story: subscribes now if the socket is open, else as soon as it opens, and after every
   * reconnect with `since` = the last id delivered. Throws on an invalid story id or `since`, when the story is
   * already followed on this connection, or after `close()`.
   */
  follow(story: string, options: FollowOptions | undefined, handlers: FollowHandlers): Follow;
  /** Closes the socket for good (status `offline`); no handler is called afterwards. Idempotent. */
  close(): void;
}
