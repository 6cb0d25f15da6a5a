/**
 * Limiter on rate-limiter-flexible: RateLimiterMemory in the embedded mode (one api process), RateLimiterRedis
 * in the services mode (every api process shares the counts).
 *
 * Redis keys: `${keyPrefix}rl:${name}:{${key}}`. The key sits in a hash tag, so each limit key names its own
 * cluster slot; every command touches one key (rate-limiter-flexible runs one small Lua script per event).
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Limiter, LimiterSpec, MakeLimiter } from '../../core/ports/limiter.ts';

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

function wrap(limiter: RateLimiterAbstract, points: number, tag: (key: string) => string): Limiter {
  return {
    async take(key) {
      try {
        const res = await limiter.consume(tag(key));
        return { wait: 0, count: res.consumedPoints };
      } catch (err) {
        // A refusal is a RateLimiterRes; anything else is the store failing, and the caller decides.
        if (err instanceof RateLimiterRes) return { wait: seconds(err.msBeforeNext), count: err.consumedPoints };
        throw err;
      }
    },
    async waitOf(key) {
      const res = await limiter.get(tag(key));
      return res && res.consumedPoints > points && res.msBeforeNext > 0 ? seconds(res.msBeforeNext) : 0;
    },
    async countOf(key) {
      const res = await limiter.get(tag(key));
      return res && res.msBeforeNext > 0 ? { count: res.consumedPoints, seconds: seconds(res.msBeforeNext) } : { count: 0, seconds: 0 };
    },
    async block(key, secs) {
      await limiter.block(tag(key), secs);
    },
    async reset(key) {
      await limiter.delete(tag(key));
    },
  };
}

export function createMemoryLimiters(): MakeLimiter {
  return (spec: LimiterSpec) =>
    wrap(new RateLimiterMemory({ keyPrefix: spec.name, points: spec.points, duration: spec.durationSeconds }), spec.points, (k) => k);
}

export interface RedisLimiters {
  make: MakeLimiter;
  /** The connection, for other short per-key state of the limits (the buy paths' single use). */
  client: Redis | Cluster;
  /** Resolves once Redis answers (start-up waits for it: until then every limit call fails). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Limiters on their own Redis connection. `redisOptions` should carry a command timeout and no offline
 * queue: a limit call then fails fast when Redis is away, and its caller chooses to let the request through
 * or refuse it.
 */
export function createRedisLimiters(options: {
  url: string;
  /** A Redis Cluster instead of `url` (each limit key is its own hash tag, so any slot will do). */
  clusterNodes?: readonly { host: string; port: number }[];
  keyPrefix: string;
  redisOptions?: RedisOptions;
  onError?: (err: Error) => void;
}): RedisLimiters {
  if (/[{}]/.test(options.keyPrefix)) throw new RangeError(`keyPrefix must not contain braces: ${options.keyPrefix}`);
  const { enableOfflineQueue, ...nodeOptions } = options.redisOptions ?? {};
  const client = options.clusterNodes
    ? new Cluster([...options.clusterNodes], { redisOptions: nodeOptions, ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }) })
    : new Redis(options.url, { lazyConnect: false, ...options.redisOptions });
  client.on('error', (err: Error) => options.onError?.(err));
  return {
    client,
    make: (spec) =>
      wrap(
        new RateLimiterRedis({ storeClient: client, keyPrefix: `${options.keyPrefix}rl:${spec.name}`, points: spec.points, duration: spec.durationSeconds }),
        spec.points,
        // A brace inside the key would end the hash tag early; keys are addresses, phones and ids.
        (k) => `{${k.replace(/[{}]/g, '_')}}`,
      ),
    async ping() {
      await client.ping();
    },
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
