/** Something that is pinged once per heartbeat interval. */
export interface Beating {
  heartbeat(): void;
}

/**
 * Pings every member once per `intervalMs`, spread over the interval: members are dealt round-robin into
 * slots and one slot is pinged per tick. Pinging ten thousand sockets at once stalls the event loop for tens
 * of milliseconds, which shows up as a latency spike for every update in flight at that moment.
 */
export class Heartbeat<T extends Beating> {
  readonly #slots: Set<T>[];
  readonly #tickMs: number;
  #dealt = 0;
  #next = 0;
  #timer: NodeJS.Timeout | undefined;

  /** @param intervalMs how often each member is pinged. Slots: one per ~1 s of interval, at most 25, at least 1. */
  constructor(intervalMs: number) {
    const slotCount = Math.max(1, Math.min(25, Math.floor(intervalMs / 1_000)));
    this.#slots = Array.from({ length: slotCount }, () => new Set<T>());
    this.#tickMs = intervalMs / slotCount;
  }

  start(): void {
    this.#timer = setInterval(() => {
      for (const member of this.#slots[this.#next]!) member.heartbeat();
      this.#next = (this.#next + 1) % this.#slots.length;
    }, this.#tickMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  add(member: T): void {
    this.#slots[this.#dealt++ % this.#slots.length]!.add(member);
  }

  remove(member: T): void {
    for (const slot of this.#slots) if (slot.delete(member)) return;
  }
}
