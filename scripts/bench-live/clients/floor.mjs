// Load-side adapter for the floor server: the stories go in the query string, the socket is
// subscribed as soon as it is open, every frame is `{"type":"update","story","update":{...,"text"}}`.
import WebSocket from 'ws';
import { WS_OPTIONS, failOnConnectError, publishBody } from './common.mjs';

/** HTTP request that publishes `text` to `story`. */
export function publishRequest(story, text) {
  return { path: `/publish/${story}`, headers: { 'content-type': 'application/json' }, body: publishBody(text) };
}

/**
 * Opens one socket following `stories`; resolves with the socket once it is subscribed.
 * `onUpdate(story, text)` is called for every update frame.
 */
export function open(base, stories, onUpdate) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${base}/?story=${stories.join('&story=')}`, WS_OPTIONS);
    const unhook = failOnConnectError(ws, reject);
    ws.on('message', (data) => {
      const frame = JSON.parse(data);
      if (frame.type === 'update') onUpdate(frame.story, frame.update.text);
    });
    // The server files the socket under its stories in its `connection` handler, which runs before
    // the 101 answer reaches us: open means subscribed.
    ws.once('open', () => {
      unhook();
      resolve(ws);
    });
  });
}
