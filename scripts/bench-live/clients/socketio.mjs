// Load-side adapter for the Socket.IO server. Instead of socket.io-client (a Manager, an engine.io
// socket, timers and an emitter per connection: heavy for 10,000 sockets in one process), this speaks
// the small part of the wire protocol the benchmark needs over a plain `ws` socket:
//   engine.io v4 packets: "0{...}" open, "2" ping -> answer "3" pong, "4<socket.io packet>" message;
//   socket.io v5 packets: "0" connect, "2[...]" event, "2<id>[...]" event with ack, "3<id>[...]" ack,
//   "4{...}" connect error.
// Handshake: open -> send "40" -> "40{sid}" -> send `42<n>["subscribe",story]` per story -> one
// "43<n>[]" ack each; after that, updates arrive as `42["update",{"story","update":{...,"text"}}]`.
import WebSocket from 'ws';
import { WS_OPTIONS, failOnConnectError, publishBody } from './common.mjs';

const C0 = 0x30; // '0'
const C2 = 0x32; // '2'
const C3 = 0x33; // '3'
const C4 = 0x34; // '4'

/** HTTP request that publishes `text` to `story`. */
export function publishRequest(story, text) {
  return { path: `/publish/${story}`, headers: { 'content-type': 'application/json' }, body: publishBody(text) };
}

/**
 * Opens one socket following `stories`; resolves with the socket once every `subscribe` is acknowledged.
 * `onUpdate(story, text)` is called for every `update` event.
 */
export function open(base, stories, onUpdate) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${base}/socket.io/?EIO=4&transport=websocket`, WS_OPTIONS);
    const unhook = failOnConnectError(ws, reject);
    let pending = stories.length;
    ws.on('message', (data) => {
      const eio = data[0];
      if (eio === C4) {
        const sio = data[1];
        if (sio === C2) {
          // An event: `42["update",{...}]`.
          const [name, payload] = JSON.parse(data.toString('utf8', 2));
          if (name === 'update') onUpdate(payload.story, payload.update.text);
        } else if (sio === C0) {
          // Namespace connected: subscribe to each story, asking for an ack (ids 0..n-1).
          stories.forEach((story, id) => ws.send(`42${id}${JSON.stringify(['subscribe', story])}`));
        } else if (sio === C3) {
          if (--pending === 0) {
            unhook();
            resolve(ws);
          }
        } else if (sio === C4) reject(new Error(`socket.io connect error: ${data}`));
      } else if (eio === C2) ws.send('3'); // ping -> pong, or the server drops us after pingInterval + pingTimeout
      else if (eio === C0) ws.send('40'); // engine.io open -> connect to the main namespace
    });
  });
}
