import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';

export interface RedisServerOptions {
  port: number;
  /** Keep data in `dir` with an AOF fsynced on every write, so a restart on the same dir loses nothing. */
  persistentDir?: string;
}

/** Starts a private redis-server (from PATH) and resolves once it says it accepts connections. */
export async function startRedisServer({ port, persistentDir }: RedisServerOptions): Promise<ChildProcess> {
  const persistence = persistentDir
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', persistentDir]
    : ['--appendonly', 'no', '--dir', tmpdir()];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await redisServerReady(child, port);
  return child;
}

/** Resolves once a redis-server child says it accepts connections; rejects with its output if it exits or takes over 10 s. */
export async function redisServerReady(child: ChildProcess, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${port}:\n${output}`)), 10_000);
    const childOnData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', childOnData);
    child.stderr!.on('data', childOnData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on ${port} exited with ${code}:\n${output}`));
    });
  });
}

/** Stops a redis-server child with `signal` and resolves once it has exited. */
export async function stopRedisServer(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}
