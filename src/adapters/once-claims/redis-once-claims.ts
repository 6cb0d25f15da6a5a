/**
 * OnceClaims in Redis (services mode): every api process shares the claims. One Lua script per claim
 * (claim.lua), on one key, so a Redis Cluster takes it on whichever node owns the key's slot.
 *
 * Keys: `${keyPrefix}once:${key}`, expiring with the claim.
 */
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import type { OnceClaims } from '../../core/ports/once-claims.ts';

const CLAIM = readFileSync(new URL('./claim.lua', import.meta.url), 'utf8');

export function createRedisOnceClaims(client: Redis | Cluster, keyPrefix: string, now: () => number = Date.now): OnceClaims {
  return {
    async claim(key, holder, expiresAt) {
      const keepMs = Math.max(1, expiresAt.getTime() - now());
      return (await client.eval(CLAIM, 1, `${keyPrefix}once:${key}`, holder, String(keepMs))) as string;
    },
  };
}
