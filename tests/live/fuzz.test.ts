import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import { errorCatalogue } from '../../src/protocol/errors.js';
import type { RunningService } from '../../src/service.js';
import { edgeId, fuzzSeed, Random, snapshotStory } from '../support/fuzz.js';
import { liveUrl } from '../support/live-client.js';
import { deletePrefix, post, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('live-fuzz');
const seeded = 'fuzz-seeded';
const frameCount = 3_000;
const socketCount = 6;
let service: RunningService;

beforeAll(async () => {
  // Generous subscribe limits (WS_SUBSCRIBE_RATE/BURST, once they exist) so the fuzz exercises frames rather than
  // the limiter; the limiter's own answers (rate_limited, 1008) are accepted below all the same.
  service = await startTestService(prefix, { WS_SUBSCRIBE_RATE: '100000', WS_SUBSCRIBE_BURST: '100000' });
  for (let i = 0; i < 5; i++) await post(service.url, seeded, statement(`seeded ${i}`));
});
afterAll(async () => {
  await service?.stop();
  await deletePrefix(prefix);
});

/** Close codes docs/protocol.md §5 documents for a socket that misbehaves: too many bad frames, an oversize frame, a slow consumer. */
const documentedCloseCodes = new Set([1008, 1009, 1013]);
const protoKeys = ['__proto__', 'constructor', 'prototype'];

function storyValue(random: Random): unknown {
  return random.pick<unknown>([
    seeded,
    seeded,
    random.string(random.int(1, 20)),
    random.string(65),
    random.string(random.int(200, 2000)),
    'Bad Story!',
    '',
    '-x',
    random.pick(protoKeys),
    7,
    null,
    ['a'],
    { a: 1 },
  ]);
}

/** One frame: text (JSON or not), binary, or oversize. */
function generate(random: Random): { data: string | Buffer; binary: boolean } {
  const json = (value: unknown): string => JSON.stringify(value);
  const kind = random.int(0, 19);
  if (kind === 0) return { data: Buffer.from(random.string(random.int(1, 100))), binary: true };
  if (kind === 1) return { data: json({ type: 'subscribe', story: seeded, padding: 'x'.repeat(random.int(4_100, 9_000)) }), binary: false };
  const data = random.pick<() => string>([
    () => random.string(random.int(0, 40), '{}[]":,abc01 \\'),
    () => '{',
    () => 'null',
    () => '[]',
    () => '"subscribe"',
    () => '1e999',
    () => json({}),
    () => json({ type: random.pick(['dance', 'SUBSCRIBE', 'publish', '', 7, null]), story: storyValue(random) }),
    () => json({ type: 'subscribe', story: storyValue(random) }),
    () => json({ type: 'subscribe', story: seeded, since: edgeId(random) }),
    () => json({ type: 'subscribe', story: random.string(8), since: edgeId(random) }),
    () => json({ type: 'subscribe', story: seeded, since: random.pick<unknown>([0, 1.5, null, ['1-0'], { ms: 1 }, true, 18446744073709551615]) }),
    () => json({ type: 'subscribe', story: seeded, [random.string(4)]: 1 }),
    () => json({ type: 'unsubscribe', story: storyValue(random) }),
    () => json({ type: 'unsubscribe', story: seeded, since: '0-0' }),
    () => `{"type":"subscribe","story":"${seeded}","__proto__":{"polluted":true}}`,
    () => `{"type":"subscribe","story":"${seeded}","constructor":{"prototype":{"polluted":true}}}`,
    () => '{"a":'.repeat(1_000) + '1' + '}'.repeat(1_000),
    () => '['.repeat(random.int(100, 4_000)),
    () => json({ type: 'subscribe', story: seeded, since: `${'9'.repeat(random.int(19, 2_000))}-0` }),
  ])();
  return { data, binary: false };
}

interface SocketRun {
  problems: string[];
  closes: Map<number, number>;
  codes: Map<string, number>;
}

/** Opens a socket whose every frame and close is checked into `run`; resolves once it is open. */
function open(url: string, run: SocketRun): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    watch(ws, run);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/**
 * Sends `frames` one at a time on a socket, each after the server has answered the one before (a frame or a
 * close), reconnecting whenever the server closes the socket with a documented code.
 */
async function drive(url: string, frames: ReturnType<typeof generate>[], run: SocketRun): Promise<void> {
  let ws = await open(url, run);
  for (const frame of frames) {
    if (ws.readyState !== WebSocket.OPEN) ws = await open(url, run);
    const answered = new Promise<void>((resolve) => {
      const cleanup = (): void => {
        ws.off('message', wsOnMessage);
        ws.off('close', wsOnClose);
      };
      const wsOnMessage = (): void => (cleanup(), resolve());
      const wsOnClose = (): void => (cleanup(), resolve());
      ws.on('message', wsOnMessage);
      ws.on('close', wsOnClose);
    });
    ws.send(frame.data, { binary: frame.binary });
    await answered;
  }
  ws.close();
}

function watch(ws: WebSocket, run: SocketRun): void {
  ws.on('message', (data: RawData) => {
    let frame: any;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      run.problems.push(`a server frame that is not JSON: ${data.toString().slice(0, 80)}`);
      return;
    }
    if (frame.type === 'update') {
      if (frame.story !== seeded) run.problems.push(`an update of ${frame.story}, which nobody writes`);
      return;
    }
    if (frame.type !== 'error') return;
    run.codes.set(frame.code, (run.codes.get(frame.code) ?? 0) + 1);
    if (!(frame.code in errorCatalogue)) run.problems.push(`uncatalogued code ${frame.code}`);
    if (frame.code === 'internal' || (errorCatalogue[frame.code as keyof typeof errorCatalogue]?.status ?? 0) >= 500) {
      run.problems.push(`a 5xx-like error frame: ${JSON.stringify(frame)}`);
    }
    if (typeof frame.message !== 'string' || frame.message.length === 0) run.problems.push(`error ${frame.code} without a message`);
  });
  ws.on('close', (code: number) => {
    run.closes.set(code, (run.closes.get(code) ?? 0) + 1);
    if (!documentedCloseCodes.has(code) && code !== 1005) run.problems.push(`closed with ${code}`);
  });
}

describe('WebSocket fuzz', () => {
  it(`answers ${frameCount} generated frames on ${socketCount} sockets with documented errors and closes only, and changes no story`, { timeout: 60_000 }, async () => {
    const random = new Random(fuzzSeed('websocket fuzz', 20_220_216));
    const before = await snapshotStory(prefix, seeded);
    const frames = Array.from({ length: frameCount }, () => generate(random));
    const run: SocketRun = { problems: [], closes: new Map(), codes: new Map() };
    const url = liveUrl(service.url);
    const share = Math.ceil(frames.length / socketCount);
    await Promise.all(
      Array.from({ length: socketCount }, (_, i) =>
        drive(url, frames.slice(i * share, (i + 1) * share), run).catch((error: unknown) => {
          run.problems.push(`socket ${i} failed: ${String(error)}`);
        }),
      ),
    );
    process.stdout.write(`websocket fuzz: codes ${JSON.stringify(Object.fromEntries(run.codes))}, closes ${JSON.stringify(Object.fromEntries(run.closes))}\n`);
    expect(run.problems.slice(0, 20)).toEqual([]);
    expect(await snapshotStory(prefix, seeded)).toEqual(before);
  });
});
