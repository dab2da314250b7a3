// Bundles the browser code (client library, page scripts) into single ES modules under dist/public/ with
// esbuild, so the service serves real bundles rather than hand-concatenated files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

/** entry point → served file. Add page scripts here. */
export const browserEntries = {
  'src/client/browser.ts': 'client.js',
};

mkdirSync('dist/public', { recursive: true });
const sizes = {};
for (const [entry, out] of Object.entries(browserEntries)) {
  const result = await build({
    entryPoints: [entry],
    outfile: `dist/public/${out}`,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: true,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  sizes[out] = Object.values(result.metafile.outputs).find((o) => o.entryPoint === entry)?.bytes;
}
writeFileSync('dist/public/sizes.json', JSON.stringify(sizes, null, 2));
