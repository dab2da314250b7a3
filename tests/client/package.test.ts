import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { deletePrefix, post, startTestService, statement, uniquePrefix } from '../support/test-service.js';

// What a partner's developer does: `npm pack` the client package, install the tarball into an empty project
// (offline: nothing comes from the registry), and use it from Node and from a bundler against the real service.

const run = promisify(execFile);
const repo = resolve('.');
const nodeMajor = Number(process.versions.node.split('.')[0]);
const prefix = uniquePrefix('client-package');
let service: RunningService;
let project: string;
let tarball: string;

/** `npm` quietly, offline, in `cwd`. */
async function npm(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('npm', [...args, '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd, timeout: 60_000 });
  return stdout.trim();
}

/** The file `npm pack` wrote: the last line it prints (the lines before are its lifecycle scripts'). */
async function pack(cwd: string, ...args: string[]): Promise<string> {
  return (await npm(cwd, 'pack', ...args)).split('\n').at(-1)!.trim();
}

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'stoppress-partner-'));
  const packed = join(project, 'packed');
  mkdirSync(packed);
  service = await startTestService(prefix);
  // `prepack` builds the package from src/client, so the tarball is what `npm pack` gives a partner today.
  tarball = join(packed, await pack(join(repo, 'packages/client'), '--pack-destination', packed));
  // Node 20 has no global WebSocket: the partner adds `ws`. It is packed from this repo's node_modules so the
  // install needs no network.
  const ws = join(packed, await pack(repo, join(repo, 'node_modules/ws'), '--pack-destination', packed));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'partner-app', private: true, type: 'module' }));
  await npm(project, 'install', tarball, ws);
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await deletePrefix(prefix);
  if (project) rmSync(project, { recursive: true, force: true });
});

/** A partner's Node script: reads the view, follows the story seeded with it, prints what it gets as JSON lines. */
const followScript = (withWs: boolean): string => `
import { connect } from '@stoppress/client';
${withWs ? "import { WebSocket } from 'ws';" : ''}
const [base, story] = process.argv.slice(2);
const view = await (await fetch(base + '/v1/stories/' + story)).json();
const live = connect(base${withWs ? ', { WebSocket }' : ''});
const say = (line) => console.log(JSON.stringify(line));
live.follow(story, { view }, {
  status: (status) => say({ status }),
  update: (update) => say({ update: update.id, text: update.text }),
  correction: (correction, target) => {
    say({ correction: correction.id, target });
    live.close();
  },
  error: (error) => say({ error: error.code }),
});
`;

/**
 * Runs a script of the installed project against the service: once it says `live`, POSTs an update and a
 * correction of the update the view held, and returns every line it printed once it exits.
 */
async function followInProject(file: string, story: string): Promise<Record<string, unknown>[]> {
  const shown = await post(service.url, story, statement('in the view'));
  expect(shown.status).toBe(201);
  const child = spawn(process.execPath, [file, service.url, story], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', done));
  const lines: Record<string, unknown>[] = [];
  let fresh = '';
  for await (const text of createInterface({ input: child.stdout })) {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    if (line.status === 'live' && fresh === '') {
      fresh = (await post(service.url, story, statement('posted while following'))).body.id as string;
      await post(service.url, story, { kind: 'correction', corrects: shown.body.id, text: 'in the view, corrected', note: 'Fixed.' });
    }
  }
  expect(await exited, stderr).toBe(0);
  expect(lines.filter((l) => 'update' in l)).toEqual([{ update: fresh, text: 'posted while following' }]);
  expect(lines.find((l) => 'correction' in l)?.target).toMatchObject({ id: shown.body.id, text: 'in the view, corrected', corrections: [{ note: 'Fixed.' }] });
  return lines;
}

describe('@stoppress/client, packed and installed as a partner does', () => {
  it('packs built ESM and zod-free declarations, and installs with no dependency', () => {
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/@stoppress/client/package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ name: '@stoppress/client', type: 'module', sideEffects: false, engines: { node: '>=20' } });
    expect(manifest.dependencies).toBeUndefined();
    // Only the package and `ws` were installed: no server dependency came along.
    expect(readdirSync(join(project, 'node_modules')).sort()).toEqual(['.package-lock.json', '@stoppress', 'ws']);
    const files = readdirSync(join(project, 'node_modules/@stoppress/client'), { recursive: true }).map(String);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/types/client/index.d.ts');
    for (const file of files.filter((f) => /\.(js|ts)$/.test(f))) {
      expect(readFileSync(join(project, 'node_modules/@stoppress/client', file), 'utf8'), file).not.toMatch(/\bzod\b|node:/);
    }
  });

  it('follows a story in Node 20 with ws: seeded with the view, it gets a POSTed update and a correction with its target', async () => {
    writeFileSync(join(project, 'follow-ws.mjs'), followScript(true));
    const lines = await followInProject('follow-ws.mjs', 'package-node-ws');
    expect(lines[0]).toEqual({ status: 'connecting' });
  });

  it.skipIf(nodeMajor < 22)('follows a story with the global WebSocket of Node 22+ (skipped on Node < 22: it has no global WebSocket)', async () => {
    writeFileSync(join(project, 'follow-global.mjs'), followScript(false));
    await followInProject('follow-global.mjs', 'package-node-global');
  });

  it.runIf(nodeMajor < 22)('tells a Node 20 user without ws to pass one', async () => {
    writeFileSync(join(project, 'no-ws.mjs'), "import { connect } from '@stoppress/client';\nconnect('http://127.0.0.1:1');\n");
    const failed = await run(process.execPath, ['no-ws.mjs'], { cwd: project }).then(
      () => '',
      (error: { stderr: string }) => error.stderr,
    );
    expect(failed).toMatch(/install 'ws' and pass it/);
  });

  it('bundles for the browser with esbuild, with nothing of ws or Node in the bundle', async () => {
    writeFileSync(join(project, 'page.js'), "import { connect } from '@stoppress/client';\nconnect(location.origin).follow('a-story', {}, { update: (u) => document.body.append(u.text ?? '') });\n");
    const result = await build({
      absWorkingDir: project,
      entryPoints: ['page.js'],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      minify: true,
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(Object.keys(result.metafile.inputs).sort()).toEqual(['node_modules/@stoppress/client/dist/index.js', 'page.js']);
    const [output] = Object.values(result.metafile.outputs);
    expect(output!.imports).toEqual([]);
    // Not even a dynamic import or a require left for the page to resolve.
    expect(result.outputFiles[0]!.text).not.toMatch(/\bimport\(|\brequire\(/);
  });

  it('type-checks the READMEs\' client snippets against the installed package, under strict TypeScript', async () => {
    const snippets = ['README.md', 'packages/client/README.md'].flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/^```ts check\n([\s\S]*?)^```$/gm)].map((m) => m[1]!));
    expect(snippets.length).toBeGreaterThanOrEqual(3);
    snippets.forEach((code, i) => writeFileSync(join(project, `snippet-${i}.ts`), code));
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          strict: true,
          noUncheckedIndexedAccess: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(repo, 'node_modules/@types')],
          // The snippets use ws on Node 20; its types come from this repo (the installed ws has none).
          paths: { ws: [join(repo, 'node_modules/@types/ws/index.d.ts')] },
        },
        include: ['snippet-*.ts'],
      }),
    );
    const checked = await run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project }).then(
      () => '',
      (error: { stdout: string }) => error.stdout,
    );
    expect(checked).toBe('');
  });
});
