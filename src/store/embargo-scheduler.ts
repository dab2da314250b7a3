import type { Logger } from 'pino';
import type { StoryStore } from './story-store.js';

export interface EmbargoSchedulerOptions {
  /** How often each node looks for due embargoes (one ZRANGEBYSCORE). @default 1000 (EMBARGO_POLL_MS) */
  pollMs: number;
  log?: Logger;
}

/** Due embargoes handled per poll; more wait for the next one. */
const batchSize = 100;

/**
 * Runs on every node and makes embargoed stories public when their time comes, with no publisher action. Each
 * node polls the due set; the switch itself is claimed in the story's slot by a script that flips the story
 * only if it is still embargoed and due, so it happens once whichever nodes run (and still happens when some
 * are down). Reads do not wait for it: a story is readable from its `embargoUntil` on every node (see
 * access/story-access.ts); the switch records it and moves the story's version.
 */
export class EmbargoScheduler {
  readonly #store: StoryStore;
  readonly #options: EmbargoSchedulerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  /** Switches this node claimed (for tests and metrics). */
  released = 0;

  constructor(store: StoryStore, options: EmbargoSchedulerOptions) {
    this.#store = store;
    this.#options = options;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  /** Stops polling and waits for a poll in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.poll().finally(() => {
        this.#running = undefined;
        this.#schedule();
      });
    }, this.#options.pollMs);
    this.#timer.unref();
  }

  /** One round: claims every due embargo. Errors (Redis down) are logged; the next round retries. */
  async poll(nowMs = Date.now()): Promise<void> {
    try {
      for (const { story, dueMs } of await this.#store.dueEmbargoes(nowMs, batchSize)) {
        const outcome = await this.#store.releaseEmbargo(story, nowMs);
        if (outcome === 'released') {
          this.released += 1;
          this.#options.log?.info({ story }, 'embargo lifted: the story is public');
        }
        if (outcome !== 'not_due') await this.#store.forgetEmbargo(story, dueMs);
      }
    } catch (error) {
      this.#options.log?.warn({ err: error instanceof Error ? error.message : String(error) }, 'embargo poll failed; retrying');
    }
  }
}
