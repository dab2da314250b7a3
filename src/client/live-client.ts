import type { ServerFrame } from '../protocol/live-messages.js';
import type { StoryView } from '../protocol/update.js';
import { backoffDelay, checkBackoff, defaultBackoff, type BackoffOptions } from './backoff.js';
import { StoryFollow } from './story-follow.js';
import {
  LiveClientError,
  type ConnectOptions,
  type FetchLike,
  type Follow,
  type FollowHandlers,
  type FollowOptions,
  type LiveConnection,
  type LiveStatus,
  type WebSocketConstructor,
  type WebSocketLike,
} from './types.js';
import { isUpdateId, storyIdPattern } from '../protocol/ids.js';

const openState = 1;
const policyViolation = 1008;
/** Error codes after which subscribing again on the same socket can succeed. */
const retryableSubscribeCodes = new Set(['redis_unavailable', 'internal', 'shutting_down', 'rate_limited', 'node_story_limit']);

/** The HTTP base and the live endpoint of a service, from its base URL (http(s):// or ws(s)://, relative in a page). */
export function serviceEndpoints(url: string): { httpBase: string; liveUrl: string } {
  const base = new URL(url, (globalThis as { location?: { href: string } }).location?.href);
  if (!/^(https?|wss?):$/.test(base.protocol)) throw new TypeError(`stoppress/client: "${url}" is not an http(s) or ws(s) URL`);
  const secure = base.protocol === 'https:' || base.protocol === 'wss:';
  const path = base.pathname.replace(/\/+$/, '');
  return {
    httpBase: `${secure ? 'https' : 'http'}://${base.host}${path}`,
    liveUrl: `${secure ? 'wss' : 'ws'}://${base.host}${path}/v1/live`,
  };
}

interface NetworkEvents {
  addEventListener(type: 'online' | 'offline', listener: () => void): void;
  removeEventListener(type: 'online' | 'offline', listener: () => void): void;
}

/** The browser's window when it reports connectivity (`navigator.onLine` and `online`/`offline` events). */
function networkEvents(): NetworkEvents | undefined {
  const global = globalThis as { navigator?: { onLine?: unknown }; addEventListener?: unknown; removeEventListener?: unknown };
  if (typeof global.navigator?.onLine !== 'boolean' || typeof global.addEventListener !== 'function' || typeof global.removeEventListener !== 'function') return undefined;
  return global as unknown as NetworkEvents;
}

function browserOffline(): boolean {
  return (globalThis as { navigator?: { onLine?: unknown } }).navigator?.onLine === false;
}

/**
 * One socket for many followed stories. Owns the socket's life (open, drop, backoff, reconnect) and routes
 * frames to each story's StoryFollow, which owns the delivery guarantees.
 */
export class LiveClient implements LiveConnection {
  readonly #WebSocket: WebSocketConstructor;
  readonly #fetch: FetchLike | undefined;
  readonly #endpoints: { httpBase: string; liveUrl: string };
  readonly #backoff: BackoffOptions;
  readonly #random: () => number;
  readonly #keptLimit: number;
  readonly #options: ConnectOptions;
  readonly #follows = new Map<string, StoryFollow>();
  /** Stories followed when the current socket opened that have no `subscribed` yet: `live` waits for them. */
  readonly #awaitingSubscribed = new Set<string>();
  readonly #storyTimers = new Set<ReturnType<typeof setTimeout>>();
  readonly #fetches = new Set<AbortController>();
  readonly #network: NetworkEvents | undefined;
  #status: LiveStatus = 'connecting';
  #ws: WebSocketLike | undefined;
  #everOpened = false;
  #closed = false;
  #waitingForNetwork = false;
  #attempts = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Sends a fresh token before the current one expires; cancelled with the socket. */
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(url: string, options: ConnectOptions = {}) {
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketImpl) {
      throw new TypeError(
        "stoppress/client: no WebSocket implementation. Node 20 has no global WebSocket: install 'ws' and pass it, " +
          "import { WebSocket } from 'ws'; connect(url, { WebSocket })",
      );
    }
    this.#WebSocket = WebSocketImpl;
    const globalFetch = (globalThis as { fetch?: FetchLike }).fetch;
    this.#fetch = options.fetch ?? (globalFetch ? (input, init) => globalFetch(input, init) : undefined);
    this.#endpoints = serviceEndpoints(url);
    this.#backoff = {
      minDelayMs: options.minDelayMs ?? defaultBackoff.minDelayMs,
      maxDelayMs: options.maxDelayMs ?? defaultBackoff.maxDelayMs,
      factor: options.factor ?? defaultBackoff.factor,
    };
    checkBackoff(this.#backoff);
    this.#random = options.random ?? Math.random;
    this.#keptLimit = options.keptUpdatesPerStory ?? 10_000;
    this.#options = options;
    this.#network = networkEvents();
    this.#network?.addEventListener('online', this.#windowOnOnline);
    this.#network?.addEventListener('offline', this.#windowOnOffline);
    if (this.#network && browserOffline()) {
      this.#waitingForNetwork = true;
      this.#setStatus('offline');
    } else {
      this.#open();
    }
  }

  get status(): LiveStatus {
    return this.#status;
  }

  follow(story: string, options: FollowOptions | undefined, handlers: FollowHandlers): Follow {
    if (this.#closed) throw new Error('stoppress/client: this connection is closed; connect() again');
    if (!storyIdPattern.test(story)) throw new TypeError(`stoppress/client: "${story}" is not a story id (1-64 of a-z, 0-9 and "-")`);
    const view = options?.view;
    if (view !== undefined && (typeof view !== 'object' || view === null || view.story !== story || !Array.isArray(view.updates))) {
      throw new TypeError(`stoppress/client: view is not the view of "${story}" (GET /v1/stories/${story})`);
    }
    // A seeded follow resumes after what the view shows; an empty story's view resumes from its very start.
    const since = options?.since ?? (view === undefined ? undefined : (view.lastId ?? '0-0'));
    if (since !== undefined && !isUpdateId(since)) throw new TypeError(`stoppress/client: since "${since}" is not an update id ("<ms>-<seq>")`);
    const resetLimit = options?.resetLimit;
    if (resetLimit !== undefined && !(Number.isInteger(resetLimit) && resetLimit >= 1 && resetLimit <= 1000)) {
      throw new TypeError(`stoppress/client: resetLimit ${String(resetLimit)} is not an integer from 1 to 1000`);
    }
    if (this.#follows.has(story)) throw new Error(`stoppress/client: "${story}" is already followed on this connection; unfollow it first`);

    const follow = new StoryFollow(story, since, handlers, {
      keptLimit: this.#keptLimit,
      reportError: this.#unhandledError,
      ...(resetLimit === undefined ? {} : { resetLimit }),
      ...(view === undefined ? {} : { seed: view.updates }),
    });
    this.#follows.set(story, follow);
    if (this.#ws?.readyState === openState) this.#subscribe(follow);
    queueMicrotask(() => follow.status(this.#status));
    return {
      story,
      get lastId() {
        return follow.lastId;
      },
      unfollow: () => this.#unfollow(follow),
    };
  }

  close(): void {
    if (this.#closed) return;
    const ws = this.#shutdown();
    for (const follow of this.#follows.values()) follow.stop();
    ws?.close(1000, 'closed by the application');
  }

  /** Stops for good: no reconnect, status `offline`. Returns the socket that was current, if any. */
  #shutdown(): WebSocketLike | undefined {
    this.#closed = true;
    this.#network?.removeEventListener('online', this.#windowOnOnline);
    this.#network?.removeEventListener('offline', this.#windowOnOffline);
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const ws = this.#detach();
    this.#setStatus('offline');
    return ws;
  }

  #open(): void {
    this.#reconnectTimer = undefined;
    const ws = new this.#WebSocket(this.#endpoints.liveUrl);
    this.#ws = ws;
    // Events of a socket that is no longer current (dropped, replaced) are ignored.
    ws.addEventListener('open', () => {
      if (ws === this.#ws) this.#socketOnOpen();
    });
    ws.addEventListener('message', (event) => {
      if (ws === this.#ws) this.#socketOnMessage(event.data);
    });
    ws.addEventListener('close', (event) => {
      if (ws === this.#ws) this.#socketOnClose(event.code, event.reason);
    });
    // A close event follows every error; the listener keeps `ws` (an EventEmitter) from throwing.
    ws.addEventListener('error', () => undefined);
  }

  #socketOnOpen(): void {
    if (this.#options.token !== undefined) {
      // Frames are handled in order: the auth frame goes first, so every subscribe after it is covered.
      const ws = this.#ws!;
      void this.#sendToken(ws).then((sent) => {
        if (sent && ws === this.#ws) this.#subscribeAll();
      });
      return;
    }
    this.#subscribeAll();
  }

  /** Sends an `auth` frame with a fresh token on `ws`; false when the socket went meanwhile or the token could not be had. */
  async #sendToken(ws: WebSocketLike): Promise<boolean> {
    const source = this.#options.token!;
    let token: string;
    try {
      token = typeof source === 'string' ? source : await source();
    } catch (error) {
      this.#unhandledError(new LiveClientError('server_error', `could not get a subscriber token: ${error instanceof Error ? error.message : String(error)}`, { serverCode: 'token_required' }));
      return false;
    }
    if (ws !== this.#ws || ws.readyState !== openState) return false;
    ws.send(JSON.stringify({ type: 'auth', token }));
    return true;
  }

  /** `authenticated`: schedules the next token a minute (at most a tenth of the lifetime left) before expiry. */
  #tokenAccepted(expiresAt: string): void {
    clearTimeout(this.#refreshTimer);
    const leftMs = Date.parse(expiresAt) - Date.now();
    if (!(leftMs > 0) || typeof this.#options.token === 'string') return;
    const ws = this.#ws;
    this.#refreshTimer = setTimeout(() => {
      if (ws && ws === this.#ws) void this.#sendToken(ws);
    }, Math.max(0, leftMs - Math.min(60_000, leftMs / 10)));
  }

  #subscribeAll(): void {
    this.#everOpened = true;
    this.#awaitingSubscribed.clear();
    for (const follow of this.#follows.values()) {
      if (follow.phase === 'failed') continue;
      this.#awaitingSubscribed.add(follow.story);
      this.#subscribe(follow);
    }
    this.#checkLive();
  }

  #socketOnMessage(data: unknown): void {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(data)) as ServerFrame;
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    switch (frame.type) {
      case 'update':
        this.#follows.get(frame.story)?.receive(frame.update);
        return;
      case 'story':
        this.#follows.get(frame.story)?.receive(frame.change);
        return;
      case 'subscribed': {
        const follow = this.#follows.get(frame.story);
        if (!follow || follow.phase !== 'subscribing') return;
        if (follow.subscribed(frame)) void this.#reset(follow, frame.lastId);
        this.#awaitingSubscribed.delete(frame.story);
        this.#checkLive();
        return;
      }
      case 'error':
        this.#serverOnError(frame.code, frame.message, frame.story);
        return;
      case 'authenticated':
        this.#tokenAccepted(frame.expiresAt);
        return;
      default:
        return;
    }
  }

  #serverOnError(code: string, message: string, story: string | undefined): void {
    const follow = story === undefined ? undefined : this.#follows.get(story);
    // The server ended (or refused) a private story's subscription for want of a valid token: with a token
    // source, get a fresh one and subscribe again from the last id seen.
    if (follow && this.#options.token !== undefined && typeof this.#options.token !== 'string' && (code === 'token_expired' || code === 'token_required')) {
      const ws = this.#ws;
      this.#awaitingSubscribed.delete(follow.story);
      follow.phase = 'idle';
      if (ws) {
        void this.#sendToken(ws).then((sent) => {
          if (sent && ws === this.#ws && follow.phase === 'idle' && this.#follows.get(follow.story) === follow) this.#subscribe(follow);
        });
      }
      return;
    }
    if (!follow || follow.phase !== 'subscribing') {
      // `not_subscribed` answers an unsubscribe raced by a failed subscribe: nothing to tell.
      if (code !== 'not_subscribed') this.#unhandledError(new LiveClientError('server_error', message, { serverCode: code, ...(story ? { story } : {}) }));
      return;
    }
    this.#awaitingSubscribed.delete(follow.story);
    const willRetry = retryableSubscribeCodes.has(code);
    follow.phase = willRetry ? 'idle' : 'failed';
    follow.error(new LiveClientError('subscribe_failed', message, { story: follow.story, serverCode: code, willRetry }));
    if (willRetry) {
      const generation = follow.generation;
      this.#later(backoffDelay(follow.attempts++, this.#backoff, this.#random), () => {
        if (follow.generation === generation && follow.phase === 'idle' && this.#ws?.readyState === openState) this.#subscribe(follow);
      });
    }
    this.#checkLive();
  }

  #socketOnClose(code: number, reason: string): void {
    this.#detach();
    if (this.#closed) return;
    if (code === policyViolation) {
      this.#shutdown();
      this.#unhandledError(new LiveClientError('policy_violation', `the server closed the connection with 1008 (${reason || 'policy violation'}); not reconnecting`));
      return;
    }
    if (this.#network && browserOffline()) {
      this.#waitingForNetwork = true;
      this.#setStatus('offline');
      return;
    }
    this.#setStatus(this.#everOpened ? 'reconnecting' : 'connecting');
    this.#reconnectTimer = setTimeout(() => this.#open(), backoffDelay(this.#attempts++, this.#backoff, this.#random));
  }

  /** Forgets the current socket: its later events are ignored and every story must subscribe again. */
  #detach(): WebSocketLike | undefined {
    const ws = this.#ws;
    this.#ws = undefined;
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = undefined;
    this.#awaitingSubscribed.clear();
    for (const timer of this.#storyTimers) clearTimeout(timer);
    this.#storyTimers.clear();
    for (const controller of this.#fetches) controller.abort();
    this.#fetches.clear();
    for (const follow of this.#follows.values()) {
      follow.generation += 1;
      follow.abandonReset();
      if (follow.phase !== 'failed') follow.phase = 'idle';
    }
    return ws;
  }

  #subscribe(follow: StoryFollow): void {
    follow.phase = 'subscribing';
    this.#ws!.send(JSON.stringify(follow.subscribeFrame()));
  }

  #unfollow(follow: StoryFollow): void {
    if (this.#follows.get(follow.story) !== follow) return;
    this.#follows.delete(follow.story);
    const subscribedOnSocket = follow.phase === 'subscribing' || follow.phase === 'resetting' || follow.phase === 'live';
    follow.stop();
    if (subscribedOnSocket && this.#ws?.readyState === openState) this.#ws.send(JSON.stringify({ type: 'unsubscribe', story: follow.story }));
    if (this.#awaitingSubscribed.delete(follow.story)) this.#checkLive();
  }

  /** `recovered: false`: reloads the story, hands it to `reset`, then goes on with the live updates above its lastId. */
  async #reset(follow: StoryFollow, subscribedLastId: string | null): Promise<void> {
    const generation = follow.beginReset();
    const controller = new AbortController();
    this.#fetches.add(controller);
    let view: StoryView;
    try {
      view = await this.#loadView(follow.story, follow.resetLimit, controller.signal);
    } catch (error) {
      if (follow.generation !== generation) return;
      follow.abandonReset();
      follow.error(new LiveClientError('reset_failed', `could not reload "${follow.story}": ${error instanceof Error ? error.message : String(error)}`, { story: follow.story, willRetry: true, cause: error }));
      this.#later(backoffDelay(follow.attempts++, this.#backoff, this.#random), () => {
        if (follow.generation === generation) void this.#reset(follow, subscribedLastId);
      });
      return;
    } finally {
      this.#fetches.delete(controller);
    }
    if (follow.generation !== generation) return;
    follow.attempts = 0;
    follow.finishReset(view, subscribedLastId);
  }

  async #loadView(story: string, limit: number | undefined, signal: AbortSignal): Promise<StoryView> {
    if (!this.#fetch) throw new TypeError('no fetch implementation: pass { fetch } to connect()');
    const query = limit === undefined ? '' : `?limit=${limit}`;
    const response = await this.#fetch(`${this.#endpoints.httpBase}/v1/stories/${story}${query}`, { headers: { accept: 'application/json' }, signal });
    // A story without updates or metadata has no view: it is empty.
    if (response.status === 404) return { story, lastId: null, updates: [] };
    if (!response.ok) throw new Error(`GET /v1/stories/${story} answered ${response.status}`);
    return (await response.json()) as StoryView;
  }

  /** A story-level timer, cancelled when the socket goes. */
  #later(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#storyTimers.delete(timer);
      run();
    }, delayMs);
    this.#storyTimers.add(timer);
  }

  #checkLive(): void {
    if (this.#status === 'live' || this.#ws?.readyState !== openState || this.#awaitingSubscribed.size > 0) return;
    this.#attempts = 0;
    this.#setStatus('live');
  }

  #setStatus(status: LiveStatus): void {
    if (status === this.#status) return;
    this.#status = status;
    for (const follow of this.#follows.values()) follow.status(status);
    this.#options.onStatus?.(status);
  }

  readonly #unhandledError = (error: LiveClientError): void => {
    if (this.#options.onError) {
      this.#options.onError(error);
      return;
    }
    // Like an EventEmitter without an 'error' listener: surface what the client cannot get over rather than
    // lose it. Errors it retries on its own show in the status alone.
    if (!error.willRetry) {
      queueMicrotask(() => {
        throw error;
      });
    }
  };

  readonly #windowOnOffline = (): void => {
    if (this.#closed) return;
    this.#waitingForNetwork = true;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const ws = this.#detach();
    this.#setStatus('offline');
    ws?.close(1000, 'network offline');
  };

  readonly #windowOnOnline = (): void => {
    if (this.#closed || !this.#waitingForNetwork) return;
    this.#waitingForNetwork = false;
    this.#attempts = 0;
    this.#setStatus(this.#everOpened ? 'reconnecting' : 'connecting');
    this.#open();
  };
}
