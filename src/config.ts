import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TokenKeyError, verificationKeys, type VerificationKeys } from './access/verification-keys.js';

const onOff = z.enum(['on', 'off']);
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const EnvSchema = z.object({
  NODE_ENV: z.string().default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  REDIS_CLUSTER_NODES: z.string().optional(),
  READY_PUBSUB_GRACE_MS: positiveInt(5_000),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{0,64}$/, 'letters, digits, ":", "_" and "-" only').default('sp:'),
  PUBLISHER_KEYS: z.string().optional(),
  PUBLISHERS: z.string().optional(),
  STREAM_MAXLEN: positiveInt(10_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  IDEMPOTENCY_TTL_SECONDS: positiveInt(86_400),
  DEMO: onOff.optional(),
  DEMO_INTERVAL_MS: positiveInt(4_000),
  ALLOWED_ORIGINS: z.string().optional(),
  WS_MAX_SUBSCRIPTIONS: positiveInt(100),
  WS_MAX_FRAME_BYTES: positiveInt(4_096),
  WS_MAX_BUFFERED_BYTES: positiveInt(1_048_576),
  WS_HEARTBEAT_MS: positiveInt(25_000),
  WS_DRAIN_TIMEOUT_MS: positiveInt(5_000),
  WS_SUBSCRIBE_RATE: z.coerce.number().positive().default(10),
  WS_SUBSCRIBE_BURST: z.coerce.number().int().positive().optional(),
  MAX_ACTIVE_STORIES: positiveInt(50_000),
  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
  PUBLIC_URL: z.string().optional(),
  READ_CACHE_MAX_BYTES: positiveInt(134_217_728),
  READ_HOT_PATH: onOff.default('on'),
  CDN_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(300).default(3),
  CDN_STALE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
  CDN_ENDED_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(300).default(120),
  // Checked below, so that a refused token is never echoed.
  METRICS_TOKEN: z.string().optional(),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: onOff.default('off'),
  WEBHOOK_TIMEOUT_MS: positiveInt(10_000),
  WEBHOOK_RETRY_BASE_MS: positiveInt(1_000),
  WEBHOOK_RETRY_MAX_MS: positiveInt(86_400_000),
  WEBHOOK_CONCURRENCY: positiveInt(32),
  WEBHOOK_LEASE_MS: positiveInt(15_000),
  WEBHOOK_SWEEP_MS: positiveInt(30_000),
  WEBHOOK_IDLE_MS: positiveInt(30_000),
  SUBSCRIBER_TOKEN_SECRET: z.string().optional(),
  SUBSCRIBER_TOKEN_PUBLIC_KEY: z.string().optional(),
  SUBSCRIBER_TOKEN_JWKS: z.string().optional(),
  SUBSCRIBER_TOKEN_ISSUER: z.string().min(1).optional(),
  SUBSCRIBER_TOKEN_AUDIENCE: z.string().min(1).optional(),
  EMBARGO_POLL_MS: positiveInt(1_000),
  SSE_HEARTBEAT_MS: positiveInt(15_000),
});

/** The validated, frozen configuration. Every field is documented in the README's configuration table. */
export interface Config {
  readonly production: boolean;
  readonly port: number;
  readonly host: string;
  /** The Redis URL; `redisUrlGiven` is false when it is the default, which lets `npm start` start a private Redis. */
  readonly redisUrl: string;
  readonly redisUrlGiven: boolean;
  /** Set when REDIS_CLUSTER_NODES is: the service runs on Redis Cluster from these seed nodes. */
  readonly redisCluster: RedisClusterConfig | undefined;
  /** The Redis in use as it may be logged: the URL without credentials, or `cluster <seeds>`. */
  readonly redisForLogs: string;
  /** How long a pub/sub connection (or a shard's) may be down before /readyz reports the node not ready. */
  readonly readyPubsubGraceMs: number;
  readonly redisKeyPrefix: string;
  /** Anonymous publisher keys (PUBLISHER_KEYS): their writes are audited with publisher `null`. */
  readonly publisherKeys: readonly string[];
  /** Named publisher keys (PUBLISHERS): their writes are audited with their name. Names and keys are unique. */
  readonly publishers: readonly NamedPublisher[];
  /** Set when no PUBLISHER_KEYS were given outside production: a key generated for this run. */
  readonly generatedPublisherKey: string | undefined;
  readonly streamMaxLen: number;
  readonly logLevel: string;
  readonly idempotencyTtlSeconds: number;
  readonly demo: boolean;
  readonly demoIntervalMs: number;
  /** `['*']` allows any origin (refused in production). */
  readonly allowedOrigins: readonly string[];
  readonly wsMaxSubscriptions: number;
  readonly wsMaxFrameBytes: number;
  readonly wsMaxBufferedBytes: number;
  readonly wsHeartbeatMs: number;
  readonly wsDrainTimeoutMs: number;
  readonly wsSubscribeRate: number;
  /** Defaults to `wsMaxSubscriptions`, so a client resubscribing all its stories after a reconnect passes. */
  readonly wsSubscribeBurst: number;
  /** Stories this node follows at most (each costs a channel subscription); more answer `node_story_limit`. */
  readonly maxActiveStories: number;
  readonly shutdownTimeoutMs: number;
  /**
   * The service's public origin (and optional path), no trailing slash: canonical links, JSON-LD and embed
   * snippets are built from it, never from a request's Host header. Required in production; otherwise
   * `http://localhost:<PORT>`.
   */
  readonly publicUrl: string;
  /** Bytes the per-story cache of views, pages and their compressed forms may hold (LRU over stories). */
  readonly readCacheMaxBytes: number;
  /** Answer plain GETs of the story page and view before the router (src/http/hot-reads.ts); off sends them through it. */
  readonly readHotPath: boolean;
  /** `s-maxage` of a live story's page and view: how long a shared cache (CDN) may serve them without asking. */
  readonly cdnMaxAgeSeconds: number;
  /** `stale-while-revalidate` of the page and view. */
  readonly cdnStaleSeconds: number;
  /** `s-maxage` of an ended story's page and view (it may be reopened or corrected, so at most 300). */
  readonly cdnEndedMaxAgeSeconds: number;
  /** When set, `GET /metrics` needs `Authorization: Bearer <metricsToken>`; unset, it is open. */
  readonly metricsToken: string | undefined;
  /** Webhooks: see the README's configuration table (WEBHOOK_*). */
  readonly webhooks: WebhookConfig;
  /** Keys subscriber tokens are verified with (and, with SUBSCRIBER_TOKEN_SECRET, minted with); undefined when none is set. */
  readonly subscriberTokenKeys: VerificationKeys | undefined;
  /** `iss` and `aud` a subscriber token must carry, when set. */
  readonly subscriberTokenIssuer: string | undefined;
  readonly subscriberTokenAudience: string | undefined;
  /** How often each node looks for embargoes that are due. */
  readonly embargoPollMs: number;
  /** Interval of the heartbeat comment on Server-Sent Events streams. */
  readonly sseHeartbeatMs: number;
}

/** Webhook delivery settings. */
export interface WebhookConfig {
  /** Let webhook URLs reach loopback, private and link-local addresses (tests, private deployments). */
  readonly allowPrivateNetworks: boolean;
  readonly timeoutMs: number;
  readonly retryBaseMs: number;
  /** How long deliveries may keep failing before the webhook is disabled. */
  readonly retryMaxMs: number;
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly sweepMs: number;
  readonly idleMs: number;
}

/** One entry of PUBLISHERS: a name the audit trail records, and its bearer key. */
export interface NamedPublisher {
  readonly name: string;
  readonly key: string;
}

/** Redis Cluster seeds, and what every node connection needs (credentials and TLS come from the seeds' URLs). */
export interface RedisClusterConfig {
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean;
}

/** Thrown for a bad environment; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const defaultRedisUrl = 'redis://127.0.0.1:6379';

/** Parses the environment. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(`${name}: ${issue?.message ?? 'invalid'} (got ${JSON.stringify(env[name] ?? null)})`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';

  const publisherKeys = (e.PUBLISHER_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  if (publisherKeys.some((k) => k.length < 8)) throw new ConfigError('PUBLISHER_KEYS: each key must be at least 8 characters');
  const publishers = parsePublishers(e.PUBLISHERS ?? '', publisherKeys);
  let generatedPublisherKey: string | undefined;
  if (publisherKeys.length === 0 && publishers.length === 0) {
    if (production) throw new ConfigError('PUBLISHER_KEYS: required when NODE_ENV=production (comma-separated bearer keys), unless PUBLISHERS names keys');
    generatedPublisherKey = `dev-${randomBytes(12).toString('hex')}`;
    publisherKeys.push(generatedPublisherKey);
  }

  // Empty is unset, as with PUBLISHER_KEYS (compose passes `${METRICS_TOKEN:-}`).
  const metricsToken = e.METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,200}$/.test(metricsToken)) {
    throw new ConfigError('METRICS_TOKEN: must be 16-200 visible ASCII characters (no spaces)');
  }

  if (e.REDIS_CLUSTER_NODES !== undefined && e.REDIS_URL !== undefined) {
    throw new ConfigError('REDIS_CLUSTER_NODES and REDIS_URL are both set: set REDIS_URL for one Redis, or REDIS_CLUSTER_NODES for Redis Cluster, not both');
  }
  const redisCluster = e.REDIS_CLUSTER_NODES === undefined ? undefined : parseClusterNodes(e.REDIS_CLUSTER_NODES);

  const allowedOrigins = (e.ALLOWED_ORIGINS ?? (production ? '' : '*')).split(',').map((o) => o.trim()).filter(Boolean);
  if (production && allowedOrigins.includes('*')) throw new ConfigError('ALLOWED_ORIGINS: "*" is not allowed when NODE_ENV=production');
  for (const origin of allowedOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(`ALLOWED_ORIGINS: "${origin}" is not an origin like https://example.com`);
    }
  }

  const publicUrl = parsePublicUrl(e.PUBLIC_URL, production, e.PORT);

  return Object.freeze({
    production,
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL ?? defaultRedisUrl,
    redisUrlGiven: e.REDIS_URL !== undefined || redisCluster !== undefined,
    redisCluster,
    redisForLogs: redisCluster ? `cluster ${redisCluster.nodes.map((n) => `${n.host}:${n.port}`).join(',')}` : urlWithoutCredentials(e.REDIS_URL ?? defaultRedisUrl),
    readyPubsubGraceMs: e.READY_PUBSUB_GRACE_MS,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    publisherKeys: Object.freeze(publisherKeys),
    publishers,
    generatedPublisherKey,
    streamMaxLen: e.STREAM_MAXLEN,
    logLevel: e.LOG_LEVEL,
    idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_SECONDS,
    demo: (e.DEMO ?? (production ? 'off' : 'on')) === 'on',
    demoIntervalMs: e.DEMO_INTERVAL_MS,
    allowedOrigins: Object.freeze(allowedOrigins),
    wsMaxSubscriptions: e.WS_MAX_SUBSCRIPTIONS,
    wsMaxFrameBytes: e.WS_MAX_FRAME_BYTES,
    wsMaxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
    wsHeartbeatMs: e.WS_HEARTBEAT_MS,
    wsDrainTimeoutMs: e.WS_DRAIN_TIMEOUT_MS,
    wsSubscribeRate: e.WS_SUBSCRIBE_RATE,
    wsSubscribeBurst: e.WS_SUBSCRIBE_BURST ?? e.WS_MAX_SUBSCRIPTIONS,
    maxActiveStories: e.MAX_ACTIVE_STORIES,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    publicUrl,
    readCacheMaxBytes: e.READ_CACHE_MAX_BYTES,
    readHotPath: e.READ_HOT_PATH === 'on',
    cdnMaxAgeSeconds: e.CDN_MAX_AGE_SECONDS,
    cdnStaleSeconds: e.CDN_STALE_SECONDS,
    cdnEndedMaxAgeSeconds: e.CDN_ENDED_MAX_AGE_SECONDS,
    metricsToken,
    webhooks: Object.freeze({
      allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'on',
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: e.WEBHOOK_RETRY_MAX_MS,
      concurrency: e.WEBHOOK_CONCURRENCY,
      leaseMs: e.WEBHOOK_LEASE_MS,
      sweepMs: e.WEBHOOK_SWEEP_MS,
      idleMs: e.WEBHOOK_IDLE_MS,
    }),
    subscriberTokenKeys: parseTokenKeys(e.SUBSCRIBER_TOKEN_SECRET, e.SUBSCRIBER_TOKEN_PUBLIC_KEY, e.SUBSCRIBER_TOKEN_JWKS),
    subscriberTokenIssuer: e.SUBSCRIBER_TOKEN_ISSUER,
    subscriberTokenAudience: e.SUBSCRIBER_TOKEN_AUDIENCE,
    embargoPollMs: e.EMBARGO_POLL_MS,
    sseHeartbeatMs: e.SSE_HEARTBEAT_MS,
  });
}

/** A publisher's name as the audit trail records it. */
const publisherNamePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * PUBLISHERS: comma-separated `name:key` pairs. The name is everything before the first colon, so a key may
 * itself contain colons. Names and keys must be unique, here and against PUBLISHER_KEYS: a key shared by two
 * entries would make "who wrote this" ambiguous. Errors never quote a key.
 */
function parsePublishers(value: string, anonymousKeys: readonly string[]): readonly NamedPublisher[] {
  const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
  const names = new Set<string>();
  const keys = new Set<string>(anonymousKeys);
  const publishers: NamedPublisher[] = [];
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const name = colon < 0 ? entry : entry.slice(0, colon);
    const key = colon < 0 ? '' : entry.slice(colon + 1).trim();
    const where = `entry ${index + 1}`;
    if (colon < 0) throw new ConfigError(`PUBLISHERS: ${where} is not "name:key" (e.g. PUBLISHERS=anna:a-long-secret,desk-bot:another-secret)`);
    if (!publisherNamePattern.test(name)) {
      throw new ConfigError(`PUBLISHERS: ${where} has the name ${JSON.stringify(name)}: use 1-64 of a-z, 0-9, ".", "_" and "-", starting with a letter or digit`);
    }
    if (key.length < 8) throw new ConfigError(`PUBLISHERS: the key of "${name}" must be at least 8 characters`);
    if (!/^[\x21-\x7e]+$/.test(key)) throw new ConfigError(`PUBLISHERS: the key of "${name}" must be visible ASCII characters only`);
    if (names.has(name)) throw new ConfigError(`PUBLISHERS: the name "${name}" is given twice`);
    if (keys.has(key)) throw new ConfigError(`PUBLISHERS: the key of "${name}" is already used by another publisher (in PUBLISHERS or PUBLISHER_KEYS): give each its own`);
    names.add(name);
    keys.add(key);
    publishers.push(Object.freeze({ name, key }));
  });
  return Object.freeze(publishers);
}

/**
 * The subscriber token keys: SUBSCRIBER_TOKEN_SECRET (HS256), and/or SUBSCRIBER_TOKEN_PUBLIC_KEY (PEM; `\\n`
 * escapes allowed, for environments that hold one line) or SUBSCRIBER_TOKEN_JWKS (a file holding a JWKS).
 */
function parseTokenKeys(secret: string | undefined, publicKey: string | undefined, jwksPath: string | undefined): VerificationKeys | undefined {
  let jwks: { keys: [] } | undefined;
  if (jwksPath !== undefined) {
    try {
      jwks = JSON.parse(readFileSync(jwksPath, 'utf8')) as { keys: [] };
    } catch (error) {
      throw new ConfigError(`SUBSCRIBER_TOKEN_JWKS: cannot read a JSON key set from "${jwksPath}" (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  try {
    return verificationKeys({ secret, publicKeyPem: publicKey?.replace(/\\n/g, '\n'), jwks });
  } catch (error) {
    if (error instanceof TokenKeyError) throw new ConfigError(error.message);
    throw error;
  }
}

/**
 * REDIS_CLUSTER_NODES: comma-separated seeds, each `host:port` or `redis[s]://[user:pass@]host:port`. The seeds
 * must agree on credentials and TLS: every node of one cluster is reached the same way.
 */
function parseClusterNodes(value: string): RedisClusterConfig {
  const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) throw new ConfigError('REDIS_CLUSTER_NODES: list at least one seed node, e.g. "10.0.0.1:6379,10.0.0.2:6379"');
  const seeds = entries.map((entry) => {
    const withScheme = /^[a-z]+:\/\//i.test(entry) ? entry : `redis://${entry}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw new ConfigError(`REDIS_CLUSTER_NODES: "${entry}" is not host:port or redis[s]://[user:pass@]host:port`);
    }
    const port = Number(url.port);
    if (!/^rediss?:$/.test(url.protocol) || !url.hostname || !url.port || !Number.isInteger(port) || port < 1 || port > 65535 || (url.pathname !== '' && url.pathname !== '/')) {
      throw new ConfigError(`REDIS_CLUSTER_NODES: "${entry}" is not host:port or redis[s]://[user:pass@]host:port`);
    }
    return {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port,
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      tls: url.protocol === 'rediss:',
    };
  });
  const [first] = seeds;
  if (seeds.some((s) => s.username !== first!.username || s.password !== first!.password || s.tls !== first!.tls)) {
    throw new ConfigError('REDIS_CLUSTER_NODES: every seed must use the same scheme and credentials');
  }
  return Object.freeze({
    nodes: Object.freeze(seeds.map(({ host, port }) => Object.freeze({ host, port }))),
    username: first!.username,
    password: first!.password,
    tls: first!.tls,
  });
}

function urlWithoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

/** PUBLIC_URL: an absolute http(s) URL without query, fragment or credentials; the trailing slash is dropped. */
function parsePublicUrl(value: string | undefined, production: boolean, port: number): string {
  if (value === undefined || value.trim() === '') {
    if (production) throw new ConfigError('PUBLIC_URL: required when NODE_ENV=production (the address readers use, e.g. https://live.example.com)');
    return `http://localhost:${port}`;
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(`PUBLIC_URL: "${value}" is not an absolute URL like https://live.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`PUBLIC_URL: "${value}" must start with http:// or https://`);
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigError(`PUBLIC_URL: "${value}" must not carry a query, a fragment or credentials`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
