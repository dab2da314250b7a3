import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { parseExposition, valueOf, type Sample } from '../support/prometheus-text.js';
import { deletePrefix, post, startTestService, statement, uniquePrefix } from '../support/test-service.js';
import { waitUntil } from '../support/wait-until.js';

const prefix = uniquePrefix('metrics');
const token = 'metrics-token-0123456789';
let service: RunningService;

beforeAll(async () => {
  service = await startTestService(prefix, { METRICS_TOKEN: token });
});
afterAll(async () => {
  await service.stop();
  await deletePrefix(prefix);
});

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

describe('GET /metrics', () => {
  it('answers 401 in the error shape without the METRICS_TOKEN, or with another token', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer not-the-metrics-token' }, { authorization: `Basic ${token}` }];
    for (const headers of attempts) {
      const response = await fetch(`${service.url}/metrics`, { headers });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringMatching(/metrics token/) } });
    }
  });

  it('counts publishes by kind, deliveries and bytes per subscriber, and the live gauges', async () => {
    const story = 'counted';
    const readers = [await LiveTestClient.connect(liveUrl(service.url)), await LiveTestClient.connect(liveUrl(service.url))];
    for (const reader of readers) expect((await reader.subscribe(story)).type).toBe('subscribed');
    const before = await scrape();
    expect(valueOf(before, 'stoppress_ws_connections')).toBe(2);
    expect(valueOf(before, 'stoppress_subscriptions')).toBe(2);
    expect(valueOf(before, 'stoppress_active_stories')).toBe(1);

    const first = await post(service.url, story, statement('one'));
    const second = await post(service.url, story, statement('two'));
    const repeat = await post(service.url, story, statement('two'), { 'idempotency-key': 'k1' });
    const repeated = await post(service.url, story, statement('two'), { 'idempotency-key': 'k1' });
    expect([first.status, second.status, repeat.status, repeated.status]).toEqual([201, 201, 201, 200]);
    for (const reader of readers) await reader.waitFor(() => reader.updateIds(story).length === 3);

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    // The repeated idempotency key answered the first result: three stored, not four.
    expect(delta('stoppress_publishes_total', { kind: 'statement' })).toBe(3);
    expect(delta('stoppress_deliveries_total')).toBe(6);
    const frameBytes = readers[0]!.frames.filter((f) => f.type === 'update').reduce((sum, f) => sum + Buffer.byteLength(JSON.stringify(f)), 0);
    // Each frame is its JSON plus a 2- or 4-byte WebSocket header (JSON.stringify of the parsed frame keeps its length).
    expect(delta('stoppress_bytes_sent_total')).toBeGreaterThanOrEqual(2 * (frameBytes + 3 * 2));
    expect(delta('stoppress_bytes_sent_total')).toBeLessThanOrEqual(2 * (frameBytes + 3 * 4));
    // Once per entry per node, not per socket.
    expect(delta('stoppress_publish_to_deliver_seconds_count')).toBe(3);
    expect(delta('stoppress_http_requests_total', { route: '/v1/stories/:story/updates', status: '201' })).toBe(3);
    expect(delta('stoppress_http_requests_total', { route: '/v1/stories/:story/updates', status: '200' })).toBe(1);
    expect(valueOf(after, 'stoppress_redis_command_seconds_count', { command: 'evalsha' })).toBeGreaterThan(0);

    for (const reader of readers) reader.close();
    await Promise.all(readers.map((reader) => reader.closed));
  });

  it('labels requests with the route pattern, never the raw URL', async () => {
    await fetch(`${service.url}/v1/stories/route-a`);
    await fetch(`${service.url}/v1/stories/route-b`);
    await fetch(`${service.url}/no/such/path-${Date.now()}`);
    const samples = await scrape();
    const routes = new Set(samples.filter((s) => s.name === 'stoppress_http_requests_total').map((s) => s.labels.route));
    expect(routes).toContain('/v1/stories/:story');
    expect(routes).toContain('unmatched');
    expect([...routes].some((route) => route?.includes('route-a') || route?.includes('no/such'))).toBe(false);
  });

  it('counts refused frames, and rate-limited frames apart', async () => {
    const before = await scrape();
    const client = await LiveTestClient.connect(liveUrl(service.url));
    client.send('not json');
    client.send({ type: 'nonsense' });
    await client.waitFor(() => client.frames.filter((f) => f.type === 'error').length === 2);
    let after = await scrape();
    expect(valueOf(after, 'stoppress_bad_frames_total') - valueOf(before, 'stoppress_bad_frames_total')).toBe(2);
    expect(valueOf(after, 'stoppress_rate_limited_total')).toBe(valueOf(before, 'stoppress_rate_limited_total'));
    // The burst is WS_MAX_SUBSCRIPTIONS (100) frames; the 101st at once is refused with rate_limited.
    for (let i = 0; i < 101; i++) client.send({ type: 'unsubscribe', story: 'never-followed' });
    await client.waitFor(() => client.frames.some((f) => f.code === 'rate_limited'));
    after = await scrape();
    expect(valueOf(after, 'stoppress_rate_limited_total') - valueOf(before, 'stoppress_rate_limited_total')).toBe(1);
    expect(valueOf(after, 'stoppress_bad_frames_total') - valueOf(before, 'stoppress_bad_frames_total')).toBe(2);
    client.close();
    await client.closed;
  });

  it('exports the event loop lag histogram, the fan-in counters and the process defaults', async () => {
    // The loop's delay is sampled every 100 ms: wait for a first sample rather than assume one was taken.
    let samples = await scrape();
    await waitUntil(async () => valueOf((samples = await scrape()), 'stoppress_event_loop_lag_seconds_count') > 0);
    const names = new Set(samples.map((s) => s.name));
    for (const name of ['stoppress_event_loop_lag_seconds_bucket', 'stoppress_event_loop_lag_seconds_count', 'stoppress_gap_fills_total', 'stoppress_pubsub_resubscribes_total', 'stoppress_pubsub_down_seconds', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes']) {
      expect(names).toContain(name);
    }
    const buckets = samples.filter((s) => s.name === 'stoppress_event_loop_lag_seconds_bucket').map((s) => s.value);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(buckets.at(-1)).toBe(valueOf(samples, 'stoppress_event_loop_lag_seconds_count'));
    expect(valueOf(samples, 'stoppress_event_loop_lag_seconds_count')).toBeGreaterThan(0);
  });
});
