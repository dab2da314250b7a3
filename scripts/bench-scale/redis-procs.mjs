// Private Redis processes for the benchmark: one redis-server, or a 3-master Redis Cluster (modelled on
// tests/support/redis-cluster.ts), on free ports in a temporary directory. Never the shared 6379 Redis: its CPU
// time includes everyone else's work. Each server runs under `setpriv --pdeathsig KILL`, so it dies with us
// even when we are killed.
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import keySlot from 'cluster-key-slot';
import { Redis } from 'ioredis';

const execFileAsync = promisify(execFile);
const BUS_PORT_OFFSET = 10_000;
const SETTLE_TIMEOUT_MS = 20_000;

const started = new Set();
process.on('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

async function portIsFree(port) {
  const server = createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/** A random port in 30000-39999 that is free, and whose cluster bus port (port + 10000) is free too. */
async function freePortPair(taken) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 30_000 + Math.floor(Math.random() * 10_000);
    if (taken.has(port)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + BUS_PORT_OFFSET))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port for a private redis-server');
}

let redisCpus;

/** Runs every redis-server started from now on on these CPUs only (`taskset -c`, e.g. "1"). */
export function pinRedisTo(cpus) {
  redisCpus = cpus;
}

/** Spawns one redis-server (no persistence) and resolves once it accepts connections. */
async function spawnRedis(port, dir, extraArgs) {
  const args = ['--pdeathsig', 'KILL', '--', 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs];
  const child = redisCpus === undefined ? spawn('setpriv', args, { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn('taskset', ['-c', redisCpus, 'setpriv', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  await new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${port}:\n${output}`)), 10_000);
    const onData = (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on ${port} exited with ${code}:\n${output}`));
    });
  });
  child.stdout.resume();
  child.stderr.resume();
  return child;
}

function stopper(children, dir) {
  return async () => {
    await Promise.all(
      children.map(async (child) => {
        started.delete(child);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
}

/**
 * One private redis-server. Answers `{ kind: 'single', ports: [port], env, masterFor, stop }`: `env` is what a
 * Stoppress node needs to use it, `masterFor(key)` the port serving a key (always the one).
 */
export async function startSingleRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-scale-redis-'));
  const port = await freePortPair(new Set());
  const child = await spawnRedis(port, dir, []);
  return { kind: 'single', ports: [port], env: { REDIS_URL: `redis://127.0.0.1:${port}` }, masterFor: () => port, stop: stopper([child], dir) };
}

async function clusterSettled(ports) {
  const maps = new Set();
  for (const port of ports) {
    const redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, lazyConnect: true });
    redis.on('error', () => {});
    try {
      await redis.connect();
      const info = await redis.cluster('INFO');
      if (!/cluster_state:ok/.test(info)) return false;
      if (!new RegExp(`cluster_known_nodes:${ports.length}\\b`).test(info)) return false;
      maps.add(JSON.stringify((await redis.cluster('SLOTS')).map(([s, e, [, p]]) => [s, e, p]).sort((a, b) => a[0] - b[0])));
    } finally {
      redis.disconnect();
    }
  }
  return maps.size === 1 ? JSON.parse([...maps][0]) : false;
}

/**
 * A Redis Cluster of 3 masters, no replicas (`redis-cli --cluster create`), settled (every node `cluster_state:ok`
 * and the same slot map). Answers `{ kind: 'cluster', ports, env, masterFor, stop }`.
 */
export async function startRedisCluster(masters = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-scale-cluster-'));
  const taken = new Set();
  const ports = [];
  for (let i = 0; i < masters; i++) ports.push(await freePortPair(taken));
  const children = await Promise.all(
    ports.map((port) => spawnRedis(port, dir, ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '5000'])),
  );
  const stop = stopper(children, dir);
  try {
    await execFileAsync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: SETTLE_TIMEOUT_MS });
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    let slots = false;
    while (!(slots = await clusterSettled(ports).catch(() => false))) {
      if (Date.now() > deadline) throw new Error('the Redis Cluster did not settle');
      await new Promise((r) => setTimeout(r, 100));
    }
    const masterFor = (key) => {
      const slot = keySlot(key);
      return slots.find(([start, end]) => slot >= start && slot <= end)[2];
    };
    return { kind: 'cluster', ports, env: { REDIS_CLUSTER_NODES: ports.map((p) => `127.0.0.1:${p}`).join(',') }, masterFor, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
