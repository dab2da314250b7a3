// Starts a server under test as a child process, waits until it answers, and stops it.
// The child is `node <entry>` spawned directly (no npm or shell in between), so the child's pid is
// the server's own pid and /proc/<pid> describes the server alone.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';

const TAIL_LINES = 40;

/** Asks the OS for a free TCP port on 127.0.0.1 (listen on port 0, read it back, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `node <entry>` in `cwd` with `env` added to this process's environment.
 * Returns `{ child, pid, exited, tail() }`: `exited` resolves to `{ code, signal }` when the
 * process ends; `tail()` gives its last lines of stdout/stderr (for error reports). The output is
 * always read, so a chatty server never blocks on a full pipe.
 */
export function startServer({ entry, cwd, env }) {
  const child = spawn(process.execPath, [entry], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  const keep = (chunk) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.once('error', (error) => lines.push(`spawn error: ${error.message}`));
  return { child, pid: child.pid, exited, tail: () => lines.join('\n') };
}

/** One GET without keep-alive; resolves to the status code (0 if the connection failed). */
function probe(url) {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
    req.end();
  });
}

/** Polls `url` until it answers 200; throws if the server exits first or `timeoutMs` passes. */
export async function waitUntilReady(server, url, timeoutMs = 20_000) {
  let exit = null;
  server.exited.then((e) => (exit = e));
  const deadline = Date.now() + timeoutMs;
  let lastStatus = 0;
  while (Date.now() < deadline) {
    if (exit) throw new Error(`server exited before it was ready (code ${exit.code}, signal ${exit.signal})`);
    lastStatus = await probe(url);
    if (lastStatus === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server not ready after ${timeoutMs} ms (GET ${url} last answered ${lastStatus || 'nothing'})`);
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves to `{ code, signal, killed }`. */
export async function stopServer(server, graceMs = 5000) {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return { ...(await server.exited), killed: false };
  server.child.kill('SIGTERM');
  let timer;
  const timedOut = new Promise((resolve) => (timer = setTimeout(() => resolve(null), graceMs)));
  const exit = await Promise.race([server.exited, timedOut]);
  clearTimeout(timer);
  if (exit) return { ...exit, killed: false };
  server.child.kill('SIGKILL');
  return { ...(await server.exited), killed: true };
}
