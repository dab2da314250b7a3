import type { Logger } from 'pino';
import type { UpdateInput } from '../protocol/update.js';
import type { StoryStore } from '../store/story-store.js';
import { demoEntries, demoLiveFrom, demoMeta, demoStoryId, type DemoEntry } from './demo-story.js';

/** The demo entry as an API input, its `…Ref` fields resolved to the ids the earlier entries got. */
export function demoInput(entry: DemoEntry, idsByRef: ReadonlyMap<string, string>): UpdateInput {
  const resolve = (ref: string): string => {
    const id = idsByRef.get(ref);
    if (id === undefined) throw new Error(`demo entry "${entry.ref}" refers to "${ref}", which is not loaded`);
    return id;
  };
  if (entry.kind === 'correction') {
    const { ref: _ref, correctsRef, ...rest } = entry;
    return { ...rest, corrects: resolve(correctsRef) };
  }
  const { ref: _ref, inReplyToRef, ...rest } = entry;
  if (rest.kind === 'statement') return rest as UpdateInput;
  return { ...rest, kind: 'reaction', ...(inReplyToRef === undefined ? {} : { inReplyTo: resolve(inReplyToRef) }) };
}

/**
 * Loads and replays the demo story. Every append carries the idempotency key `demo-<ref>`, so two nodes
 * starting at once, or a restart, never append an entry twice.
 */
export class DemoStory {
  readonly #store: StoryStore;
  readonly #log: Logger;
  readonly #idsByRef = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(store: StoryStore, log: Logger) {
    this.#store = store;
    this.#log = log.child({ component: 'demo', story: demoStoryId });
  }

  /** Loads the story's metadata and its first entries when the story is absent. Returns whether it loaded them. */
  async loadIfAbsent(): Promise<boolean> {
    if ((await this.#store.lastId(demoStoryId)) !== null) return false;
    await this.#store.putMeta(demoStoryId, demoMeta);
    for (const entry of demoEntries.slice(0, demoLiveFrom)) await this.#append(entry);
    this.#log.info({ updates: demoLiveFrom }, 'demo story loaded');
    return true;
  }

  /** Appends the remaining entries one every `intervalMs`, so that a newcomer sees the page move. */
  replay(intervalMs: number): void {
    let next = demoLiveFrom;
    const tick = (): void => {
      const entry = demoEntries[next];
      if (!entry) {
        this.#log.info('demo replay finished');
        return;
      }
      this.#append(entry)
        .then(() => (next += 1))
        .catch((error: unknown) => this.#log.warn({ err: error, ref: entry.ref }, 'demo append failed; retrying'))
        .finally(() => {
          if (this.#timer) this.#timer = setTimeout(tick, intervalMs).unref();
        });
    };
    this.#timer = setTimeout(tick, intervalMs).unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #append(entry: DemoEntry): Promise<void> {
    const { id } = await this.#store.append(demoStoryId, demoInput(entry, this.#idsByRef), `demo-${entry.ref}`);
    this.#idsByRef.set(entry.ref, id);
  }
}
