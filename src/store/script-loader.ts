import { readFileSync } from 'node:fs';
import type { RedisClient } from './redis-client.js';

/** The Lua scripts, one file each under `./scripts/`, registered with ioredis `defineCommand` (EVALSHA, EVAL on NOSCRIPT). */
const scriptFiles = {
  appendUpdate: { file: 'append-update.lua', numberOfKeys: 5 },
  writeMeta: { file: 'write-meta.lua', numberOfKeys: 4 },
  streamBounds: { file: 'stream-bounds.lua', numberOfKeys: 1 },
  webhookRead: { file: 'webhook-read.lua', numberOfKeys: 3 },
  webhookAdvance: { file: 'webhook-advance.lua', numberOfKeys: 2 },
  leaseRenew: { file: 'lease-renew.lua', numberOfKeys: 1 },
  webhookSetEnabled: { file: 'webhook-set-enabled.lua', numberOfKeys: 1 },
  appendStoryChange: { file: 'append-story-change.lua', numberOfKeys: 4 },
  releaseEmbargo: { file: 'release-embargo.lua', numberOfKeys: 3 },
  forgetEmbargo: { file: 'forget-embargo.lua', numberOfKeys: 1 },
} as const;

export type ScriptName = keyof typeof scriptFiles;
export type ScriptRunner = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

/** Registers every script on `redis` and returns one typed runner per script. */
export function loadScripts(redis: RedisClient): Record<ScriptName, ScriptRunner> {
  const runners = {} as Record<ScriptName, ScriptRunner>;
  for (const [name, { file, numberOfKeys }] of Object.entries(scriptFiles) as [ScriptName, (typeof scriptFiles)[ScriptName]][]) {
    const lua = withIncludes(readFileSync(new URL(`./scripts/${file}`, import.meta.url), 'utf8'));
    redis.defineCommand(name, { numberOfKeys, lua });
    const command = (redis as unknown as Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>)[name].bind(redis);
    runners[name] = (keys, args) => command(...keys, ...args);
  }
  return runners;
}

/**
 * Replaces each `-- @include "name.lua"` line with the file of that name under `./scripts/includes/`: Lua that
 * several scripts share (Redis runs each script alone, so they cannot require one another), as bullmq does.
 */
function withIncludes(lua: string): string {
  return lua.replace(/^-- @include "([\w.-]+\.lua)"$/gm, (_line, name: string) => readFileSync(new URL(`./scripts/includes/${name}`, import.meta.url), 'utf8'));
}
