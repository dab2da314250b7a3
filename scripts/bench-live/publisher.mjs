// Publishes over HTTP/1.1 with keep-alive, the way a newsroom CMS would: a small pool of reused
// connections, one request per publish, the answer read and dropped.
import http from 'node:http';

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Returns `publish(request) -> Promise<status>` bound to host:port. `request` is what a client
 * adapter's `publishRequest(story, text)` returns: { path, headers, body }.
 */
export function createPublisher(host, port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  function publish({ path, headers, body }) {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host, port, path, method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume(); // the body (Stoppress: the stored update) is not needed
          res.on('end', () => resolve(res.statusCode));
          res.on('error', reject);
        },
      );
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer after ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
  publish.close = () => agent.destroy();
  return publish;
}
