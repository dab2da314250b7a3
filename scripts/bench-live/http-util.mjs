// Tiny HTTP helpers shared by the two reference servers (floor and Socket.IO).

/** Reads the whole request body into one Buffer. */
export function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Matches `POST /publish/<story>` and returns the story, or null. */
export function publishStory(req) {
  if (req.method !== 'POST' || !req.url.startsWith('/publish/')) return null;
  const story = req.url.slice('/publish/'.length);
  return /^[a-z0-9][a-z0-9-]{0,63}$/.test(story) ? story : null;
}

/** Ends a response with a status and no body. */
export function reply(res, status) {
  res.writeHead(status, { 'content-length': '0' });
  res.end();
}
