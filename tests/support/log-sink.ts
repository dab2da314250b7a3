import { Writable } from 'node:stream';

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** A pino destination that keeps every JSON line and lets a test wait for one: tests wait on events, never on sleeps. */
export class LogSink extends Writable {
  readonly lines: LogLine[] = [];
  raw = '';
  #waiters: { check: () => boolean; resolve: () => void }[] = [];

  constructor() {
    super({
      write: (chunk: Buffer, _encoding, done) => {
        this.raw += chunk.toString();
        for (const line of chunk.toString().split('\n').filter(Boolean)) this.lines.push(JSON.parse(line) as LogLine);
        this.#waiters = this.#waiters.filter((waiter) => !(waiter.check() && (waiter.resolve(), true)));
        done();
      },
    });
  }

  /** Resolves once `check` holds over the lines written so far. */
  waitFor(check: (lines: readonly LogLine[]) => boolean, timeoutMs = 15_000): Promise<void> {
    if (check(this.lines)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`log line not seen within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({ check: () => check(this.lines), resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Lines with this message (and these fields). */
  find(msg: string, fields: Record<string, unknown> = {}): LogLine[] {
    return this.lines.filter((line) => line.msg === msg && Object.entries(fields).every(([k, v]) => line[k] === v));
  }
}
