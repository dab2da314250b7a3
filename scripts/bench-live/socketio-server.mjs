// Target B, the peer a newsroom would otherwise pick: Socket.IO 4 with the Redis Streams adapter.
//   - clients connect over the `websocket` transport only and emit `subscribe` (with an ack) per story;
//     the server joins them to the room of that story;
//   - `POST /publish/<story>` -> `io.to(story).emit('update', {story, update: <body as JSON>})`, answers 201
//     (the adapter XADDs the broadcast to its own Redis stream, then delivers it to local sockets);
//   - `GET /readyz` answers 200 once the adapter's Redis client is connected.
// Env: PORT, HOST, REDIS_URL, SIO_STREAM (the adapter's stream key; the orchestrator deletes it afterwards).
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import { publishStory, readBody, reply } from './http-util.mjs';

const port = Number(process.env.PORT ?? 8082);
const host = process.env.HOST ?? '127.0.0.1';
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
let ready = false;
redis.on('ready', () => (ready = true));

const server = createServer(async (req, res) => {
  const story = publishStory(req);
  if (story) {
    const update = JSON.parse(await readBody(req));
    io.to(story).emit('update', { story, update });
    return reply(res, 201);
  }
  if (req.method === 'GET' && req.url === '/readyz') return reply(res, ready ? 200 : 503);
  reply(res, 404);
});

const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: false,
  serveClient: false,
  adapter: createAdapter(redis, { streamName: process.env.SIO_STREAM ?? 'bench-live-sio' }),
});

io.on('connection', (socket) => {
  socket.on('subscribe', (story, ack) => {
    socket.join(String(story));
    if (typeof ack === 'function') ack();
  });
});

server.listen(port, host);
process.on('SIGTERM', () => process.exit(0));
