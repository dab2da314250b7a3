import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { StoppressError } from '../protocol/errors.js';
import type { StoryStore } from '../store/story-store.js';
import { Heartbeat } from './heartbeat.js';
import type { Hub } from './hub.js';
import { sseRetry } from './sse-events.js';
import { SseStream, type SseContext } from './sse-stream.js';

export interface SseStreamsOptions {
  hub: Hub;
  store: StoryStore;
  logger: Logger;
  /** The same bound as sockets (WS_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number;
  drainTimeoutMs: number;
  /** Heartbeat comment interval. @default 15000 (SSE_HEARTBEAT_MS) */
  heartbeatMs: number;
}

/** One SSE stream to open: the HTTP route has checked the story id, the resume id and access, and written nothing yet. */
export interface SseOpenRequest {
  story: string;
  /** Last-Event-ID (header or query): resume after it; "0-0" for the whole retained history; undefined for live from now. */
  lastEventId: string | undefined;
  response: ServerResponse;
  /** Headers the HTTP layer set (CORS, Vary, Cache-Control, request id). */
  headers: Record<string, string | string[]>;
  /** End the stream then (the token that opened it expires), or undefined for a public story. */
  expiresAtMs: number | undefined;
}

/**
 * The node's Server-Sent Events streams: each follows its story through the hub like a socket (StorySubscription),
 * gets a heartbeat comment every `heartbeatMs`, and is ended on shutdown.
 */
export class SseStreams {
  readonly #context: SseContext;
  readonly #heartbeat: Heartbeat<SseStream>;
  readonly #streams = new Set<SseStream>();
  readonly #log: Logger;

  constructor(options: SseStreamsOptions) {
    this.#log = options.logger.child({ component: 'sse' });
    this.#context = {
      hub: options.hub,
      store: options.store,
      backlogPageSize: 20,
      maxBufferedBytes: options.maxBufferedBytes,
      drainTimeoutMs: options.drainTimeoutMs,
      onSlow: (reason) => this.#log.info({ reason }, 'closing slow SSE consumer'),
    };
    this.#heartbeat = new Heartbeat(options.heartbeatMs);
    this.#heartbeat.start();
  }

  get count(): number {
    return this.#streams.size;
  }

  /** Writes the event-stream headers and starts the subscription. Errors after the headers end the stream with an `end` event. */
  open({ story, lastEventId, response, headers, expiresAtMs }: SseOpenRequest): void {
    const socket = response.socket;
    if (!socket) return;
    response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    response.write(sseRetry);
    socket.setNoDelay(true);
    const stream = new SseStream(story, response, socket, this.#context);
    this.#streams.add(stream);
    this.#heartbeat.add(stream);
    void stream.closed.then(() => {
      this.#streams.delete(stream);
      this.#heartbeat.remove(stream);
    });
    if (expiresAtMs !== undefined) stream.expireAt(expiresAtMs);
    stream.start(lastEventId).catch((error: unknown) => {
      const known = error instanceof StoppressError ? error : undefined;
      if (!known) this.#log.error({ err: error, story }, 'SSE subscribe failed');
      stream.end(known?.code ?? 'internal', known?.message ?? 'subscribe failed');
    });
  }

  /** Ends every stream (shutdown): EventSource reconnects, to another node, with Last-Event-ID. */
  closeAll(): void {
    this.#heartbeat.stop();
    for (const stream of this.#streams) stream.end('shutting_down', 'this node is shutting down: reconnect and resume');
  }
}
