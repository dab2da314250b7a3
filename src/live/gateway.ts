import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { closeCodes } from '../protocol/errors.js';
import type { ServiceMetrics } from '../metrics.js';
import type { TokenVerifier } from '../access/subscriber-token.js';
import type { StoryStore } from '../store/story-store.js';
import type { Hub } from './hub.js';
import { rawSocketOf } from './frame.js';
import { Heartbeat } from './heartbeat.js';
import { LiveConnection, type ConnectionContext } from './live-connection.js';

export interface GatewayOptions {
  hub: Hub;
  store: StoryStore;
  logger: Logger;
  /** Counts slow-consumer closes and refused frames. */
  metrics?: ServiceMetrics;
  /** Path of the WebSocket endpoint. @default "/v1/live" */
  path?: string;
  /**
   * Origins allowed to open a socket from a browser, besides the service's own; `*` for any. Requests without
   * Origin (servers) pass.
   */
  allowedOrigins: readonly string[];
  /**
   * The service's own origin (PUBLIC_URL's): its live blog page and desk open their sockets from it, so it is
   * accepted whatever ALLOWED_ORIGINS lists. A browser sets Origin itself, so a page elsewhere cannot pass as it.
   */
  ownOrigin: string;
  /** Largest inbound frame; a larger one closes the socket with 1009. @default 4096 */
  maxFrameBytes: number;
  maxSubscriptions: number;
  /** The one bound on everything a socket has pending; past it the socket is closed with 1013. */
  maxBufferedBytes: number;
  /** How long a paced backlog waits for a full socket to drain before closing it with 1013. @default 5000 */
  drainTimeoutMs: number;
  /** Subscribe/unsubscribe frames per second per socket (token bucket refill). */
  subscribeRate: number;
  /** Subscribe/unsubscribe frames a socket may send at once (token bucket size). */
  subscribeBurst: number;
  /** Ping interval; a peer that misses two pongs is terminated. @default 25000 */
  heartbeatMs: number;
  /** Verifies subscriber tokens (`auth` frames, `token` on subscribe); undefined when none is configured. */
  verifyToken?: TokenVerifier | undefined;
}

/**
 * The WebSocket endpoint: `ws` in noServer mode behind the HTTP server's `upgrade` event, so that path,
 * Origin and shutdown checks run before the handshake. permessage-deflate is off (it costs CPU and memory per
 * socket and breaks send-the-same-bytes-to-everyone).
 */
export class Gateway {
  readonly #options: GatewayOptions;
  readonly #wss: WebSocketServer;
  readonly #connections = new Map<WebSocket, LiveConnection>();
  readonly #log: Logger;
  readonly #heartbeat: Heartbeat<LiveConnection>;
  readonly #connectionContext: ConnectionContext;
  #closing = false;
  /** Numbers sockets in the connect and close log lines, so the two can be paired. */
  #accepted = 0;

  constructor(options: GatewayOptions) {
    this.#options = options;
    this.#log = options.logger.child({ component: 'live' });
    this.#heartbeat = new Heartbeat(options.heartbeatMs);
    this.#connectionContext = {
      hub: options.hub,
      store: options.store,
      log: this.#log,
      metrics: options.metrics,
      maxSubscriptions: options.maxSubscriptions,
      maxBufferedBytes: options.maxBufferedBytes,
      drainTimeoutMs: options.drainTimeoutMs,
      subscribeRate: options.subscribeRate,
      subscribeBurst: options.subscribeBurst,
      backlogPageSize: 20,
      maxBadFrames: 20,
      badFrameWindowMs: 10_000,
      verifyToken: options.verifyToken,
    };
    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: options.maxFrameBytes,
      clientTracking: false,
    });
  }

  /** Takes over `upgrade` requests of `server` and starts the heartbeat. */
  attach(server: Server): void {
    server.on('upgrade', this.#serverOnUpgrade);
    this.#heartbeat.start();
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Story subscriptions over every open socket (walks the connections: for scrapes, not the hot path). */
  get subscriptionCount(): number {
    let count = 0;
    for (const connection of this.#connections.values()) count += connection.subscriptionCount;
    return count;
  }

  /** Refuses new sockets and closes every open one with 1001, so clients resume on another node. */
  closeAll(): void {
    this.#closing = true;
    this.#heartbeat.stop();
    for (const connection of this.#connections.values()) connection.close(closeCodes.goingAway, 'server shutting down: reconnect and resume with since');
  }

  /** Resolves once every socket has closed, or after `timeoutMs` (remaining ones are terminated). */
  async drained(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#connections.size > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const [ws] = this.#connections.keys();
        ws!.once('close', () => resolve());
        setTimeout(resolve, Math.max(0, deadline - Date.now())).unref();
      });
    }
    for (const ws of this.#connections.keys()) ws.terminate();
  }

  readonly #serverOnUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== (this.#options.path ?? '/v1/live')) return refuseUpgrade(socket, 404, 'Not Found');
    if (this.#closing) return refuseUpgrade(socket, 503, 'Service Unavailable');
    const origin = request.headers.origin;
    if (origin !== undefined && origin.toLowerCase() !== this.#options.ownOrigin && !this.#originAllowed(origin)) {
      this.#log.info({ origin }, 'websocket origin refused');
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#accept(ws));
  };

  #originAllowed(origin: string): boolean {
    const allowed = this.#options.allowedOrigins;
    return allowed.includes('*') || allowed.includes(origin);
  }

  #accept(ws: WebSocket): void {
    const socket = rawSocketOf(ws);
    if (!socket) {
      this.#log.error('ws does not expose its socket: live delivery needs updating for this ws version');
      ws.terminate();
      return;
    }
    const connection = new LiveConnection(ws, socket, this.#connectionContext);
    this.#connections.set(ws, connection);
    this.#heartbeat.add(connection);
    const conn = ++this.#accepted;
    const openedAt = Date.now();
    this.#log.debug({ conn, remote: socket.remoteAddress }, 'websocket connected');
    ws.once('close', (code: number) => {
      this.#connections.delete(ws);
      this.#heartbeat.remove(connection);
      this.#log.debug({ conn, code, ms: Date.now() - openedAt }, 'websocket closed');
    });
  }
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
