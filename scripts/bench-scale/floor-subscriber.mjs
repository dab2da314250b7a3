// One subscriber of the floor, in a process of its own as each Stoppress node is: a plain ioredis connection
// SSUBSCRIBEd to the floor's channel. Redis's cost of delivering a message includes waking the process that
// reads it; subscribers sharing the publisher's process would be woken together with the publisher's reply and
// understate what a separate node costs.
//   fork('floor-subscriber.mjs', [port, channel]); IPC: it sends { ready: true } once subscribed, and answers
//   'count' with { delivered }.
import { Redis } from 'ioredis';

const [port, channel] = process.argv.slice(2);
const redis = new Redis({ host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: 1 });
let delivered = 0;
redis.on('smessage', () => delivered++);
await redis.ssubscribe(channel);
process.send({ ready: true });
process.on('message', (message) => {
  if (message === 'count') process.send({ delivered });
});
process.on('disconnect', () => process.exit(0));
