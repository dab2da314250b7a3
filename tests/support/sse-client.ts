import { ConditionWaiters } from './condition-waiters.js';

/** One parsed Server-Sent Event (or comment). */
export interface SseEvent {
  event: string;
  id?: string;
  data: string;
  comment?: string;
}

/** Reads a text/event-stream with fetch and records every event and comment; tests wait on them, never on sleeps. */
export class SseTestClient {
  readonly events: SseEvent[] = [];
  readonly response: Response;
  readonly ended: Promise<void>;
  readonly #conditions = new ConditionWaiters(() => `${this.events.length} events`);
  #controller: AbortController;

  private constructor(response: Response, controller: AbortController) {
    this.response = response;
    this.#controller = controller;
    this.ended = this.#read().catch(() => undefined).finally(() => this.#conditions.check());
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseTestClient> {
    const controller = new AbortController();
    const response = await fetch(url, { headers, signal: controller.signal });
    return new SseTestClient(response, controller);
  }

  updateIds(): string[] {
    return this.events.filter((e) => e.event === 'update').map((e) => e.id!);
  }

  waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
    return this.#conditions.waitFor(check, timeoutMs);
  }

  close(): void {
    this.#controller.abort();
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of this.response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = { event: 'message', data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) event.comment = line.slice(1).trim();
          else if (line.startsWith('id: ')) event.id = line.slice(4);
          else if (line.startsWith('event: ')) event.event = line.slice(7);
          else if (line.startsWith('data: ')) event.data += line.slice(6);
          else if (line.startsWith('retry: ')) event.event = 'retry';
        }
        this.events.push(event);
        this.#conditions.check();
      }
    }
  }

}
