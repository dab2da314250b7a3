import { updateJson, type StoredEntry } from '../store/story-store.js';

/** One stream entry ready to send: its id and the complete `update` frame, serialised once per process. */
export interface LiveEntry {
  readonly id: string;
  readonly frame: Buffer;
}

/** A local subscriber of one story (one socket's subscription). */
export interface HubSubscriber {
  /** New entries of the story, in stream order; `entries` is shared by every subscriber and must not be changed. */
  deliver(entries: readonly LiveEntry[]): void;
}

/** What the hub needs from the stream reader. */
export interface StorySource {
  activate(story: string): Promise<void>;
  deactivate(story: string): void;
}

/**
 * Story → local subscribers. Each new entry is serialised once into the bytes of its `update` frame and the
 * same Buffer goes to every subscriber of the story: no per-subscriber JSON and no per-subscriber Redis call.
 */
export class Hub {
  readonly #subscribers = new Map<string, Set<HubSubscriber>>();
  #source: StorySource | undefined;

  /** Connects the hub to its stream reader (they reference each other, so this is set after both exist). */
  attach(source: StorySource): void {
    this.#source = source;
  }

  /**
   * Registers `subscriber` for `story` and resolves once the stream reader follows the story: from then on
   * every new entry reaches the subscriber. Entries already in the stream are the subscription's backlog.
   */
  async add(story: string, subscriber: HubSubscriber): Promise<void> {
    let set = this.#subscribers.get(story);
    if (!set) this.#subscribers.set(story, (set = new Set()));
    set.add(subscriber);
    try {
      await this.#source!.activate(story);
    } catch (error) {
      this.remove(story, subscriber);
      throw error;
    }
  }

  /** Unregisters; the reader stops following a story with no local subscriber left. */
  remove(story: string, subscriber: HubSubscriber): void {
    const set = this.#subscribers.get(story);
    if (!set?.delete(subscriber) || set.size > 0) return;
    this.#subscribers.delete(story);
    this.#source!.deactivate(story);
  }

  /** The stream reader's listener: frames each entry once and hands the same bytes to every subscriber. */
  readonly publish = (story: string, entries: readonly StoredEntry[]): void => {
    const set = this.#subscribers.get(story);
    if (!set || set.size === 0) return;
    const live = entries.map(({ id, data }) => ({
      id,
      frame: Buffer.from(`{"type":"update","story":"${story}","update":${updateJson(story, id, data)}}`),
    }));
    for (const subscriber of set) subscriber.deliver(live);
  };

  /** Local subscriber count of a story (for tests and metrics). */
  subscriberCount(story: string): number {
    return this.#subscribers.get(story)?.size ?? 0;
  }
}
