// Load side: /v1/live sockets that follow many stories, and the count of every delivery of the published
// ("hot") story per socket, for the exactly-once check.
import WebSocket from 'ws';
import { WS_OPTIONS, failOnConnectError } from '../bench-live/clients/common.mjs';

const SUBSCRIBE_TIMEOUT_MS = 60_000;
const RETRY_DELAY_MS = 100;

/**
 * One socket to `ws://<base>/v1/live`. `follow(stories)` subscribes more stories and resolves once every one is
 * confirmed; a subscription refused with `redis_unavailable` is sent again (counted in `retries`), any other
 * refusal fails it. Updates of `hotStory` are counted by their `n=<k>` text in `received` (k → times received).
 */
export async function openLiveSocket(base, hotStory) {
  const ws = new WebSocket(`ws://${base}/v1/live`, WS_OPTIONS);
  await new Promise((resolve, reject) => {
    const unhook = failOnConnectError(ws, reject);
    ws.once('open', () => (unhook(), resolve()));
  });
  const socket = { ws, received: new Map(), followsHot: false, strays: 0, retries: 0, pending: 0, waiter: null, error: null, closed: false };
  ws.on('close', () => (socket.closed = true));
  ws.on('error', () => {});
  ws.on('message', (data) => {
    const frame = JSON.parse(data);
    if (frame.type === 'update') {
      if (frame.story !== hotStory) {
        socket.strays++;
        return;
      }
      const k = Number(/n=(\d+)/.exec(frame.update.text)?.[1]);
      socket.received.set(k, (socket.received.get(k) ?? 0) + 1);
    } else if (frame.type === 'subscribed') {
      if (--socket.pending === 0 && socket.waiter) socket.waiter();
    } else if (frame.type === 'error' && frame.code === 'redis_unavailable' && frame.story) {
      // The protocol's answer to this error is "subscribe again": do so, and count it (the run reports retries).
      socket.retries++;
      setTimeout(() => ws.send(JSON.stringify({ type: 'subscribe', story: frame.story })), RETRY_DELAY_MS);
    } else if (frame.type === 'error') {
      socket.error = `${frame.code}: ${frame.message}`;
      if (socket.waiter) socket.waiter();
    }
  });
  socket.follow = (stories) => {
    if (stories.length === 0) return Promise.resolve();
    if (stories.includes(hotStory)) socket.followsHot = true;
    socket.pending += stories.length;
    const done = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${socket.pending} subscriptions unconfirmed after ${SUBSCRIBE_TIMEOUT_MS} ms`)), SUBSCRIBE_TIMEOUT_MS);
      socket.waiter = () => {
        clearTimeout(timer);
        socket.waiter = null;
        socket.error ? reject(new Error(`server refused a subscription: ${socket.error}`)) : resolve();
      };
    });
    for (const story of stories) ws.send(JSON.stringify({ type: 'subscribe', story }));
    return done;
  };
  socket.close = () => ws.terminate();
  return socket;
}

/**
 * Audit of publishes `from`..`to−1` of the hot story over `sockets` (those following it): each must have each
 * exactly once. Answers { expected, delivered (distinct), duplicates, missing }.
 */
export function audit(sockets, from, to) {
  let expected = 0;
  let delivered = 0;
  let duplicates = 0;
  for (const socket of sockets) {
    if (!socket.followsHot) continue;
    for (let k = from; k < to; k++) {
      expected++;
      const times = socket.received.get(k) ?? 0;
      if (times > 0) delivered++;
      if (times > 1) duplicates += times - 1;
    }
  }
  return { expected, delivered, duplicates, missing: expected - delivered };
}
