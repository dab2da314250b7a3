// What the three client adapters share: the `ws` client options and the publish body.

/** `ws` client options: no compression (as on every server), and no UTF-8 validation of incoming
 *  frames (the load process must stay cheap; JSON.parse still rejects garbage). */
export const WS_OPTIONS = { perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: 30_000 };

/** The publish body every target receives: a valid Stoppress statement; `text` carries the timing. */
export function publishBody(text) {
  return JSON.stringify({ kind: 'statement', occurredAt: new Date().toISOString(), text });
}

/** Wires the usual failure paths of a connecting socket to `reject`; returns a function to unhook them. */
export function failOnConnectError(ws, reject) {
  const onError = (err) => reject(err);
  const onUnexpected = (_req, res) => reject(new Error(`handshake answered ${res.statusCode}`));
  const onClose = (code) => reject(new Error(`closed while connecting (${code})`));
  ws.on('error', onError);
  ws.on('unexpected-response', onUnexpected);
  ws.on('close', onClose);
  return () => {
    ws.off('error', onError);
    ws.off('unexpected-response', onUnexpected);
    ws.off('close', onClose);
  };
}
