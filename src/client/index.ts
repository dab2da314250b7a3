/**
 * @stoppress/client: follow live stories over one WebSocket, in browsers and in Node.
 *
 * ```ts
 * import { connect, type StoryView } from '@stoppress/client';
 * import { WebSocket } from 'ws'; // Node 20 only; browsers and Node 22+ have one
 * const view = (await (await fetch('https://live.example.com/v1/stories/russia-troops-2022-02-15')).json()) as StoryView;
 * const live = connect('https://live.example.com', { WebSocket });
 * const follow = live.follow('russia-troops-2022-02-15', { view }, {
 *   update: (u) => render(u),
 *   correction: (c, target) => rerender(target),
 *   reset: (view) => renderAll(view),
 *   status: (s) => badge(s),
 * });
 * ```
 */
import { LiveClient } from './live-client.js';
import type { ConnectOptions, LiveConnection } from './types.js';

/**
 * Opens one socket to the service at `url` (its base URL, `http(s)://host:port`; the live endpoint
 * `ws(s)://host:port/v1/live` is derived from it) and returns the connection to follow stories on.
 *
 * Each story's updates reach the application once and in stream order, across reconnects and server
 * restarts: the client remembers the last id delivered per story, resubscribes with it as `since` after a
 * drop (exponential backoff with full jitter), reloads the story and calls `reset` when the server no longer
 * holds what was missed, and drops any id at or below the last delivered one.
 *
 * Throws a TypeError when there is no WebSocket implementation (Node 20: pass `{ WebSocket }` from 'ws'),
 * when `url` is not an http(s)/ws(s) URL, or on impossible backoff options.
 */
export function connect(url: string, options?: ConnectOptions): LiveConnection {
  return new LiveClient(url, options);
}

export { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.js';
export { serviceEndpoints } from './live-client.js';
export {
  LiveClientError,
  type ConnectOptions,
  type FetchLike,
  type Follow,
  type FollowHandlers,
  type FollowOptions,
  type LiveClientErrorCode,
  type LiveConnection,
  type LiveStatus,
  type WebSocketConstructor,
  type WebSocketLike,
} from './types.js';
export type { StoryChange, StoryMeta, StoryView, Update, UpdateImage, ViewUpdate } from '../protocol/update.js';
