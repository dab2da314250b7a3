import { describe, expect, it } from 'vitest';
import { Hub, type HubSubscriber, type LiveBatch, type StorySource } from '../../src/live/hub.js';

/** A stream reader stand-in whose activations the test resolves by hand. */
class ManualSource implements StorySource {
  readonly active = new Set<string>();
  readonly pending = new Map<string, () => void>();
  readonly #activations = new Map<string, Promise<void>>();

  /** Concurrent activations of one story share one promise, as the stream reader's do. */
  activate(story: string): Promise<void> {
    let activation = this.#activations.get(story);
    if (!activation) {
      activation = new Promise((resolve) =>
        this.pending.set(story, () => {
          this.active.add(story);
          this.#activations.delete(story);
          resolve();
        }),
      );
      this.#activations.set(story, activation);
    }
    return activation;
  }

  deactivate(story: string): void {
    this.active.delete(story);
  }

  cursor(story: string): string | undefined {
    return this.active.has(story) ? '0-0' : undefined;
  }
}

const recorder = (): HubSubscriber & { batches: LiveBatch[] } => {
  const batches: LiveBatch[] = [];
  return { batches, deliver: (batch) => batches.push(batch) };
};

describe('the hub', () => {
  it('stops reading a story whose only subscriber left while its activation was in flight', async () => {
    const source = new ManualSource();
    const hub = new Hub();
    hub.attach(source);
    const subscriber = recorder();
    const adding = hub.add('s', subscriber);
    hub.remove('s', subscriber);
    source.pending.get('s')!();
    await adding;
    expect(source.active.has('s')).toBe(false);
  });

  it('frames each entry once and hands the same bytes to every subscriber, in order', async () => {
    const source = new ManualSource();
    const hub = new Hub();
    hub.attach(source);
    const [a, b] = [recorder(), recorder()];
    const adding = Promise.all([hub.add('s', a), hub.add('s', b)]);
    source.pending.get('s')!();
    await adding;
    hub.publish('s', [
      { id: '1-0', data: '{"kind":"statement","occurredAt":"2022-02-15T10:00:00+03:00","text":"one"}' },
      { id: '1-1', data: '{"kind":"statement","occurredAt":"2022-02-15T10:00:00+03:00","text":"two"}' },
    ]);
    expect(a.batches).toHaveLength(1);
    expect(b.batches[0]).toBe(a.batches[0]);
    const batch = a.batches[0]!;
    expect(batch.entries.map((e) => e.id)).toEqual(['1-0', '1-1']);
    expect(batch.bytes.equals(Buffer.concat(batch.entries.map((e) => e.frame)))).toBe(true);
    // An unmasked text frame: FIN + opcode 1, then the JSON of the update frame.
    const first = batch.entries[0]!.frame;
    expect(first[0]).toBe(0x81);
    const payload = JSON.parse(first.subarray(first[1]! === 126 ? 4 : 2).toString());
    expect(payload).toMatchObject({ type: 'update', story: 's', update: { id: '1-0', story: 's', kind: 'statement', text: 'one', publishedAt: new Date(1).toISOString() } });
  });
});
