import { readFileSync, readdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import {
  connect,
  serviceEndpoints,
  type FollowHandlers,
  type LiveClientError,
  type LiveStatus,
  type StoryChange,
  type StoryView,
  type Update,
  type ViewUpdate,
  type WebSocketConstructor,
} from '../../src/client/index.js';
import { compareUpdateIds } from '../../src/protocol/ids.js';
import type { RunningService } from '../../src/service.js';
import { freePort, startChildService, type ChildService } from '../support/child-service.js';
import { deletePrefix, post, publisherKey, redisUrl, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('client');
let service: RunningService;
let redis: Redis;
const children: ChildService[] = [];

beforeAll(async () => {
  // A long stream: the bursts below must never be trimmed (the trim case has its own service).
  service = await startTestService(prefix, { STREAM_MAXLEN: '1000000' });
  redis = new Redis(redisUrl);
});
afterAll(async () => {
  for (const child of children) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  await service.stop();
  await deletePrefix(prefix);
  redis.disconnect();
});
afterEach(() => {
  vi.unstubAllGlobals();
});

/** Re-checks waiting conditions whenever something happens: tests wait on events, never on sleeps. */
class Waiter {
  #waiters: { check: () => boolean; resolve: () => void }[] = [];

  poke = (): void => {
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  };

  waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not met within ${timeoutMs} ms: ${what}`)), timeoutMs);
      this.#waiters.push({ check, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

interface Delivered {
  story: string;
  update: Update;
  target?: ViewUpdate | undefined;
}

/** What the application saw, through the handlers. */
class Recorder extends Waiter {
  readonly delivered: Delivered[] = [];
  readonly resets: StoryView[] = [];
  readonly statuses: LiveStatus[] = [];
  readonly followStatuses = new Map<string, LiveStatus[]>();
  readonly errors: LiveClientError[] = [];

  handlers(story: string): FollowHandlers {
    this.followStatuses.set(story, []);
    return {
      update: (update) => this.#record({ story, update }),
      correction: (update, target) => this.#record({ story, update, target }),
      reset: (view) => {
        this.resets.push(view);
        this.poke();
      },
      status: (status) => {
        this.followStatuses.get(story)!.push(status);
        this.poke();
      },
      error: (error) => {
        this.errors.push(error);
        this.poke();
      },
    };
  }

  readonly onStatus = (status: LiveStatus): void => {
    this.statuses.push(status);
    this.poke();
  };

  readonly onError = (error: LiveClientError): void => {
    this.errors.push(error);
    this.poke();
  };

  ids(story: string): string[] {
    return this.delivered.filter((d) => d.story === story).map((d) => d.update.id);
  }

  count(status: LiveStatus): number {
    return this.statuses.filter((s) => s === status).length;
  }

  #record(delivered: Delivered): void {
    this.delivered.push(delivered);
    this.poke();
  }
}

/** A `ws` WebSocket that records its instances, so a test can cut the client's socket. */
function recordingWebSocket(waiter: Waiter): { WebSocket: WebSocketConstructor; instances: WebSocket[] } {
  const instances: WebSocket[] = [];
  class RecordingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, { perMessageDeflate: false });
      instances.push(this);
      waiter.poke();
    }
  }
  return { WebSocket: RecordingWebSocket, instances };
}

/** Cuts the TCP connection under a client socket, as a network drop does (the client sees 1006). */
function cut(ws: WebSocket | undefined): void {
  (ws as unknown as { _socket: Socket })._socket.destroy();
}

/** Publishes statements to a story with a few concurrent writers until stopped. */
function startPublisher(url: string, story: string, waiter: Waiter, writers = 2): { ids: string[]; stop(): Promise<void> } {
  let running = true;
  const ids: string[] = [];
  const writer = async (): Promise<void> => {
    while (running) {
      const response = await post(url, story, statement(`burst ${ids.length}`));
      expect(response.status).toBe(201);
      ids.push(response.body.id as string);
      waiter.poke();
    }
  };
  const done = Promise.all(Array.from({ length: writers }, writer));
  return {
    ids,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function streamIds(story: string, after = '-'): Promise<string[]> {
  return (await redis.xrange(`${prefix}story:{${story}}:updates`, after === '-' ? '-' : `(${after}`, '+')).map(([id]) => id);
}

const fastBackoff = { minDelayMs: 20, maxDelayMs: 200 };

describe('connect() against the real service', () => {
  it('follows two stories on one socket and delivers each in stream order', async () => {
    const rec = new Recorder();
    const sockets = recordingWebSocket(rec);
    const live = connect(service.url, { WebSocket: sockets.WebSocket, onStatus: rec.onStatus });
    live.follow('two-a', {}, rec.handlers('two-a'));
    live.follow('two-b', undefined, rec.handlers('two-b'));
    await rec.waitFor(() => live.status === 'live', 'live');
    expect(service.hub.subscriberCount('two-a')).toBe(1);
    expect(service.hub.subscriberCount('two-b')).toBe(1);

    // Concurrent POSTs to both stories: each story's stream order is what the application must see.
    await Promise.all(Array.from({ length: 30 }, (_, i) => post(service.url, i % 2 === 0 ? 'two-a' : 'two-b', statement(`${i}`))));
    await rec.waitFor(() => rec.delivered.length === 30, '30 updates');
    expect(rec.ids('two-a')).toEqual(await streamIds('two-a'));
    expect(rec.ids('two-b')).toEqual(await streamIds('two-b'));
    expect(sockets.instances).toHaveLength(1);
    live.close();
  });

  it('delivers every update exactly once, in stream order, when its socket drops mid-burst (twice)', async () => {
    const story = 'drop-burst';
    const since = (await post(service.url, story, statement('before'))).body.id as string;
    const rec = new Recorder();
    const sockets = recordingWebSocket(rec);
    const live = connect(service.url, { WebSocket: sockets.WebSocket, onStatus: rec.onStatus, ...fastBackoff });
    const follow = live.follow(story, { since }, rec.handlers(story));
    await rec.waitFor(() => live.status === 'live', 'live');

    const publisher = startPublisher(service.url, story, rec);
    for (let drop = 1; drop <= 2; drop++) {
      const seen = rec.ids(story).length;
      await rec.waitFor(() => rec.ids(story).length >= seen + 40, `40 more updates before drop ${drop}`);
      cut(sockets.instances.at(-1));
      await rec.waitFor(() => rec.count('live') === drop + 1, `live again after drop ${drop}`);
    }
    const seen = rec.ids(story).length;
    await rec.waitFor(() => rec.ids(story).length >= seen + 40, '40 more updates after the last drop');
    await publisher.stop();

    const expected = await streamIds(story, since);
    await rec.waitFor(() => rec.ids(story).at(-1) === expected.at(-1), 'the last update');
    expect(rec.ids(story)).toEqual(expected);
    expect(expected.length).toBeGreaterThanOrEqual(120);
    expect(sockets.instances).toHaveLength(3);
    expect(rec.resets).toHaveLength(0);
    expect(follow.lastId).toBe(expected.at(-1));
    live.close();
  });

  it('delivers every update exactly once, in stream order, across server restarts mid-burst (SIGTERM, then SIGKILL)', async () => {
    const story = 'restart-burst';
    const since = (await post(service.url, story, statement('before'))).body.id as string;
    const port = await freePort();
    const start = async (): Promise<ChildService> => {
      const child = await startChildService(prefix, {}, port);
      children.push(child);
      return child;
    };
    let node = await start();
    const rec = new Recorder();
    const sockets = recordingWebSocket(rec);
    const live = connect(node.url, { WebSocket: sockets.WebSocket, onStatus: rec.onStatus, ...fastBackoff });
    live.follow(story, { since }, rec.handlers(story));
    await rec.waitFor(() => live.status === 'live', 'live');

    // The publisher posts through the in-process node: the child that serves the client restarts under it.
    const publisher = startPublisher(service.url, story, rec);
    for (const [round, signal] of (['SIGTERM', 'SIGKILL'] as const).entries()) {
      const seen = rec.ids(story).length;
      await rec.waitFor(() => rec.ids(story).length >= seen + 40, `40 more updates before ${signal}`);
      node.process.kill(signal);
      await node.exited;
      await rec.waitFor(() => live.status === 'reconnecting', `reconnecting after ${signal}`);
      node = await start();
      await rec.waitFor(() => rec.count('live') === round + 2, `live again after ${signal}`);
    }
    const seen = rec.ids(story).length;
    await rec.waitFor(() => rec.ids(story).length >= seen + 40, '40 more updates after the last restart');
    await publisher.stop();

    const expected = await streamIds(story, since);
    await rec.waitFor(() => rec.ids(story).at(-1) === expected.at(-1), 'the last update');
    expect(rec.ids(story)).toEqual(expected);
    expect(rec.resets).toHaveLength(0);
    expect(sockets.instances.length).toBeGreaterThanOrEqual(3);
    live.close();
    node.process.kill('SIGTERM');
    await node.exited;
  });

  it('reloads the story and calls reset when the stream was trimmed past since (recovered: false), then goes on live without overlap', async () => {
    const trimPrefix = uniquePrefix('client-trim');
    const trimmed = await startTestService(trimPrefix, { STREAM_MAXLEN: '10' });
    try {
      const story = 'trimmed';
      const first = (await post(trimmed.url, story, statement('the first, soon trimmed'))).body.id as string;
      for (let batch = 0; batch < 13; batch++) {
        const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(trimmed.url, story, statement(`filler ${batch}-${i}`))));
        for (const answer of answers) expect(answer.status).toBe(201);
      }

      const rec = new Recorder();
      const publisher = startPublisher(trimmed.url, story, rec, 1);
      const atFollow = publisher.ids.length;
      // The reload waits until more updates were published, and again before it answers: live updates arrive
      // both before the view is read (the view has them: dropped) and after (delivered after reset).
      const slowFetch = async (url: string, init?: RequestInit): Promise<Response> => {
        await rec.waitFor(() => publisher.ids.length >= atFollow + 10, '10 updates before the reload');
        const response = await fetch(url, init);
        const reloadedAt = publisher.ids.length;
        await rec.waitFor(() => publisher.ids.length >= reloadedAt + 10, '10 updates during the reload');
        return response;
      };
      const live = connect(trimmed.url, { WebSocket, fetch: slowFetch, onStatus: rec.onStatus });
      const follow = live.follow(story, { since: first }, rec.handlers(story));
      await rec.waitFor(() => rec.resets.length === 1, 'reset');
      const view = rec.resets[0]!;
      expect(view.story).toBe(story);
      expect(view.updates.some((u) => u.id === first)).toBe(false);
      expect(view.updates.length).toBeGreaterThan(0);
      expect(view.lastId).toBe(view.updates.at(-1)!.id);

      const seen = rec.ids(story).length;
      await rec.waitFor(() => rec.ids(story).length >= seen + 15, '15 updates after reset');
      await publisher.stop();
      const published = [...publisher.ids].sort(compareUpdateIds);
      const expected = published.filter((id) => compareUpdateIds(id, view.lastId!) > 0);
      await rec.waitFor(() => rec.ids(story).at(-1) === published.at(-1), 'the last update');
      expect(rec.ids(story)).toEqual(expected);

      // A correction gets its target folded (the trimmed stream keeps only the newest entries: correct one of them).
      const target = rec.delivered.at(-1)!.update;
      const correction = await post(trimmed.url, story, { kind: 'correction', corrects: target.id, text: 'fixed text', note: 'Figure corrected.' });
      expect(correction.status).toBe(201);
      await rec.waitFor(() => rec.ids(story).at(-1) === correction.body.id, 'the correction');
      const delivered = rec.delivered.at(-1)!;
      expect(delivered.update).toMatchObject({ kind: 'correction', corrects: target.id });
      expect(delivered.target).toMatchObject({ id: target.id, text: 'fixed text', corrections: [{ id: correction.body.id, note: 'Figure corrected.' }] });
      expect(follow.lastId).toBe(correction.body.id);
      live.close();
    } finally {
      await trimmed.stop();
      await deletePrefix(trimPrefix);
    }
  });

  it('reports status connecting → live → reconnecting → live, then offline on close, to the connection and each follow', async () => {
    const rec = new Recorder();
    const sockets = recordingWebSocket(rec);
    const live = connect(service.url, { WebSocket: sockets.WebSocket, onStatus: rec.onStatus, ...fastBackoff });
    expect(live.status).toBe('connecting');
    live.follow('status-a', {}, rec.handlers('status-a'));
    live.follow('status-b', {}, rec.handlers('status-b'));
    await rec.waitFor(() => live.status === 'live', 'live');
    cut(sockets.instances[0]);
    await rec.waitFor(() => rec.count('live') === 2, 'live again');
    const closed = new Promise<number>((resolve) => sockets.instances[1]!.once('close', (code) => resolve(code)));
    live.close();
    expect(await closed).toBe(1000);

    const expected: LiveStatus[] = ['live', 'reconnecting', 'live', 'offline'];
    expect(rec.statuses).toEqual(expected);
    expect(rec.followStatuses.get('status-a')).toEqual(['connecting', ...expected]);
    expect(rec.followStatuses.get('status-b')).toEqual(['connecting', ...expected]);
    expect(sockets.instances).toHaveLength(2);
    expect(() => live.follow('status-c', {}, {})).toThrow(/closed/);
  });

  it('folds corrections into the target it delivered, and sends them to update when there is no correction handler', async () => {
    const story = 'corrections';
    const rec = new Recorder();
    const plain: Update[] = [];
    const live = connect(service.url, { WebSocket, onStatus: rec.onStatus });
    live.follow(story, {}, rec.handlers(story));
    const second = connect(service.url, { WebSocket, onStatus: rec.onStatus });
    second.follow(story, {}, { update: (u) => (plain.push(u), rec.poke()) });
    await rec.waitFor(() => rec.count('live') === 2, 'both live');

    const original = (await post(service.url, story, statement('exercises end on 20 January'))).body.id as string;
    const fix = (await post(service.url, story, { kind: 'correction', corrects: original, text: 'exercises end on 20 February', note: 'Date fixed.' })).body.id as string;
    const retraction = (await post(service.url, story, { kind: 'correction', corrects: original, retract: true, note: 'Withdrawn.' })).body.id as string;
    await rec.waitFor(() => rec.ids(story).length === 3 && plain.length === 3, 'three updates on both');

    const [, fixed, withdrawn] = rec.delivered;
    expect(fixed!.target).toMatchObject({ id: original, text: 'exercises end on 20 February', corrections: [{ id: fix, note: 'Date fixed.' }] });
    expect(withdrawn!.target).toMatchObject({ id: original, withdrawn: true, corrections: [{ id: fix }, { id: retraction, note: 'Withdrawn.', retract: true }] });
    expect(withdrawn!.target!.text).toBeUndefined();
    expect(plain.map((u) => u.id)).toEqual([original, fix, retraction]);
    live.close();
    second.close();
  });

  it('seeded with a (paged) view, hands corrections and withdrawals of the view\'s updates their target, and misses nothing after it', async () => {
    const story = 'seeded-view';
    const older = (await post(service.url, story, statement('an older update, off the page'))).body.id as string;
    const shown = (await post(service.url, story, statement('troops pulled back'))).body.id as string;
    const earlierFix = (await post(service.url, story, { kind: 'correction', corrects: shown, text: 'some troops pulled back', note: 'Scope.' })).body.id as string;
    const gone = (await post(service.url, story, statement('a claim to withdraw'))).body.id as string;
    const response = await fetch(`${service.url}/v1/stories/${story}?limit=2`, { headers: { accept: 'application/json' } });
    const view = (await response.json()) as StoryView;
    expect(view.updates.map((u) => u.id)).toEqual([shown, gone]);
    // Published after the read, before the follow: delivered, because the follow resumes after view.lastId.
    const between = (await post(service.url, story, statement('between the read and the follow'))).body.id as string;

    const rec = new Recorder();
    const live = connect(service.url, { WebSocket, onStatus: rec.onStatus });
    const follow = live.follow(story, { view }, rec.handlers(story));
    expect(follow.lastId).toBe(view.lastId);
    await rec.waitFor(() => live.status === 'live', 'live');
    const fix = (await post(service.url, story, { kind: 'correction', corrects: shown, text: 'a few troops pulled back', note: 'Fewer.' })).body.id as string;
    const retraction = (await post(service.url, story, { kind: 'correction', corrects: gone, retract: true, note: 'Not confirmed.' })).body.id as string;
    const offPage = (await post(service.url, story, { kind: 'correction', corrects: older, text: 'an older update, fixed', note: 'Typo.' })).body.id as string;
    await rec.waitFor(() => rec.ids(story).at(-1) === offPage, 'the three corrections');

    expect(rec.ids(story)).toEqual([between, fix, retraction, offPage]);
    const [, fixed, withdrawn, unseen] = rec.delivered;
    expect(fixed!.target).toMatchObject({ id: shown, text: 'a few troops pulled back', corrections: [{ id: earlierFix, note: 'Scope.' }, { id: fix, note: 'Fewer.' }] });
    expect(withdrawn!.target).toMatchObject({ id: gone, withdrawn: true, corrections: [{ id: retraction, note: 'Not confirmed.', retract: true }] });
    expect(withdrawn!.target!.text).toBeUndefined();
    // Not in the view it was seeded with: no target, as documented.
    expect(unseen!.target).toBeUndefined();
    // The view given was not changed by the folding.
    expect(view.updates[0]!.corrections).toHaveLength(1);
    live.close();
  });

  it('starts an empty story\'s seeded follow from its very beginning, and refuses another story\'s view', async () => {
    const story = 'seeded-empty';
    const response = await fetch(`${service.url}/v1/stories/${story}`, { headers: { accept: 'application/json' } });
    const view: StoryView = response.status === 404 ? { story, lastId: null, updates: [] } : ((await response.json()) as StoryView);
    const rec = new Recorder();
    const live = connect(service.url, { WebSocket, onStatus: rec.onStatus });
    expect(() => live.follow('another-story', { view }, {})).toThrow(/not the view of "another-story"/);
    const first = (await post(service.url, story, statement('the first update, before the follow'))).body.id as string;
    const follow = live.follow(story, { view }, rec.handlers(story));
    expect(follow.lastId).toBe('0-0');
    await rec.waitFor(() => rec.ids(story).length === 1, 'the first update');
    expect(rec.ids(story)).toEqual([first]);
    live.close();
  });

  it('hands story changes to the story handler (never to update), and resumes after them with since', async () => {
    const story = 'client-story-changes';
    const rec = new Recorder();
    const changes: StoryChange[] = [];
    const plain: Update[] = [];
    const sockets = recordingWebSocket(rec);
    const live = connect(service.url, { WebSocket: sockets.WebSocket, onStatus: rec.onStatus, ...fastBackoff });
    const follow = live.follow(story, {}, { ...rec.handlers(story), story: (c) => (changes.push(c), rec.poke()) });
    const older = connect(service.url, { WebSocket, onStatus: rec.onStatus });
    older.follow(story, {}, { update: (u) => (plain.push(u), rec.poke()) });
    await rec.waitFor(() => rec.count('live') === 2, 'both live');

    const first = (await post(service.url, story, statement('first'))).body.id as string;
    const meta = await fetch(`${service.url}/v1/stories/${story}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
      body: JSON.stringify({ title: 'Ended now', status: 'ended' }),
    });
    expect(meta.status).toBe(200);
    await rec.waitFor(() => changes.length === 1, 'the story change');
    expect(changes[0]).toMatchObject({ kind: 'story', story, meta: { title: 'Ended now', status: 'ended' } });
    expect(follow.lastId).toBe(changes[0]!.id);

    // After a drop the client resumes after the story change: it is not delivered again, the next update is.
    cut(sockets.instances[0]);
    await rec.waitFor(() => rec.count('live') === 3, 'live again');
    const second = (await post(service.url, story, statement('second'))).body.id as string;
    await rec.waitFor(() => rec.ids(story).length === 2 && plain.length === 2, 'second update on both');
    expect(rec.ids(story)).toEqual([first, second]);
    expect(plain.map((u) => u.id)).toEqual([first, second]);
    expect(changes).toHaveLength(1);
    live.close();
    older.close();
  });

  it('stops delivering a story after unfollow, on the same socket that keeps the others', async () => {
    const rec = new Recorder();
    const sockets = recordingWebSocket(rec);
    const live = connect(service.url, { WebSocket: sockets.WebSocket, onStatus: rec.onStatus });
    const a = live.follow('unfollow-a', {}, rec.handlers('unfollow-a'));
    live.follow('unfollow-b', {}, rec.handlers('unfollow-b'));
    await rec.waitFor(() => live.status === 'live', 'live');
    const a1 = (await post(service.url, 'unfollow-a', statement('a1'))).body.id;
    await rec.waitFor(() => rec.ids('unfollow-a').length === 1, 'a1');

    const frames: string[] = [];
    sockets.instances[0]!.on('message', (data) => (frames.push(String(data)), rec.poke()));
    a.unfollow();
    a.unfollow();
    await rec.waitFor(() => frames.some((f) => f.includes('"unsubscribed"')), 'unsubscribed');
    expect(service.hub.subscriberCount('unfollow-a')).toBe(0);
    await post(service.url, 'unfollow-a', statement('a2 (not wanted)'));
    const b1 = (await post(service.url, 'unfollow-b', statement('b1'))).body.id;
    await rec.waitFor(() => rec.ids('unfollow-b').length === 1, 'b1');
    expect(rec.ids('unfollow-a')).toEqual([a1]);
    expect(rec.ids('unfollow-b')).toEqual([b1]);

    // The story can be followed again on the same connection.
    live.follow('unfollow-a', { since: a1 }, rec.handlers('unfollow-a'));
    await rec.waitFor(() => rec.ids('unfollow-a').length === 2, 'a2 after following again');
    expect(sockets.instances).toHaveLength(1);
    live.close();
  });
});

/** A scripted socket: the test plays the server. */
class FakeSocket {
  readyState = 0;
  readonly url: string;
  readonly sent: Record<string, unknown>[] = [];
  closedWith: number | undefined;
  readonly #listeners = new Map<string, ((event: never) => void)[]>();

  constructor(url: string) {
    this.url = url;
  }

  addEventListener(type: string, listener: (event: never) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code = 1000): void {
    this.closedWith = code;
    this.readyState = 3;
  }

  serverOpens(): void {
    this.readyState = 1;
    this.#emit('open', {});
  }

  serverSends(frame: unknown): void {
    this.#emit('message', { data: JSON.stringify(frame) });
  }

  serverCloses(code: number, reason = ''): void {
    this.readyState = 3;
    this.#emit('close', { code, reason });
  }

  #emit(type: string, event: unknown): void {
    for (const listener of this.#listeners.get(type) ?? []) (listener as (event: unknown) => void)(event);
  }
}

function fakeSockets(waiter: Waiter): { WebSocket: WebSocketConstructor; instances: FakeSocket[] } {
  const instances: FakeSocket[] = [];
  class Scripted extends FakeSocket {
    constructor(url: string) {
      super(url);
      instances.push(this);
      waiter.poke();
    }

    override send(data: string): void {
      super.send(data);
      waiter.poke();
    }
  }
  return { WebSocket: Scripted as unknown as WebSocketConstructor, instances };
}

function entry(id: string, extra: Partial<Update> = {}): Update {
  return { id, story: 's', kind: 'statement', occurredAt: '2022-02-15T10:00:00+03:00', publishedAt: '2022-02-15T07:00:00.000Z', text: id, ...extra };
}

describe('connect() against a scripted server', () => {
  const noFetch = async (): Promise<never> => {
    throw new Error('no fetch expected');
  };

  it('never delivers an update twice or out of order, whatever the server sends', async () => {
    const rec = new Recorder();
    const sockets = fakeSockets(rec);
    const live = connect('http://stoppress.test', { WebSocket: sockets.WebSocket, fetch: noFetch, random: () => 0, onStatus: rec.onStatus });
    live.follow('s', { since: '5-0' }, rec.handlers('s'));
    const socket = sockets.instances[0]!;
    expect(socket.url).toBe('ws://stoppress.test/v1/live');
    socket.serverOpens();
    expect(socket.sent).toEqual([{ type: 'subscribe', story: 's', since: '5-0' }]);
    // An update before `subscribed` belongs to an earlier subscription: ignored.
    socket.serverSends({ type: 'update', story: 's', update: entry('9-0') });
    socket.serverSends({ type: 'subscribed', story: 's', lastId: '9-0', recovered: true });
    expect(live.status).toBe('live');
    for (const id of ['4-0', '5-0', '6-0', '6-1', '6-1', '6-0', '10-0', '7-0', '10-0', '11-0']) socket.serverSends({ type: 'update', story: 's', update: entry(id) });
    socket.serverSends({ type: 'update', story: 'not-followed', update: entry('12-0') });
    expect(rec.ids('s')).toEqual(['6-0', '6-1', '10-0', '11-0']);
    expect(rec.ids('not-followed')).toEqual([]);
    live.close();
  });

  it('resubscribes every story with since = its last delivered id, or the subscribed lastId when none was delivered', async () => {
    const rec = new Recorder();
    const sockets = fakeSockets(rec);
    const live = connect('https://stoppress.test:8443/base/', { WebSocket: sockets.WebSocket, fetch: noFetch, random: () => 0, onStatus: rec.onStatus });
    live.follow('a', {}, rec.handlers('a'));
    live.follow('b', {}, rec.handlers('b'));
    live.follow('c', {}, rec.handlers('c'));
    const first = sockets.instances[0]!;
    expect(first.url).toBe('wss://stoppress.test:8443/base/v1/live');
    first.serverOpens();
    first.serverSends({ type: 'subscribed', story: 'a', lastId: '1-0' });
    first.serverSends({ type: 'subscribed', story: 'b', lastId: null });
    expect(live.status).toBe('connecting');
    first.serverSends({ type: 'update', story: 'a', update: entry('2-0') });
    first.serverCloses(1001, 'server shutting down');
    expect(live.status).toBe('reconnecting');
    await rec.waitFor(() => sockets.instances.length === 2, 'a second socket');
    const second = sockets.instances[1]!;
    second.serverOpens();
    expect(second.sent).toEqual([
      { type: 'subscribe', story: 'a', since: '2-0' },
      { type: 'subscribe', story: 'b', since: '0-0' },
      { type: 'subscribe', story: 'c' },
    ]);
    for (const story of ['a', 'b', 'c']) second.serverSends({ type: 'subscribed', story, lastId: '3-0', recovered: true });
    expect(rec.statuses).toEqual(['reconnecting', 'live']);
    second.serverCloses(1013, 'slow consumer');
    expect(live.status).toBe('reconnecting');
    await rec.waitFor(() => sockets.instances.length === 3, 'a third socket');
    sockets.instances[2]!.serverOpens();
    expect(sockets.instances[2]!.sent.map((f) => f.since)).toEqual(['2-0', '0-0', '3-0']);
    live.close();
  });

  it('buffers live updates while it reloads a trimmed story and delivers only those above the view', async () => {
    const rec = new Recorder();
    const sockets = fakeSockets(rec);
    let answer: ((view: StoryView) => void) | undefined;
    const requested: string[] = [];
    const fetchView = (url: string): Promise<{ ok: boolean; status: number; json(): Promise<unknown> }> => {
      requested.push(url);
      return new Promise((resolve) => (answer = (view) => resolve({ ok: true, status: 200, json: async () => view })));
    };
    const live = connect('http://stoppress.test', { WebSocket: sockets.WebSocket, fetch: fetchView, random: () => 0 });
    live.follow('s', { since: '1-0' }, rec.handlers('s'));
    const socket = sockets.instances[0]!;
    socket.serverOpens();
    socket.serverSends({ type: 'subscribed', story: 's', lastId: '50-0', recovered: false });
    expect(requested).toEqual(['http://stoppress.test/v1/stories/s']);
    for (const id of ['51-0', '52-0', '53-0']) socket.serverSends({ type: 'update', story: 's', update: entry(id) });
    expect(rec.delivered).toEqual([]);
    answer!({ story: 's', lastId: '52-0', updates: [entry('40-0'), entry('52-0')] });
    await rec.waitFor(() => rec.ids('s').length === 1, 'the update after the view');
    expect(rec.resets.map((v) => v.lastId)).toEqual(['52-0']);
    expect(rec.ids('s')).toEqual(['53-0']);
    socket.serverSends({ type: 'update', story: 's', update: entry('54-0', { kind: 'correction', corrects: '40-0', text: 'new', note: 'n' }) });
    expect(rec.delivered.at(-1)!.target).toMatchObject({ id: '40-0', text: 'new' });
    live.close();
  });

  it('reloads only the newest resetLimit top-level updates when asked to, and refuses a bad resetLimit', async () => {
    const rec = new Recorder();
    const sockets = fakeSockets(rec);
    const requested: string[] = [];
    const fetchView = async (url: string): Promise<{ ok: boolean; status: number; json(): Promise<unknown> }> => {
      requested.push(url);
      return { ok: true, status: 200, json: async () => ({ story: 's', lastId: '52-0', updates: [entry('52-0')], nextBefore: '52-0' }) };
    };
    const live = connect('http://stoppress.test', { WebSocket: sockets.WebSocket, fetch: fetchView, random: () => 0 });
    expect(() => live.follow('t', { resetLimit: 0 }, rec.handlers('t'))).toThrow(TypeError);
    expect(() => live.follow('t', { resetLimit: 1.5 }, rec.handlers('t'))).toThrow(TypeError);
    live.follow('s', { since: '1-0', resetLimit: 20 }, rec.handlers('s'));
    const socket = sockets.instances[0]!;
    socket.serverOpens();
    socket.serverSends({ type: 'subscribed', story: 's', lastId: '50-0', recovered: false });
    await rec.waitFor(() => rec.resets.length === 1, 'reset');
    expect(requested).toEqual(['http://stoppress.test/v1/stories/s?limit=20']);
    live.close();
  });

  it('retries a reload that failed, dropping what it buffered meanwhile (the next reload has it)', async () => {
    const rec = new Recorder();
    const sockets = fakeSockets(rec);
    let calls = 0;
    const flaky = async (): Promise<{ ok: boolean; status: number; json(): Promise<unknown> }> => {
      calls += 1;
      rec.poke();
      if (calls === 1) return { ok: false, status: 503, json: async () => ({}) };
      return { ok: true, status: 200, json: async () => ({ story: 's', lastId: '60-0', updates: [] }) };
    };
    const live = connect('http://stoppress.test', { WebSocket: sockets.WebSocket, fetch: flaky, random: () => 0 });
    live.follow('s', { since: '1-0' }, rec.handlers('s'));
    const socket = sockets.instances[0]!;
    socket.serverOpens();
    socket.serverSends({ type: 'subscribed', story: 's', lastId: '50-0', recovered: false });
    await rec.waitFor(() => rec.errors.length === 1, 'the reload error');
    expect(rec.errors[0]).toMatchObject({ code: 'reset_failed', story: 's', willRetry: true });
    await rec.waitFor(() => rec.resets.length === 1, 'the second reload');
    socket.serverSends({ type: 'update', story: 's', update: entry('60-0') });
    socket.serverSends({ type: 'update', story: 's', update: entry('61-0') });
    expect(rec.ids('s')).toEqual(['61-0']);
    live.close();
  });

  it('stops for good on 1008, reporting it, and does not reconnect', () => {
    const rec = new Recorder();
    const sockets = fakeSockets(rec);
    const live = connect('http://stoppress.test', { WebSocket: sockets.WebSocket, random: () => 0, onStatus: rec.onStatus, onError: rec.onError });
    sockets.instances[0]!.serverOpens();
    sockets.instances[0]!.serverCloses(1008, 'too many bad frames');
    expect(live.status).toBe('offline');
    expect(rec.errors.map((e) => e.code)).toEqual(['policy_violation']);
    expect(sockets.instances).toHaveLength(1);
  });

  it('reports a refused subscription to the follow and still goes live for the other stories', async () => {
    const rec = new Recorder();
    const sockets = fakeSockets(rec);
    const live = connect('http://stoppress.test', { WebSocket: sockets.WebSocket, random: () => 0, onStatus: rec.onStatus });
    live.follow('a', {}, rec.handlers('a'));
    live.follow('b', {}, rec.handlers('b'));
    const socket = sockets.instances[0]!;
    socket.serverOpens();
    socket.serverSends({ type: 'subscribed', story: 'a', lastId: null });
    socket.serverSends({ type: 'error', code: 'subscription_limit', message: 'a socket follows at most 1 stories', story: 'b' });
    expect(live.status).toBe('live');
    expect(rec.errors[0]).toMatchObject({ code: 'subscribe_failed', serverCode: 'subscription_limit', story: 'b', willRetry: false });

    // A transient refusal is retried after a backoff delay.
    live.follow('c', {}, rec.handlers('c'));
    socket.serverSends({ type: 'error', code: 'redis_unavailable', message: 'Redis did not answer', story: 'c' });
    expect(rec.errors[1]).toMatchObject({ serverCode: 'redis_unavailable', willRetry: true });
    await rec.waitFor(() => socket.sent.filter((f) => f.story === 'c').length === 2, 'the retried subscribe');
    live.close();
  });

  it('keeps delivering after a handler throws, and reports it', () => {
    const rec = new Recorder();
    const sockets = fakeSockets(rec);
    const live = connect('http://stoppress.test', { WebSocket: sockets.WebSocket });
    const ids: string[] = [];
    live.follow('s', {}, {
      update: (u) => {
        ids.push(u.id);
        if (u.id === '2-0') throw new Error('render failed');
      },
      error: rec.onError,
    });
    const socket = sockets.instances[0]!;
    socket.serverOpens();
    socket.serverSends({ type: 'subscribed', story: 's', lastId: '1-0' });
    for (const id of ['2-0', '3-0']) socket.serverSends({ type: 'update', story: 's', update: entry(id) });
    expect(ids).toEqual(['2-0', '3-0']);
    expect(rec.errors).toHaveLength(1);
    expect(rec.errors[0]).toMatchObject({ code: 'handler_failed', story: 's' });
    expect((rec.errors[0]!.cause as Error).message).toBe('render failed');
    live.close();
  });

  it('goes offline while the browser is offline and reconnects on the online event', () => {
    const network = new EventTarget();
    const navigator = { onLine: false };
    vi.stubGlobal('navigator', navigator);
    vi.stubGlobal('addEventListener', network.addEventListener.bind(network));
    vi.stubGlobal('removeEventListener', network.removeEventListener.bind(network));
    const rec = new Recorder();
    const sockets = fakeSockets(rec);
    const live = connect('http://stoppress.test', { WebSocket: sockets.WebSocket, random: () => 0, onStatus: rec.onStatus });
    expect(live.status).toBe('offline');
    expect(sockets.instances).toHaveLength(0);

    navigator.onLine = true;
    network.dispatchEvent(new Event('online'));
    expect(live.status).toBe('connecting');
    sockets.instances[0]!.serverOpens();
    expect(live.status).toBe('live');

    navigator.onLine = false;
    network.dispatchEvent(new Event('offline'));
    expect(live.status).toBe('offline');
    expect(sockets.instances[0]!.closedWith).toBe(1000);
    navigator.onLine = true;
    network.dispatchEvent(new Event('online'));
    expect(live.status).toBe('reconnecting');
    expect(sockets.instances).toHaveLength(2);
    live.close();
    network.dispatchEvent(new Event('online'));
    expect(sockets.instances).toHaveLength(2);
    expect(rec.statuses).toEqual(['offline', 'connecting', 'live', 'offline', 'reconnecting', 'offline']);
  });

  it('tells Node users to pass a WebSocket when there is none', () => {
    vi.stubGlobal('WebSocket', undefined);
    expect(() => connect('http://stoppress.test')).toThrow(/import \{ WebSocket \} from 'ws'; connect\(url, \{ WebSocket \}\)/);
  });

  it('refuses bad arguments with clear errors', () => {
    const sockets = fakeSockets(new Waiter());
    expect(() => connect('ftp://x', { WebSocket: sockets.WebSocket })).toThrow(/not an http\(s\) or ws\(s\) URL/);
    expect(() => connect('http://x', { WebSocket: sockets.WebSocket, minDelayMs: 0 })).toThrow(/minDelayMs/);
    const live = connect('http://x', { WebSocket: sockets.WebSocket });
    expect(() => live.follow('Bad Story', {}, {})).toThrow(/not a story id/);
    expect(() => live.follow('ok', { since: 'yesterday' }, {})).toThrow(/not an update id/);
    live.follow('ok', {}, {});
    expect(() => live.follow('ok', {}, {})).toThrow(/already followed/);
    live.close();
  });

  it('derives the endpoints from the base URL', () => {
    expect(serviceEndpoints('http://localhost:8080')).toEqual({ httpBase: 'http://localhost:8080', liveUrl: 'ws://localhost:8080/v1/live' });
    expect(serviceEndpoints('https://news.example/live/?x=1#y')).toEqual({ httpBase: 'https://news.example/live', liveUrl: 'wss://news.example/live/v1/live' });
    expect(serviceEndpoints('wss://news.example')).toEqual({ httpBase: 'https://news.example', liveUrl: 'wss://news.example/v1/live' });
  });
});

describe('the client module', () => {
  it('imports only types from the zod schemas, and nothing from the server', () => {
    for (const file of readdirSync('src/client')) {
      const source = readFileSync(`src/client/${file}`, 'utf8');
      for (const [, clause, from] of source.matchAll(/^(?:import|export)\b([^;]*?)\bfrom '([^']+)'/gm)) {
        expect(from, `${file} imports ${from}`).toMatch(/^\.\/|^\.\.\/protocol\//);
        // ids.ts and corrections.ts are the zod-free protocol modules the client may take values from.
        const zodFree = ['../protocol/ids.js', '../protocol/corrections.js'];
        if (from!.startsWith('../protocol/') && !zodFree.includes(from!)) expect(clause, `${file} imports values from ${from}`).toMatch(/^ type /);
      }
    }
  });

  it('is bundled for browsers without zod, and small', () => {
    // tests/support/build-once.ts ran `npm run build`, which bundles src/client/browser.ts.
    const bundle = readFileSync('dist/public/client.js', 'utf8');
    expect(bundle).not.toMatch(/zod|ZodError|invalid_type/i);
    expect(bundle).toMatch(/export\s*\{/);
    const sizes = JSON.parse(readFileSync('dist/public/sizes.json', 'utf8')) as Record<string, number>;
    expect(sizes['client.js']).toBe(Buffer.byteLength(bundle));
    expect(sizes['client.js']).toBeLessThan(16 * 1024);
  });
});
