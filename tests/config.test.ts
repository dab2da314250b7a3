import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

/** loadConfig over exactly this environment (never the test process's own). */
const load = (env: Record<string, string> = {}) => loadConfig(env);

function refusal(env: Record<string, string>): ConfigError {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = load();
    expect(config).toMatchObject({
      production: false,
      port: 8080,
      host: '0.0.0.0',
      redisUrl: 'redis://127.0.0.1:6379',
      redisUrlGiven: false,
      streamMaxLen: 10_000,
      logLevel: 'info',
      idempotencyTtlSeconds: 86_400,
      demo: true,
      allowedOrigins: ['*'],
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable it is given', () => {
    const config = load({
      PORT: '9090',
      HOST: '127.0.0.1',
      REDIS_URL: 'redis://redis.internal:6380/2',
      PUBLISHER_KEYS: 'first-key-123, second-key-456',
      STREAM_MAXLEN: '500',
      LOG_LEVEL: 'debug',
      IDEMPOTENCY_TTL_SECONDS: '60',
      DEMO: 'off',
      ALLOWED_ORIGINS: 'https://news.example.com,http://localhost:3000',
    });
    expect(config).toMatchObject({
      port: 9090,
      host: '127.0.0.1',
      redisUrl: 'redis://redis.internal:6380/2',
      redisUrlGiven: true,
      publisherKeys: ['first-key-123', 'second-key-456'],
      generatedPublisherKey: undefined,
      streamMaxLen: 500,
      logLevel: 'debug',
      idempotencyTtlSeconds: 60,
      demo: false,
      allowedOrigins: ['https://news.example.com', 'http://localhost:3000'],
    });
  });

  it.each(['abc', '-1', '70000', '80.5'])('refuses PORT=%s naming PORT', (port) => {
    expect(refusal({ PORT: port }).message).toMatch(/^PORT: /);
  });

  it.each(['0', '-5', 'lots', '1.5'])('refuses STREAM_MAXLEN=%s naming STREAM_MAXLEN', (value) => {
    const message = refusal({ STREAM_MAXLEN: value }).message;
    expect(message).toMatch(/^STREAM_MAXLEN: /);
    expect(message).toContain(JSON.stringify(value));
  });

  it('refuses a REDIS_URL that is not a redis:// URL, naming REDIS_URL', () => {
    expect(refusal({ REDIS_URL: 'http://127.0.0.1:6379' }).message).toMatch(/^REDIS_URL: /);
  });

  it('refuses an unknown LOG_LEVEL and DEMO value, naming each', () => {
    expect(refusal({ LOG_LEVEL: 'loud' }).message).toMatch(/^LOG_LEVEL: /);
    expect(refusal({ DEMO: 'yes' }).message).toMatch(/^DEMO: /);
  });

  it('requires PUBLISHER_KEYS when NODE_ENV=production', () => {
    expect(refusal({ NODE_ENV: 'production', ALLOWED_ORIGINS: 'https://news.example.com' }).message).toMatch(/^PUBLISHER_KEYS: .*required/);
  });

  it('refuses PUBLISHER_KEYS of only blanks and commas in production', () => {
    expect(refusal({ NODE_ENV: 'production', PUBLISHER_KEYS: ' , ,', ALLOWED_ORIGINS: 'https://news.example.com' }).message).toMatch(/^PUBLISHER_KEYS: /);
  });

  it('refuses a publisher key shorter than 8 characters without echoing it', () => {
    const message = refusal({ PUBLISHER_KEYS: 'good-key-123,short' }).message;
    expect(message).toMatch(/^PUBLISHER_KEYS: /);
    expect(message).not.toContain('short');
    expect(message).not.toContain('good-key-123');
  });

  it('takes METRICS_TOKEN as given, empty as unset, and refuses a short one without echoing it', () => {
    expect(load({ METRICS_TOKEN: 'metrics-token-0123456789' }).metricsToken).toBe('metrics-token-0123456789');
    expect(load({ METRICS_TOKEN: '' }).metricsToken).toBeUndefined();
    expect(load().metricsToken).toBeUndefined();
    for (const token of ['short-secret', 'has a space in it 0123456789']) {
      const error = refusal({ METRICS_TOKEN: token });
      expect(error.message).toMatch(/^METRICS_TOKEN: /);
      expect(error.message).not.toContain(token);
    }
  });

  it('generates a development key when PUBLISHER_KEYS is absent outside production, a new one per run', () => {
    const first = load();
    const second = load();
    expect(first.generatedPublisherKey).toMatch(/^dev-[0-9a-f]{24}$/);
    expect(first.publisherKeys).toEqual([first.generatedPublisherKey]);
    expect(second.generatedPublisherKey).not.toBe(first.generatedPublisherKey);
  });

  it('generates no key when PUBLISHER_KEYS is given', () => {
    const config = load({ PUBLISHER_KEYS: 'given-key-123' });
    expect(config.generatedPublisherKey).toBeUndefined();
    expect(config.publisherKeys).toEqual(['given-key-123']);
  });

  it('reads PUBLISHERS as name:key pairs, a key keeping its own colons, alongside anonymous PUBLISHER_KEYS', () => {
    const config = load({ PUBLISHERS: 'anna:key-of-anna-1, desk-bot:bot:key:with:colons', PUBLISHER_KEYS: 'old:anonymous-key' });
    expect(config.publishers).toEqual([
      { name: 'anna', key: 'key-of-anna-1' },
      { name: 'desk-bot', key: 'bot:key:with:colons' },
    ]);
    // A colon in PUBLISHER_KEYS never makes a name: the key stays anonymous, whole.
    expect(config.publisherKeys).toEqual(['old:anonymous-key']);
    expect(config.generatedPublisherKey).toBeUndefined();
  });

  it('accepts PUBLISHERS alone in production, and generates no development key for it', () => {
    const config = load({ NODE_ENV: 'production', PUBLISHERS: 'anna:key-of-anna-1', ALLOWED_ORIGINS: 'https://news.example.com', PUBLIC_URL: 'https://live.example.com' });
    expect(config.publisherKeys).toEqual([]);
    expect(config.publishers).toEqual([{ name: 'anna', key: 'key-of-anna-1' }]);
    expect(load({ PUBLISHERS: 'anna:key-of-anna-1' }).generatedPublisherKey).toBeUndefined();
  });

  it.each([
    ['an entry without a colon', 'anna-key-123', /not "name:key"/],
    ['a name with capitals', 'Anna:key-of-anna-1', /name "Anna"/],
    ['a name starting with a dot', '.anna:key-of-anna-1', /name ".anna"/],
    ['a name over 64 characters', `${'a'.repeat(65)}:key-of-anna-1`, /use 1-64/],
    ['an empty name', ':key-of-anna-1', /name ""/],
    ['a key shorter than 8 characters', 'anna:short', /key of "anna" must be at least 8/],
    ['a name given twice', 'anna:key-of-anna-1,anna:key-of-anna-2', /"anna" is given twice/],
    ['a key given twice', 'anna:same-key-123,bob:same-key-123', /key of "bob" is already used/],
  ])('refuses PUBLISHERS with %s, naming PUBLISHERS and never quoting a key', (_name, value, reason) => {
    const message = refusal({ PUBLISHERS: value }).message;
    expect(message).toMatch(/^PUBLISHERS: /);
    expect(message).toMatch(reason);
    for (const secret of ['key-of-anna', 'same-key-123', 'short']) expect(message).not.toContain(secret);
  });

  it('refuses a PUBLISHERS key that is also an anonymous PUBLISHER_KEYS key', () => {
    expect(refusal({ PUBLISHERS: 'anna:shared-key-123', PUBLISHER_KEYS: 'shared-key-123' }).message).toMatch(/^PUBLISHERS: the key of "anna" is already used/);
  });

  it('turns DEMO on by default outside production and off in production', () => {
    expect(load({ NODE_ENV: 'development' }).demo).toBe(true);
    expect(load({ NODE_ENV: 'test' }).demo).toBe(true);
    const production = { NODE_ENV: 'production', PUBLISHER_KEYS: 'prod-key-12345', ALLOWED_ORIGINS: 'https://news.example.com', PUBLIC_URL: 'https://live.example.com' };
    expect(load(production).demo).toBe(false);
    expect(load({ ...production, DEMO: 'on' }).demo).toBe(true);
    expect(load({ DEMO: 'off' }).demo).toBe(false);
  });

  it('refuses ALLOWED_ORIGINS=* in production, naming ALLOWED_ORIGINS', () => {
    const message = refusal({ NODE_ENV: 'production', PUBLISHER_KEYS: 'prod-key-12345', ALLOWED_ORIGINS: '*' }).message;
    expect(message).toMatch(/^ALLOWED_ORIGINS: /);
  });

  it('allows no origin by default in production, and any origin by default elsewhere', () => {
    expect(load({ NODE_ENV: 'production', PUBLISHER_KEYS: 'prod-key-12345', PUBLIC_URL: 'https://live.example.com' }).allowedOrigins).toEqual([]);
    expect(load().allowedOrigins).toEqual(['*']);
  });

  it('refuses an origin that is not scheme://host, naming ALLOWED_ORIGINS', () => {
    expect(refusal({ ALLOWED_ORIGINS: 'news.example.com' }).message).toMatch(/^ALLOWED_ORIGINS: /);
    expect(refusal({ ALLOWED_ORIGINS: 'https://news.example.com/path' }).message).toMatch(/^ALLOWED_ORIGINS: /);
  });

  it('switches to Redis Cluster with REDIS_CLUSTER_NODES, taking credentials and TLS from the seeds', () => {
    expect(load({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001' }).redisCluster).toEqual({
      nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }],
      username: undefined,
      password: undefined,
      tls: false,
    });
    const secure = load({ REDIS_CLUSTER_NODES: 'rediss://app:s%3Acret@redis-1:6379,rediss://app:s%3Acret@redis-2:6379' });
    expect(secure.redisCluster).toMatchObject({ username: 'app', password: 's:cret', tls: true });
    // Logs name the seeds, never the credentials.
    expect(secure.redisForLogs).toBe('cluster redis-1:6379,redis-2:6379');
    expect(load().redisCluster).toBeUndefined();
  });

  it('refuses REDIS_CLUSTER_NODES with REDIS_URL, and seeds that are not host:port', () => {
    expect(refusal({ REDIS_CLUSTER_NODES: '10.0.0.1:7000', REDIS_URL: 'redis://10.0.0.1:6379' }).message).toMatch(/REDIS_URL.*not both/);
    for (const bad of ['', 'redis-1', 'redis-1:0', 'redis-1:99999', 'http://redis-1:6379', 'redis://redis-1:6379/2', 'redis://a:b@r1:1,redis://r2:2']) {
      expect(refusal({ REDIS_CLUSTER_NODES: bad }).message).toMatch(/^REDIS_CLUSTER_NODES: /);
    }
  });

  it('requires PUBLIC_URL in production, naming PUBLIC_URL', () => {
    const message = refusal({ NODE_ENV: 'production', PUBLISHER_KEYS: 'prod-key-12345', ALLOWED_ORIGINS: 'https://news.example.com' }).message;
    expect(message).toMatch(/^PUBLIC_URL: .*required/);
  });

  it('falls back to http://localhost:<PORT> for PUBLIC_URL outside production, and drops a trailing slash', () => {
    expect(load({ PORT: '9090' }).publicUrl).toBe('http://localhost:9090');
    expect(load({ PUBLIC_URL: 'https://live.example.com/' }).publicUrl).toBe('https://live.example.com');
    expect(load({ PUBLIC_URL: 'https://example.com/live/' }).publicUrl).toBe('https://example.com/live');
  });

  it.each(['live.example.com', 'ftp://live.example.com', 'https://live.example.com/?a=1', 'https://user:pw@live.example.com', 'https://live.example.com/#x'])(
    'refuses PUBLIC_URL=%s naming PUBLIC_URL',
    (value) => {
      expect(refusal({ PUBLIC_URL: value }).message).toMatch(/^PUBLIC_URL: /);
    },
  );

  it('applies the documented cache defaults and refuses an ended-story max age over 300 s', () => {
    expect(load()).toMatchObject({ readCacheMaxBytes: 134_217_728, cdnMaxAgeSeconds: 3, cdnStaleSeconds: 10, cdnEndedMaxAgeSeconds: 120 });
    expect(refusal({ CDN_ENDED_MAX_AGE_SECONDS: '301' }).message).toMatch(/^CDN_ENDED_MAX_AGE_SECONDS: /);
    expect(refusal({ READ_CACHE_MAX_BYTES: '0' }).message).toMatch(/^READ_CACHE_MAX_BYTES: /);
  });
});
