/** Something that is pinged once per heartbeat interval. */
export interface Beating {
  /** Its beat is due. */
  heartbeat(): void;
  /**
   * Called one tick after `heartbeat()` (at once when there is a single slot): a member that holds its ping back
   * to send it with its next write sends it now if no write has carried it. Members that send at once omit it.
   */
  flushHeartbeat?(): void;
}

/**
 * Pings every member once per `intervalMs`, spread over the interval: members are dealt round-robin into
 * slots and one slot is pinged per tick. Pinging ten thousand sockets at once stalls the event loop for tens
 * of milliseconds, which shows up as a latency spike for every update in flight at that moment.
 * A member may send its ping with its next write within one tick (see Beating.flushHeartbeat): on a busy
 * socket that saves the ping its own system call.
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
    const slots = this.#slots;
    this.#timer = setInterval(() => {
      const current = this.#next;
      for (const member of slots[current]!) member.heartbeat();
      // The slot beaten one tick ago (this one again when there is only one slot).
      for (const member of slots[(current + slots.length - 1) % slots.length]!) member.flushHeartbeat?.();
      this.#next = (current + 1) % slots.length;
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
