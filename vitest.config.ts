import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // A private redis-server for the run (unless REDIS_URL is set), then dist/ compiled once.
    globalSetup: ['tests/support/test-redis.ts', 'tests/support/build-once.ts'],
    // Integration tests talk to a real Redis and real sockets; each file uses its own key prefix, so files run in parallel.
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
