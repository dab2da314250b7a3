import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricValueWithName } from 'prom-client';
import type { RedisClient } from './store/redis-client.js';

/** What the scrape-time gauges read: live state that the hot path keeps anyway, so counting it costs nothing there. */
export interface LiveStateSources {
  connections(): number;
  subscriptions(): number;
  activeStories(): number;
  /** Gap fills run so far by the fan-in (a running total). */
  gapFills(): number;
  /** Pub/sub (re)subscriptions made after a reconnect, failover or failed check, so far (a running total). */
  resubscribes(): number;
  /** How long the pub/sub connection that has been down the longest is down (ms), 0 when all are up. */
  pubsubDownMs(): number;
}

const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const lagBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/**
 * How often the event loop's delay is sampled (ms), by our monitor and by prom-client's default one; each sample's
 * delay includes this much. Not Node's default of 10: a timer every 10 ms woke an idle node 100 times a second,
 * 13 ms of CPU per second (of 21 in all, measured with /proc on an idle node); at 100 ms the node burns 9 in
 * all, and a stalled loop still shows (every timer due during a stall fires late by the rest of it).
 */
const lagResolutionMs = 100;
const timed = Symbol('stoppress.timed');

/**
 * The service's one Prometheus registry and every metric in it (README "Metrics" lists them). One instance per
 * running service, created by the composition root and handed to the modules that count: modules take their
 * counters from here and never make a registry of their own. (One per service rather than one per process, so
 * that services started side by side in one test process each count their own.)
 *
 * Cost rules: nothing here runs per socket write. Gauges are computed at scrape time from state the service keeps
 * anyway; deliveries and bytes are counted once per hub publish (subscribers × entries, subscribers × bytes);
 * publish-to-deliver is observed once per entry per node.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly publishes = new Counter({ name: 'stoppress_publishes_total', help: 'Updates stored by the ingest API (repeats of an idempotency key not counted), by kind', labelNames: ['kind'] as const, registers: [this.registry] });
  readonly deliveries = new Counter({ name: 'stoppress_deliveries_total', help: 'Live entries handed to sockets (subscribers x entries per hub publish)', registers: [this.registry] });
  readonly bytesSent = new Counter({ name: 'stoppress_bytes_sent_total', help: 'Bytes of live frames handed to sockets (subscribers x batch bytes per hub publish)', registers: [this.registry] });
  readonly slowConsumerCloses = new Counter({ name: 'stoppress_slow_consumer_closes_total', help: 'Sockets closed with 1013 because they fell too far behind', registers: [this.registry] });
  readonly badFrames = new Counter({ name: 'stoppress_bad_frames_total', help: 'WebSocket frames refused as malformed or invalid (rate-limited frames are counted apart)', registers: [this.registry] });
  readonly rateLimited = new Counter({ name: 'stoppress_rate_limited_total', help: 'Subscribe and unsubscribe frames refused with rate_limited', registers: [this.registry] });
  readonly httpRequests = new Counter({ name: 'stoppress_http_requests_total', help: 'HTTP requests answered, by route pattern and status', labelNames: ['route', 'status'] as const, registers: [this.registry] });
  readonly httpHotAnswers = new Counter({ name: 'stoppress_http_hot_answers_total', help: 'Story pages and views answered on the hot path, before the router (also counted in stoppress_http_requests_total)', labelNames: ['route'] as const, registers: [this.registry] });
  readonly redisCommandSeconds = new Histogram({ name: 'stoppress_redis_command_seconds', help: 'Time from sending a command on the command connection to its reply (queueing in the client included), by command', labelNames: ['command'] as const, buckets: latencyBuckets, registers: [this.registry] });
  readonly publishToDeliverSeconds = new Histogram({ name: 'stoppress_publish_to_deliver_seconds', help: "Time from an entry's id (Redis's clock at XADD) to its write to this node's sockets, once per entry per node", buckets: latencyBuckets, registers: [this.registry] });
  readonly #lag: IntervalHistogram;
  #sources: LiveStateSources | undefined;

  constructor() {
    const sources = (): LiveStateSources | undefined => this.#sources;
    new Gauge({ name: 'stoppress_ws_connections', help: 'Open WebSocket connections', registers: [this.registry], collect() { this.set(sources()?.connections() ?? 0); } });
    new Gauge({ name: 'stoppress_subscriptions', help: 'Story subscriptions held by open sockets', registers: [this.registry], collect() { this.set(sources()?.subscriptions() ?? 0); } });
    new Gauge({ name: 'stoppress_active_stories', help: 'Stories with local subscribers (each one shard channel subscription)', registers: [this.registry], collect() { this.set(sources()?.activeStories() ?? 0); } });
    new Gauge({ name: 'stoppress_pubsub_down_seconds', help: 'How long the pub/sub connection down the longest has been down (0 when all are up); /readyz fails past READY_PUBSUB_GRACE_MS', registers: [this.registry], collect() { this.set((sources()?.pubsubDownMs() ?? 0) / 1000); } });
    mirroredCounter(this.registry, 'stoppress_gap_fills_total', 'Stream reads (XRANGE) that filled a gap in the pub/sub announcements: lost messages or a resubscribe', () => sources()?.gapFills() ?? 0);
    mirroredCounter(this.registry, 'stoppress_pubsub_resubscribes_total', 'Shard channels subscribed again after a reconnect, failover or failed check', () => sources()?.resubscribes() ?? 0);
    this.#lag = monitorEventLoopDelay({ resolution: lagResolutionMs });
    this.#lag.enable();
    this.registry.registerMetric(new EventLoopLagHistogram(this.#lag) as unknown as Histogram);
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: lagResolutionMs });
  }

  /** Connects the scrape-time gauges to the live state (set once the gateway, hub and fan-in exist). */
  readLiveState(sources: LiveStateSources): void {
    this.#sources = sources;
  }

  /**
   * Counts one hub publish: `subscribers` sockets each got `entries` entries in `bytes` bytes. Observes each
   * entry's publish-to-deliver time from its id's milliseconds (the Redis server's clock; a skew between the
   * clocks shifts the figure).
   */
  delivered(subscribers: number, entries: readonly { readonly id: string }[], bytes: number): void {
    this.deliveries.inc(subscribers * entries.length);
    this.bytesSent.inc(subscribers * bytes);
    const now = Date.now();
    for (const { id } of entries) this.publishToDeliverSeconds.observe(Math.max(0, now - Number(id.slice(0, id.indexOf('-')))) / 1000);
  }

  /**
   * Times every command sent on `redis` (a single connection or a Cluster), from the send to its reply or error,
   * into `stoppress_redis_command_seconds{command}`. Wraps `sendCommand` once: pipelined and auto-pipelined
   * commands go through it too; a command redirected by Cluster (MOVED) is timed once, from its first send.
   */
  timeRedisCommands(redis: RedisClient): void {
    const histogram = this.redisCommandSeconds;
    const send = redis.sendCommand.bind(redis) as (...args: unknown[]) => unknown;
    type TimedCommand = { name: string; promise: Promise<unknown>; [timed]?: true };
    (redis as unknown as { sendCommand: (...args: unknown[]) => unknown }).sendCommand = (...args: unknown[]) => {
      const command = args[0] as TimedCommand;
      if (!command[timed]) {
        command[timed] = true;
        const start = performance.now();
        const done = (): void => histogram.observe({ command: command.name }, (performance.now() - start) / 1000);
        command.promise.then(done, done);
      }
      return send(...args);
    };
  }

  /** The text exposition of every metric. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Stops the event loop monitor (the default metrics' own timers are unref'd). */
  close(): void {
    this.#lag.disable();
  }
}

/**
 * A counter that mirrors a running total kept elsewhere (the fan-in's), read at scrape time: each scrape adds
 * what the total grew by since the last one.
 */
function mirroredCounter(registry: Registry, name: string, help: string, total: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = total();
      this.inc(Math.max(0, now - seen));
      seen = Math.max(seen, now);
    },
  });
}

/**
 * `stoppress_event_loop_lag_seconds`: perf_hooks' event loop delay monitor read at scrape time as a cumulative
 * Prometheus histogram (nothing is sampled on the hot path). Each sample's delay less the sampling resolution is
 * the lag; bucket counts come from the monitor's percentiles, so they are exact at its percentile breakpoints and
 * conservative (never more) in between.
 */
class EventLoopLagHistogram {
  readonly name = 'stoppress_event_loop_lag_seconds';
  readonly help = `Event loop lag (how late a ${lagResolutionMs} ms timer fired), from perf_hooks monitorEventLoopDelay since start`;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #monitor: IntervalHistogram;

  constructor(monitor: IntervalHistogram) {
    this.#monitor = monitor;
  }

  async get(): Promise<object> {
    const monitor = this.#monitor;
    const count = monitor.count;
    const resolutionNs = lagResolutionMs * 1e6;
    const percentiles = [...monitor.percentiles].map(([percentile, ns]) => [percentile, Math.max(0, ns - resolutionNs) / 1e9] as const);
    const values: MetricValueWithName<'le'>[] = lagBuckets.map((bound) => {
      let fraction = 0;
      for (const [percentile, seconds] of percentiles) if (seconds <= bound && percentile > fraction * 100) fraction = percentile / 100;
      return { metricName: `${this.name}_bucket`, labels: { le: bound }, value: count === 0 ? 0 : Math.round(count * fraction) };
    });
    values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: count });
    const meanLagSeconds = count === 0 ? 0 : Math.max(0, monitor.mean - resolutionNs) / 1e9;
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: meanLagSeconds * count });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: count });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
