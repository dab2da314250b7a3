// The floor reference for the ingest benchmark: the least work an HTTP-to-Redis-Streams ingest can
// do. For every POST it reads the raw body and XADDs it, unparsed and unvalidated, to one stream:
//
//   XADD <STREAM_KEY> MAXLEN ~ 10000 * d <body>
//
// and answers 201 `{"id":"<stream id>"}`. No JSON parsing, no validation, no auth, no idempotency,
// no logging. Stoppress's ingest is compared against this number ("Stoppress/floor ratio").
//
// Environment:
//   PORT        port to listen on (default 0 = any free port; the chosen port is printed)
//   HOST        interface (default 127.0.0.1)
//   REDIS_URL   redis://host:port (default redis://127.0.0.1:6379)
//   STREAM_KEY  stream to append to (default "bench-floor:{bench}:updates")
//   MAXLEN      approximate stream cap (default 10000)
//   AUTO_PIPELINING  "1" to turn on ioredis enableAutoPipelining (default off: plain ioredis)
//
// Any non-POST request (e.g. GET /readyz) answers 200 "ok" once Redis is connected, so the
// orchestrator can probe it the same way as Stoppress. When ready it prints "listening <port>" on
// stdout and, if started with an IPC channel, also sends `{ type: 'listening', port }`.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
const streamKey = process.env.STREAM_KEY ?? 'bench-floor:{bench}:updates';
const maxLen = String(process.env.MAXLEN ?? 10000);

// One connection; commands issued while others are in flight are pipelined on it. With auto
// pipelining, ioredis also batches the commands of one event-loop tick into a single write.
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  lazyConnect: true,
  enableAutoPipelining: process.env.AUTO_PIPELINING === '1',
});
await redis.connect();

const server = createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    redis.xadd(streamKey, 'MAXLEN', '~', maxLen, '*', 'd', body).then(
      (id) => {
        const json = `{"id":"${id}"}`;
        res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }).end(json);
      },
      (error) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error?.message ?? error));
      },
    );
  });
});

server.listen(port, host, () => {
  const actualPort = server.address().port;
  process.stdout.write(`listening ${actualPort}\n`);
  process.send?.({ type: 'listening', port: actualPort });
});

// Stop cleanly on SIGTERM/SIGINT: stop accepting, drop keep-alive sockets, close Redis.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    redis.quit().finally(() => process.exit(0));
  });
}
