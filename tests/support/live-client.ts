import { WebSocket } from 'ws';
import { ConditionWaiters } from './condition-waiters.js';

export interface ServerFrameLike {
  type: string;
  story?: string;
  lastId?: string | null;
  recovered?: boolean;
  code?: string;
  message?: string;
  update?: { id: string; story: string; kind: string; text?: string };
}

/**
 * A WebSocket test client that records every frame and lets a test wait for a condition on them: tests wait on
 * events, never on sleeps.
 */
export class LiveTestClient {
  readonly ws: WebSocket;
  readonly frames: ServerFrameLike[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #conditions = new ConditionWaiters(() => `${this.frames.length} frames`);

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers, perMessageDeflate: false });
    this.ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as ServerFrameLike);
      this.#conditions.check();
    });
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      this.#conditions.check();
    }));
    this.ws.on('error', () => undefined);
  }

  static async connect(url: string, headers: Record<string, string> = {}): Promise<LiveTestClient> {
    const client = new LiveTestClient(url, headers);
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', () => resolve());
      client.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      client.ws.once('error', reject);
    });
    return client;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Subscribes and resolves with the `subscribed` frame. */
  async subscribe(story: string, since?: string): Promise<ServerFrameLike> {
    const before = this.frames.length;
    this.send({ type: 'subscribe', story, ...(since === undefined ? {} : { since }) });
    await this.waitFor(() => this.frames.slice(before).some((f) => (f.type === 'subscribed' || f.type === 'error') && f.story === story));
    return this.frames.slice(before).find((f) => (f.type === 'subscribed' || f.type === 'error') && f.story === story)!;
  }

  /** Update ids received for a story, in arrival order. */
  updateIds(story: string): string[] {
    return this.frames.filter((f) => f.type === 'update' && f.story === story).map((f) => f.update!.id);
  }

  /** Resolves when `check` holds (checked on every frame and on close); rejects after `timeoutMs`. */
  waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
    return this.#conditions.waitFor(check, timeoutMs);
  }

  close(): void {
    this.ws.close();
  }

}

/** The ws:// URL of a service's live endpoint. */
export function liveUrl(httpUrl: string): string {
  return `${httpUrl.replace(/^http/, 'ws')}/v1/live`;
}
