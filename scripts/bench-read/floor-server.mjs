// The floor of the read benchmark: bare node:http sending stored bytes from memory, nothing else.
// FLOOR_MANIFEST names a JSON file: [{ path, coding, file, contentType }]; for each request it picks the entry
// of its path in gzip when the request accepts gzip (and such an entry exists), else identity.
// Any other path answers 200 "ok" (the orchestrator probes it like Stoppress's /readyz).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const manifest = JSON.parse(readFileSync(process.env.FLOOR_MANIFEST, 'utf8'));
const byPath = new Map();
for (const entry of manifest) {
  const body = readFileSync(entry.file);
  const variants = byPath.get(entry.path) ?? {};
  variants[entry.coding] = { body, headers: { 'content-type': entry.contentType, 'content-length': body.length, ...(entry.coding === 'identity' ? {} : { 'content-encoding': entry.coding }) } };
  byPath.set(entry.path, variants);
}

const server = createServer((req, res) => {
  const variants = byPath.get(req.url);
  if (!variants) return res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  const variant = (req.headers['accept-encoding'] ?? '').includes('gzip') && variants.gzip ? variants.gzip : variants.identity;
  res.writeHead(200, variant.headers).end(variant.body);
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
