// Child-process plumbing for the orchestrator: start a server and wait until it is ready, stop it,
// and run the load process with its IPC conversation.
import { spawn, fork } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { ROOT } from './targets.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port that is free right now (each target gets its own, so client ports in TIME_WAIT never collide). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Copies a child's output to ours, each line prefixed with `[tag]`. */
function relay(stream, tag) {
  createInterface({ input: stream }).on('line', (line) => console.log(`  [${tag}] ${line}`));
}

/** Spawns a server from `spec` ({command, args, env}) in the repository root. */
export function startServer(spec, tag) {
  const child = spawn(spec.command, spec.args, { cwd: ROOT, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
  relay(child.stdout, tag);
  relay(child.stderr, tag);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

/** Polls `GET /readyz` until it answers 200; fails if the server exits or `timeoutMs` passes. */
export async function waitReady(child, port, timeoutMs = 30_000) {
  let exited = null;
  child.exited.then((e) => (exited = e));
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (exited) throw new Error(`server exited before ready (code ${exited.code}, signal ${exited.signal})`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`server not ready after ${timeoutMs} ms`);
}

/** SIGTERM, then SIGKILL if the server is still there after `graceMs`. */
export async function stopServer(child, graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/**
 * Forks load.mjs with `cfg` and answers its requests: for each IPC message `{type}` from the load,
 * `handlers[type]()` runs (it may be async) and, for every type but 'result', the load gets the reply
 * the handler returns. Resolves with the load's result message.
 */
export function runLoad(cfg, handlers) {
  return new Promise((resolve, reject) => {
    // LOAD_NODE_ARGS (e.g. "--trace-gc") passes node flags to the load process, for diagnosing it.
    const execArgv = process.env.LOAD_NODE_ARGS ? process.env.LOAD_NODE_ARGS.split(' ') : [];
    const child = fork(new URL('./load.mjs', import.meta.url), [JSON.stringify(cfg)], { cwd: ROOT, stdio: 'inherit', execArgv });
    let result = null;
    child.on('message', async (msg) => {
      try {
        if (msg.type === 'result') result = msg;
        else child.send(await handlers[msg.type](msg));
      } catch (err) {
        child.kill('SIGKILL');
        reject(err);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      result ? resolve(result) : reject(new Error(`load process exited without a result (code ${code}, signal ${signal})`)),
    );
  });
}
