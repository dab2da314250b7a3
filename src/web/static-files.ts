import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A built browser file, held in memory once read (the bundles are tens of KiB and change only with a rebuild). */
export interface StaticFile {
  body: Buffer;
  contentType: string;
  /** Strong ETag of the body. */
  etag: string;
}

const contentTypes: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
};

/** Names a static file may have: no slashes, no dots but the extension(s), so no path can leave the directory. */
const servableName = /^(?:assets\/)?[a-z0-9-]+\.(?:js|css)(?:\.map)?$/;

/**
 * Reads built files from `publicDir` (dist/public), caching each one. Unknown or unsafe names and files not
 * built yet answer undefined; a missing file is looked up again next time (the build may land later).
 */
export class StaticFiles {
  readonly #publicDir: string;
  readonly #cache = new Map<string, Promise<StaticFile | undefined>>();

  constructor(publicDir: string) {
    this.#publicDir = publicDir;
  }

  get(name: string): Promise<StaticFile | undefined> {
    if (!servableName.test(name)) return Promise.resolve(undefined);
    let file = this.#cache.get(name);
    if (!file) {
      file = this.#read(name);
      this.#cache.set(name, file);
      void file.then((found) => {
        if (!found) this.#cache.delete(name);
      });
    }
    return file;
  }

  async #read(name: string): Promise<StaticFile | undefined> {
    let body: Buffer;
    try {
      body = await readFile(join(this.#publicDir, name));
    } catch {
      return undefined;
    }
    const extension = name.slice(name.lastIndexOf('.') + 1);
    return {
      body,
      contentType: contentTypes[extension] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    };
  }
}
