/**
 * Conditions a test waits on, checked again on every event of a test client (a frame, an SSE event, a close):
 * tests wait on events, never on sleeps.
 */
export class ConditionWaiters {
  #waiters: { check: () => boolean; resolve: () => void }[] = [];
  readonly #describe: () => string;

  /** `describe` says what the client has seen so far, for the error of a wait that timed out. */
  constructor(describe: () => string) {
    this.#describe = describe;
  }

  /** Resolves when `check` holds (now, or after some event); rejects after `timeoutMs`. */
  waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`condition not met within ${timeoutMs} ms; ${this.#describe()}`)), timeoutMs);
      this.#waiters.push({ check, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Checks every waiting condition again; the client calls it on each event. */
  check(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }
}
