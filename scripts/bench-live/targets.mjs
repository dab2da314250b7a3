// The three servers under test: how to start each one. All listen on 127.0.0.1:<port> and answer
// `GET /readyz` with 200 once they can take traffic.
import { fileURLToPath } from 'node:url';

/** Repository root (servers run from there, so `node dist/main.js` resolves). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const LABELS = {
  floor: 'floor (bare ws)',
  socketio: 'Socket.IO 4 + Redis Streams adapter',
  stoppress: 'Stoppress',
};

/** Node flags for every server, from SERVER_NODE_ARGS (e.g. "--cpu-prof"), for diagnosing one; none by default. */
const serverNodeArgs = process.env.SERVER_NODE_ARGS ? process.env.SERVER_NODE_ARGS.split(' ') : [];

/** Process spec { command, args, env } for target `name`. `keyPrefix` namespaces its Redis keys. */
export function serverSpec(name, { port, redisUrl, keyPrefix }) {
  const spec = baseSpec(name, { port, redisUrl, keyPrefix });
  return { ...spec, args: [...serverNodeArgs, ...spec.args] };
}

function baseSpec(name, { port, redisUrl, keyPrefix }) {
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1' };
  switch (name) {
    case 'floor':
      return { command: process.execPath, args: ['scripts/bench-live/floor-server.mjs'], env };
    case 'socketio':
      return {
        command: process.execPath,
        args: ['scripts/bench-live/socketio-server.mjs'],
        env: { ...env, REDIS_URL: redisUrl, SIO_STREAM: `${keyPrefix}sio` },
      };
    case 'stoppress':
      return {
        command: process.execPath,
        args: ['dist/main.js'],
        env: {
          ...env,
          REDIS_URL: redisUrl,
          PUBLISHER_KEYS: 'bench-key',
          DEMO: 'off',
          LOG_LEVEL: 'warn',
          REDIS_KEY_PREFIX: keyPrefix,
        },
      };
    default:
      throw new Error(`unknown target ${name}`);
  }
}
