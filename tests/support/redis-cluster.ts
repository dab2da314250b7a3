import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import keySlotOf from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { redisServerReady } from './redis-server.js';

const execFileAsync = promisify(execFile);

/** Number of hash slots in a Redis Cluster. */
export const clusterSlotCount = 16_384;

/** The cluster bus of a node listens on its port plus this offset (Redis's default). */
const busPortOffset = 10_000;

export interface RedisClusterOptions {
  /** @default 3 */
  masters?: number;
  /** 0 for masters only, 1 to give each master a replica (needed by `failover`). @default 0 */
  replicasPerMaster?: 0 | 1;
  /**
   * `cluster-node-timeout`. It bounds how long an unreachable node takes to be marked failed; a manual
   * `CLUSTER FAILOVER` does not wait for it. Lower is faster but, on a loaded 2-core machine, risks false
   * failure detections. @default 2000
   */
  nodeTimeoutMs?: number;
  /** How long `start`, `failover` and `waitUntilSettled` may take before they throw with what they saw. @default 20000 */
  settleTimeoutMs?: number;
}

export interface ClusterNode {
  readonly host: string;
  readonly port: number;
  readonly role: 'master' | 'replica';
  readonly nodeId: string;
  /** For a replica, the port of its master; for a master, undefined. */
  readonly masterPort: number | undefined;
}

export interface RunningRedisCluster {
  /** The nodes as of the last settle (start, `failover`, `waitUntilSettled`): roles change on failover. */
  readonly nodes: readonly ClusterNode[];
  /** Every node as comma-separated `host:port`, the form `REDIS_CLUSTER_NODES` takes. */
  readonly seeds: string;
  /** `{ host, port }` of every node, the form ioredis `new Cluster(startupNodes)` takes. */
  readonly startupNodes: { host: string; port: number }[];
  /** The master serving a slot (a number) or a key's slot (a string), as of the last settle. */
  masterFor(slotOrKey: number | string): ClusterNode;
  /** The replica of the master on `masterPort`, as of the last settle. Throws when it has none. */
  replicaOf(masterPort: number): ClusterNode;
  /** Runs one command on one node (not routed) and answers its raw reply. */
  command(port: number, name: string, ...args: (string | number)[]): Promise<unknown>;
  /**
   * `CLIENT KILL TYPE <type>` on every master (or every node): answers the number of connections each killed,
   * by port. Sharded subscribers are `pubsub` clients of the master serving their slot.
   */
  clientKill(options: { type: 'pubsub' | 'normal' | 'replica'; on?: 'masters' | 'all' }): Promise<Map<number, number>>;
  /**
   * `CLUSTER FAILOVER` on the replica listening on `replicaPort`, then waits until it is a master, its old master
   * is its replica, and every node says `cluster_state:ok` and agrees on the slot map. Answers the new master.
   */
  failover(replicaPort: number): Promise<ClusterNode>;
  /** Waits until every node says `cluster_state:ok`, all agree on slots and replicas are in sync; refreshes `nodes`. */
  waitUntilSettled(): Promise<void>;
  /** Kills every node and removes the temporary directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** The hash slot of `key` (CRC16 of its `{hash tag}` when it has one), as Redis and ioredis compute it. */
export function keySlot(key: string): number {
  return keySlotOf(key);
}

/**
 * Story ids `<prefix>-<n>` such that every master serves at least `perMaster` of them (a story's keys and channel
 * carry the `{story}` hash tag, so the story id alone decides the slot). Answered in the order they were generated.
 */
export function storiesCoveringMasters(cluster: RunningRedisCluster, prefix: string, perMaster = 1): string[] {
  const masters = cluster.nodes.filter((node) => node.role === 'master');
  const counts = new Map(masters.map((node) => [node.port, 0]));
  const stories: string[] = [];
  for (let n = 0; [...counts.values()].some((count) => count < perMaster); n++) {
    if (n > 100_000) throw new Error('could not find stories covering every master');
    const story = `${prefix}-${n}`;
    const port = cluster.masterFor(keySlot(`{${story}}`)).port;
    const count = counts.get(port) ?? 0;
    if (count >= perMaster) continue;
    counts.set(port, count + 1);
    stories.push(story);
  }
  return stories;
}

const liveNodes = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Node children are killed when this process exits normally, and, through `setpriv --pdeathsig KILL`, by the
 * kernel when it dies any other way (a SIGKILLed vitest worker must not leave a cluster behind).
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveNodes) child.kill('SIGKILL');
  });
}

/** True when nothing listens on 127.0.0.1:`port`. */
async function portIsFree(port: number): Promise<boolean> {
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

/** A random port in 20000-29999 whose cluster bus port (port + 10000) is free too, and not in `taken`. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (taken.has(port)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + busPortOffset))) return port;
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

/** Spawns one cluster-enabled redis-server and resolves once it accepts connections; rejects with its output. */
async function spawnNode(port: number, dir: string, nodeTimeoutMs: number): Promise<ChildProcess> {
  const args = [
    '--pdeathsig', 'KILL', '--', 'redis-server',
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--cluster-enabled', 'yes',
    '--cluster-config-file', join(dir, `nodes-${port}.conf`),
    '--cluster-node-timeout', String(nodeTimeoutMs),
    '--appendonly', 'no',
    '--save', '',
    '--dir', dir,
    // A replica's first sync is diskless; the default 5 s delay (waiting for more replicas) would dominate startup.
    '--repl-diskless-sync-delay', '0',
    // CLUSTER SLOTS lists a replica only once its replication offset is non-zero, which on an idle master happens
    // at the master's first PING to it: every 10 s by default, every second here.
    '--repl-ping-replica-period', '1',
  ];
  const child = spawn('setpriv', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await redisServerReady(child, port);
  // The pipes must keep draining or a chatty node blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

/** Starts a node on a free port pair, retrying on another port if one was taken between the probe and the bind. */
async function startNode(taken: Set<number>, dir: string, nodeTimeoutMs: number): Promise<{ port: number; child: ChildProcess }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeClusterPort(taken);
    taken.add(port);
    try {
      const child = await spawnNode(port, dir, nodeTimeoutMs);
      return { port, child };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** One parsed line of `CLUSTER NODES`. */
interface NodesLine {
  nodeId: string;
  port: number;
  flags: string[];
  masterId: string | undefined;
}

function parseClusterNodes(reply: string): NodesLine[] {
  return reply
    .trim()
    .split('\n')
    .map((line) => {
      const [nodeId = '', address = '', flags = '', masterId = '-'] = line.split(' ');
      // address is host:port@busport[,hostname]
      const port = Number(address.split('@')[0]!.split(':').pop());
      return { nodeId, port, flags: flags.split(','), masterId: masterId === '-' ? undefined : masterId };
    });
}

/** `CLUSTER SLOTS` reduced to `start-end master replicas…` lines, sorted, so replies of two nodes compare. */
function slotMapOf(reply: unknown): string {
  const ranges = reply as [number, number, ...[string, number, string?][]][];
  return ranges
    .map(([start, end, ...servers]) => {
      const [master, ...replicas] = servers.map(([, port]) => port);
      return `${start}-${end} ${master} ${replicas.sort((a, b) => a - b).join(',')}`;
    })
    .sort()
    .join('\n');
}

function infoField(info: string, field: string): string | undefined {
  const line = info.split('\r\n').find((l) => l.startsWith(`${field}:`));
  return line?.slice(field.length + 1);
}

/**
 * Starts a real Redis Cluster of `masters` masters (and optionally one replica each) from `redis-server` and
 * `redis-cli --cluster create`, on free ports in a fresh temporary directory, and resolves once every node says
 * `cluster_state:ok`, every node has the same slot map and every replica's link to its master is up.
 * Call `stop()` in `afterAll`; nodes also die with this process.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RunningRedisCluster> {
  const masters = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 0;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2000;
  const settleTimeoutMs = options.settleTimeoutMs ?? 20_000;
  if (masters < 3) throw new Error('redis-cli --cluster create needs at least 3 masters');
  installExitHook();

  const dir = mkdtempSync(join(tmpdir(), 'stoppress-cluster-'));
  const children = new Map<number, ChildProcess>();
  const connections = new Map<number, Redis>();
  let nodes: ClusterNode[] = [];
  let slotOwners: number[] = [];
  let stopped = false;

  const connection = (port: number): Redis => {
    let redis = connections.get(port);
    if (!redis) {
      // No retries: a command to a node that went down fails now instead of waiting for it to come back.
      redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0 });
      redis.on('error', () => {});
      connections.set(port, redis);
    }
    return redis;
  };
  const command = (port: number, name: string, ...args: (string | number)[]): Promise<unknown> =>
    connection(port).call(name, ...args);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const redis of connections.values()) redis.disconnect();
    await Promise.all(
      [...children.values()].map(async (child) => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = once(child, 'exit');
          child.kill('SIGKILL');
          await exited;
        }
        liveNodes.delete(child);
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };

  /** One look at every node: answers why the cluster is not settled yet, or undefined when it is. */
  const unsettledReason = async (): Promise<string | undefined> => {
    const ports = [...children.keys()];
    const maps = new Set<string>();
    for (const port of ports) {
      const info = String(await command(port, 'CLUSTER', 'INFO'));
      if (infoField(info, 'cluster_state') !== 'ok') return `${port}: cluster_state:${infoField(info, 'cluster_state')}`;
      if (Number(infoField(info, 'cluster_known_nodes')) !== ports.length) {
        return `${port}: knows ${infoField(info, 'cluster_known_nodes')} of ${ports.length} nodes`;
      }
      const map = slotMapOf(await command(port, 'CLUSTER', 'SLOTS'));
      maps.add(map);
      const role = (await command(port, 'ROLE')) as [string, ...unknown[]];
      if (role[0] === 'slave') {
        const replication = String(await command(port, 'INFO', 'replication'));
        if (infoField(replication, 'master_link_status') !== 'up') return `${port}: replica link ${infoField(replication, 'master_link_status')}`;
      }
    }
    if (maps.size !== 1) return `nodes disagree on slots:\n${[...maps].join('\n---\n')}`;
    const [map] = maps;
    const covered = map!.split('\n').reduce((sum, line) => {
      const [start, end] = line.split(' ')[0]!.split('-').map(Number);
      return sum + end! - start! + 1;
    }, 0);
    if (covered !== clusterSlotCount) return `${covered} slots covered`;
    if (map!.split('\n').some((line) => line.split(' ')[2] === '' && replicasPerMaster > 0)) return 'a master has no replica yet';
    return undefined;
  };

  const refreshTopology = async (): Promise<void> => {
    const [anyPort] = children.keys();
    const lines = parseClusterNodes(String(await command(anyPort!, 'CLUSTER', 'NODES')));
    const portOf = new Map(lines.map((line) => [line.nodeId, line.port]));
    nodes = lines
      .map((line): ClusterNode => ({
        host: '127.0.0.1',
        port: line.port,
        nodeId: line.nodeId,
        role: line.flags.includes('master') ? 'master' : 'replica',
        masterPort: line.masterId ? portOf.get(line.masterId) : undefined,
      }))
      .sort((a, b) => a.port - b.port);
    slotOwners = new Array<number>(clusterSlotCount);
    for (const [start, end, [, port]] of (await command(anyPort!, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][]) {
      for (let slot = start; slot <= end; slot++) slotOwners[slot] = port;
    }
  };

  const waitUntilSettled = async (): Promise<void> => {
    const deadline = Date.now() + settleTimeoutMs;
    let reason: string | undefined = 'not polled';
    while (Date.now() < deadline) {
      reason = await unsettledReason().catch((error: Error) => `error: ${error.message}`);
      if (reason === undefined) {
        await refreshTopology();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`Redis Cluster did not settle within ${settleTimeoutMs} ms: ${reason}`);
  };

  const nodeOn = (port: number): ClusterNode => {
    const node = nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no cluster node on port ${port}`);
    return node;
  };

  try {
    const taken = new Set<number>();
    const started = await Promise.all(
      Array.from({ length: masters * (1 + replicasPerMaster) }, () => startNode(taken, dir, nodeTimeoutMs)),
    );
    for (const { port, child } of started) {
      children.set(port, child);
      liveNodes.add(child);
    }
    const addresses = [...children.keys()].map((port) => `127.0.0.1:${port}`);
    await execFileAsync('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicasPerMaster), '--cluster-yes'], {
      timeout: settleTimeoutMs,
    }).catch((error: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`redis-cli --cluster create failed: ${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
    await waitUntilSettled();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    get nodes() {
      return nodes;
    },
    seeds: [...children.keys()].map((port) => `127.0.0.1:${port}`).join(','),
    startupNodes: [...children.keys()].map((port) => ({ host: '127.0.0.1', port })),
    masterFor(slotOrKey) {
      const slot = typeof slotOrKey === 'number' ? slotOrKey : keySlot(slotOrKey);
      const port = slotOwners[slot];
      if (port === undefined) throw new Error(`no master serves slot ${slot}`);
      return nodeOn(port);
    },
    replicaOf(masterPort) {
      const replica = nodes.find((node) => node.role === 'replica' && node.masterPort === masterPort);
      if (!replica) throw new Error(`the master on ${masterPort} has no replica`);
      return replica;
    },
    command,
    async clientKill({ type, on = 'masters' }) {
      const killed = new Map<number, number>();
      for (const node of nodes) {
        if (on === 'masters' && node.role !== 'master') continue;
        killed.set(node.port, Number(await command(node.port, 'CLIENT', 'KILL', 'TYPE', type)));
      }
      return killed;
    },
    async failover(replicaPort) {
      const replica = nodeOn(replicaPort);
      if (replica.role !== 'replica' || replica.masterPort === undefined) throw new Error(`${replicaPort} is not a replica`);
      const oldMasterPort = replica.masterPort;
      await command(replicaPort, 'CLUSTER', 'FAILOVER');
      const deadline = Date.now() + settleTimeoutMs;
      for (;;) {
        const [newRole] = (await command(replicaPort, 'ROLE')) as [string];
        const [oldRole] = (await command(oldMasterPort, 'ROLE')) as [string];
        if (newRole === 'master' && oldRole === 'slave') break;
        if (Date.now() > deadline) throw new Error(`failover of ${replicaPort} did not switch roles: ${newRole}/${oldRole}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await waitUntilSettled();
      return nodeOn(replicaPort);
    },
    waitUntilSettled,
    stop,
  };
}
