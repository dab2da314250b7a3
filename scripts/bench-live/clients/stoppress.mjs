// Load-side adapter for Stoppress: one socket to /v1/live, one `subscribe` frame per story; the
// socket is subscribed once a `subscribed` frame came back for each; updates are
// `{"type":"update","story","update":{...the stored update, with "text"}}`.
import WebSocket from 'ws';
import { WS_OPTIONS, failOnConnectError, publishBody } from './common.mjs';

const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer bench-key' };

/** HTTP request that publishes `text` to `story`. */
export function publishRequest(story, text) {
  return { path: `/v1/stories/${story}/updates`, headers: HEADERS, body: publishBody(text) };
}

/**
 * Opens one socket following `stories`; resolves with the socket once every subscription is confirmed.
 * `onUpdate(story, text)` is called for every update frame.
 */
export function open(base, stories, onUpdate) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${base}/v1/live`, WS_OPTIONS);
    const unhook = failOnConnectError(ws, reject);
    let pending = stories.length;
    ws.on('message', (data) => {
      const frame = JSON.parse(data);
      if (frame.type === 'update') onUpdate(frame.story, frame.update.text);
      else if (frame.type === 'subscribed') {
        if (--pending === 0) {
          unhook();
          resolve(ws);
        }
      } else if (frame.type === 'error') reject(new Error(`server refused: ${frame.code} ${frame.message}`));
    });
    ws.once('open', () => {
      for (const story of stories) ws.send(JSON.stringify({ type: 'subscribe', story }));
    });
  });
}
