import type { Cluster, Redis } from 'ioredis';

/**
 * The command client the store talks to: one Redis, or an ioredis `Cluster` that routes every command to the
 * master of its key's slot. Every key of one story shares the story's hash tag, so each command and each
 * script call touches one slot.
 */
export type RedisClient = Redis | Cluster;
