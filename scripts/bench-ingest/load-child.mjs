// Runs load.mjs as a separate child process (fork, with an IPC channel) and returns its result.
// `atStart` is called when the warm-up is over, right before the measured run, and `atEnd` when
// the measured run's result arrives: the orchestrator samples the server's CPU and memory there.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LOAD_SCRIPT = fileURLToPath(new URL('./load.mjs', import.meta.url));

/**
 * `loadArgs` are load.mjs's own options (url, amount, connections, warmup, key, run, timeout).
 * Resolves to the result object load.mjs reports; rejects if it exits without one.
 * `onChild(child)` receives the child process (so an interrupted run can stop it).
 */
export function runLoad(loadArgs, { atStart, atEnd, onChild }) {
  const argv = Object.entries(loadArgs).flatMap(([name, value]) => [`--${name}`, String(value)]);
  // stdout carries load.mjs's JSON copy of the result, not needed here: the result comes over IPC.
  const child = fork(LOAD_SCRIPT, argv, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  onChild?.(child);
  return new Promise((resolve, reject) => {
    // Set as soon as the result message arrives (the child may exit before atEnd has finished).
    let finished = null;
    child.on('message', (message) => {
      if (message?.type === 'ready') {
        new Promise((started) => started(atStart?.())).then(
          () => child.send({ type: 'go' }),
          (error) => {
            child.kill('SIGTERM');
            reject(error);
          },
        );
      } else if (message?.type === 'result') {
        finished = new Promise((ended) => ended(atEnd?.())).then(() => message.result);
      }
    });
    child.once('error', reject);
    // 'close' comes after 'exit' and after the IPC channel closed, so no message is still pending.
    child.once('close', (code, signal) => {
      if (finished) resolve(finished);
      else reject(new Error(`load process exited without a result (code ${code}, signal ${signal})`));
    });
  });
}
