// What the orchestrator asks Redis: its version and CPU time, deleting a run's keys, and how many
// entries a stream received (to check that every accepted update was written).

/** Fields of an INFO section as an object of strings. */
async function info(redis, section) {
  const text = await redis.info(section);
  return Object.fromEntries(
    text
      .split('\r\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
  );
}

export async function redisVersion(redis) {
  return (await info(redis, 'server')).redis_version;
}

/** Redis's own CPU time (user + system, all its threads) in seconds, from INFO cpu. */
export async function redisCpuSeconds(redis) {
  const cpu = await info(redis, 'cpu');
  return Number(cpu.used_cpu_user) + Number(cpu.used_cpu_sys);
}

/** Deletes every key that starts with `prefix` (SCAN + UNLINK); returns how many were deleted. */
export async function deleteKeysWithPrefix(redis, prefix) {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/**
 * How many entries a stream holds now (XLEN) and how many were ever added to it
 * (`entries-added` of XINFO STREAM, Redis >= 7.0). Streams capped with MAXLEN ~ are trimmed, so
 * XLEN stops matching the number of writes once the cap is reached; entries-added still counts
 * every XADD since the key was created, which is why the keys are flushed before each run.
 * `entriesAdded` is null on older Redis (then only XLEN can be compared).
 */
export async function streamCounts(redis, key) {
  const xlen = await redis.xlen(key);
  if (xlen === 0 && !(await redis.exists(key))) return { xlen: 0, entriesAdded: 0 };
  const fields = await redis.xinfo('STREAM', key);
  const at = fields.indexOf('entries-added');
  return { xlen, entriesAdded: at >= 0 ? Number(fields[at + 1]) : null };
}
