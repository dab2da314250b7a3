// Target A, "the floor": the least work a WebSocket fan-out can do in Node.
// A bare `ws` server (no compression), no Redis, no protocol:
//   - clients connect to `/?story=<id>[&story=<id>...]` and are kept in story -> Set<socket>;
//   - `POST /publish/<story>` wraps the body in one pre-serialised frame (a Buffer) and sends that same
//     Buffer to every socket of the story, then answers 201;
//   - `GET /readyz` answers 200.
// The frame looks like Stoppress's (`{"type":"update","story":...,"update":<body>}`) so the load process
// parses the same bytes for both.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { publishStory, readBody, reply } from './http-util.mjs';

const port = Number(process.env.PORT ?? 8081);
const host = process.env.HOST ?? '127.0.0.1';

/** story -> sockets following it */
const rooms = new Map();
const textFrame = { binary: false };

const server = createServer(async (req, res) => {
  const story = publishStory(req);
  if (story) {
    const body = await readBody(req);
    const frame = Buffer.concat([Buffer.from(`{"type":"update","story":"${story}","update":`), body, Buffer.from('}')]);
    const sockets = rooms.get(story);
    if (sockets) for (const ws of sockets) ws.send(frame, textFrame);
    return reply(res, 201);
  }
  if (req.method === 'GET' && req.url === '/readyz') return reply(res, 200);
  reply(res, 404);
});

const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
wss.on('connection', (ws, req) => {
  const stories = new URL(req.url, 'http://x').searchParams.getAll('story');
  for (const story of stories) {
    let set = rooms.get(story);
    if (!set) rooms.set(story, (set = new Set()));
    set.add(ws);
  }
  ws.on('close', () => {
    for (const story of stories) rooms.get(story)?.delete(ws);
  });
  ws.on('error', () => {}); // a reset client must not crash the server
});

server.listen(port, host);
process.on('SIGTERM', () => process.exit(0));
