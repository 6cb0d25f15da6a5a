/**
 * RedisStockCache: the StockCache on Redis, for services mode (any number of api / worker processes).
 *
 * Keys are hash-tagged per good, so one good lives in one Redis Cluster slot and every script
 * touches one slot only:
 *   `${keyPrefix}{sg:42}:stock`   string counter, the pre-stock (absent = not loaded)
 *   `${keyPrefix}{sg:42}:buyers`  set of user ids holding a unit (reserved or ordered)
 *   `${keyPrefix}{sg:42}:resv`    hash uuid -> "userId:epochMs", reservations not yet settled
 * and the request notes of the result poll, per uuid (redis-request-notes.ts).
 * Each multi-key operation is one Lua script beside this file, run as a client command (redis-stock-scripts.ts).
 * With `clusterNodes` it runs on a Redis Cluster (see makeCluster for what may be read from replicas).
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import type { ChainableCommander, RedisOptions } from 'ioredis';
import { SeckillError } from '../../core/errors.ts';
import type { CachedGood, StockCache } from '../../core/ports/stock-cache.ts';
import { assertLoadArgs, assertUnits, byAgeThenUuid } from './stock-cache-args.ts';
import { createRedisRequestNotes } from './redis-request-notes.ts';
import { loadMode, parseReservation, SCRIPTS, toOutcome, type ScriptedClient } from './redis-stock-scripts.ts';

export type RedisStockCacheOptions = (
  | {
      /** The adapter makes its own client and quits it on close(). */
      url: string;
      /** Overrides of the client options (timeouts, retries, enableAutoPipelining, ...). */
      redisOptions?: RedisOptions;
      /** Connection errors of the client made here (ioredis reconnects by itself). */
      onError?: (err: Error) => void;
    }
  | {
      /** Redis Cluster: the adapter makes an ioredis Cluster client from these seed nodes and quits it on close(). */
      clusterNodes: readonly { host: string; port: number }[];
      /**
       * The displayed pre-stock (readStocks) may be read from a replica of the good's master; every other
       * command (reserve, release, settle, restock, load, read, reservations) goes to the master.
       */
      displayReadsFromReplicas?: boolean;
      /** Per-node client options (timeouts, retries) and enableOfflineQueue / enableAutoPipelining for the cluster. */
      redisOptions?: RedisOptions;
      onError?: (err: Error) => void;
    }
  | {
      /**
       * A client owned by the caller (a Redis or a Cluster); close() leaves it open. Its own
       * ioredis keyPrefix, if any, goes in front of ours (it must not contain braces either).
       */
      client: Redis | Cluster;
    }
) & {
  /** Key namespace, default "seckill:". No braces: the hash tag must be the good's. */
  keyPrefix?: string;
};

/** A load with more buyers than this is sent ahead in chunks of this size (see load()). */
const INLINE_BUYERS_MAX = 5_000;
/** A chunked load that dies half-way leaves its staging set behind for at most this long. */
const STAGING_TTL_MS = 60_000;

interface GoodKeys {
  /** `${keyPrefix}{sg:42}`: the hash tag that puts all keys of the good in one cluster slot. */
  tag: string;
  stock: string;
  buyers: string;
  resv: string;
}

/** Redis down, timed out or refusing: the caller answers UNAVAILABLE (the reconciler settles any doubt). */
function unavailable(cause: unknown): never {
  throw new SeckillError('UNAVAILABLE', 'The stock cache (Redis) is unavailable.', { cause });
}

export function createRedisStockCache(options: RedisStockCacheOptions): StockCache {
  const prefix = options.keyPrefix ?? 'seckill:';
  if (/[{}]/.test(prefix)) throw new RangeError(`keyPrefix must not contain braces: ${prefix}`);

  const owned = 'url' in options || 'clusterNodes' in options;
  let raw: Redis | Cluster;
  if ('url' in options) {
    // Auto-pipelining is off unless the caller asks: ioredis keeps one auto-pipeline in flight per
    // connection, so batches wait for each other (measured on reserve alone, 1,000 callers: off was
    // faster and far lower in latency). In the whole api it is the other way round, and the app turns
    // it on (REDIS_AUTO_PIPELINING): without it every command is its own write syscall, ~10% of the
    // api's CPU in the bench's profile. `npm run bench` accept path, 3 interleaved runs each: api
    // 177 → 165 µs of CPU per request, Redis 29 → 14 µs, 4,549 → 4,762 req/s (medians).
    const made = new Redis(options.url, { enableAutoPipelining: false, ...options.redisOptions });
    if (options.onError) made.on('error', options.onError);
    raw = made;
  } else if ('clusterNodes' in options) {
    raw = makeCluster(options.clusterNodes, options.redisOptions ?? {}, options.displayReadsFromReplicas ?? false);
    if (options.onError) raw.on('error', options.onError);
  } else {
    raw = options.client;
  }
  for (const [name, definition] of Object.entries(SCRIPTS)) raw.defineCommand(name, definition);
  const client = raw as ScriptedClient;
  const notes = createRedisRequestNotes(raw, prefix);
  let closed = false;

  // The key names of a good, made once: the hot path allocates no key strings.
  const keyNames = new Map<number, GoodKeys>();
  const keysOf = (seckillGoodId: number): GoodKeys => {
    let keys = keyNames.get(seckillGoodId);
    if (!keys) {
      const tag = `${prefix}{sg:${seckillGoodId}}`;
      keys = { tag, stock: `${tag}:stock`, buyers: `${tag}:buyers`, resv: `${tag}:resv` };
      if (keyNames.size >= 10_000) keyNames.clear(); // bounded, whatever ids callers pass
      keyNames.set(seckillGoodId, keys);
    }
    return keys;
  };

  /**
   * Buyers beyond INLINE_BUYERS_MAX go first, in chunks, into a staging set in the good's slot;
   * load.lua then decides (NX or overwrite) and installs stock + buyers in one atomic step.
   * So no reserve ever sees the stock without the whole buyer set, and two processes loading
   * at once after a flush cannot both write: the loser's staging set is simply dropped.
   */
  async function stageBuyers(staging: string, buyers: readonly number[]): Promise<void> {
    const pipeline = client.pipeline();
    for (let i = 0; i < buyers.length; i += INLINE_BUYERS_MAX) {
      pipeline.sadd(staging, ...buyers.slice(i, i + INLINE_BUYERS_MAX));
    }
    pipeline.pexpire(staging, STAGING_TTL_MS);
    await execPipeline(pipeline);
  }

  return {
    async reserve(seckillGoodId, userId, uuid, now) {
      const k = keysOf(seckillGoodId);
      let code: number;
      try {
        code = await client.seckillReserve(k.stock, k.buyers, k.resv, userId, uuid, now);
      } catch (cause) {
        unavailable(cause);
      }
      return toOutcome(code);
    },

    async withdraw(seckillGoodId, userId, uuid, now) {
      const k = keysOf(seckillGoodId);
      return client.seckillWithdraw(k.stock, k.buyers, k.resv, uuid, userId, now).catch(unavailable);
    },
    async release(seckillGoodId, uuids) {
      if (uuids.length === 0) return 0;
      const k = keysOf(seckillGoodId);
      return client.seckillRelease(k.stock, k.buyers, k.resv, ...uuids).catch(unavailable);
    },

    async settle(seckillGoodId, uuids) {
      if (uuids.length === 0) return;
      await client.hdel(keysOf(seckillGoodId).resv, ...uuids).catch(unavailable);
    },

    async restock(seckillGoodId, userIds) {
      if (userIds.length === 0) return 0;
      const k = keysOf(seckillGoodId);
      return client.seckillRestock(k.stock, k.buyers, 0, ...userIds).catch(unavailable);
    },

    async addUnits(seckillGoodId, units) {
      assertUnits(units);
      const k = keysOf(seckillGoodId);
      return (await client.seckillRestock(k.stock, k.buyers, units).catch(unavailable)) > 0;
    },

    async load(seckillGoodId, stock, buyers, { onlyIfMissing, ifUnchangedFrom }) {
      assertLoadArgs(seckillGoodId, stock, buyers);
      const k = keysOf(seckillGoodId);
      const staging = `${k.tag}:buyers:load:${randomUUID()}`;
      const inline = buyers.length <= INLINE_BUYERS_MAX;
      if (!inline) await stageBuyers(staging, buyers).catch(unavailable);
      const written = await client.seckillLoad(
        k.stock, k.buyers, k.resv, staging,
        loadMode(onlyIfMissing, ifUnchangedFrom), stock, ...(inline ? buyers : []),
      ).catch(unavailable);
      return written === 1;
    },

    async read(seckillGoodId): Promise<CachedGood> {
      const k = keysOf(seckillGoodId);
      const [stock, inFlight] = await client.seckillRead(k.stock, k.resv).catch(unavailable);
      return { preStock: stock === null ? null : Number(stock), inFlight };
    },

    async readStocks(seckillGoodIds) {
      const stocks = new Map<number, number | null>();
      if (seckillGoodIds.length === 0) return stocks;
      const keys = seckillGoodIds.map((id) => keysOf(id).stock);
      let values: (string | null)[];
      if (client.isCluster) {
        // A cluster pipeline must stay on one node; single GETs are grouped per node by ioredis.
        values = await Promise.all(keys.map((key) => client.get(key))).catch(unavailable);
      } else {
        const pipeline = client.pipeline();
        for (const key of keys) pipeline.get(key);
        values = (await execPipeline(pipeline).catch(unavailable)) as (string | null)[];
      }
      seckillGoodIds.forEach((id, i) => {
        const value = values[i];
        stocks.set(id, value == null ? null : Number(value));
      });
      return stocks;
    },

    async reservations(seckillGoodId) {
      const held = await client.hgetall(keysOf(seckillGoodId).resv).catch(unavailable);
      return Object.entries(held)
        .map(([uuid, value]) => parseReservation(uuid, value))
        .sort(byAgeThenUuid);
    },

    async reservationOf(seckillGoodId, uuid) {
      const value = await client.hget(keysOf(seckillGoodId).resv, uuid).catch(unavailable);
      return value === null ? null : parseReservation(uuid, value);
    },

    ...notes,

    async forget(seckillGoodId) {
      const k = keysOf(seckillGoodId);
      keyNames.delete(seckillGoodId);
      await client.del(k.stock, k.buyers, k.resv).catch(unavailable);
    },

    async ping() {
      await client.ping().catch(unavailable);
    },

    async close() {
      if (!owned || closed) return;
      closed = true;
      // quit() waits for the replies still pending; a client that is not connected has none.
      if (client.status === 'ready') await client.quit();
      else client.disconnect();
    },
  };
}

/**
 * The Cluster client keeps the standalone client's deadlines: a command timeout per node, no offline queue
 * (a command while the cluster is unreachable fails at once instead of running after its caller heard 503).
 *
 * Replica reads: ioredis asks `scaleReads` only for read-only commands (GET, HGET, the read-only read.lua …);
 * every script that writes is an EVALSHA, which is not read-only, so it always goes to the master. The
 * function below sends only GET — which this adapter issues for the displayed pre-stock alone — to a
 * replica, and keeps read.lua, HGET and HGETALL (the reconciler's and the result poll's reads, which must
 * see the latest write) on the master. A slot without a replica is read from its master.
 */
function makeCluster(nodes: readonly { host: string; port: number }[], options: RedisOptions, displayReadsFromReplicas: boolean): Cluster {
  const { enableOfflineQueue, enableAutoPipelining, ...nodeOptions } = options;
  return new Cluster([...nodes], {
    enableOfflineQueue: enableOfflineQueue ?? true,
    enableAutoPipelining: enableAutoPipelining ?? false,
    redisOptions: nodeOptions,
    scaleReads: displayReadsFromReplicas
      ? (clients: Redis[], command: { name: string }) => (command.name === 'get' && clients.length > 1 ? clients.slice(1) : clients[0])
      : 'master',
  });
}

/** The replies of a pipeline, or the first of its errors. */
async function execPipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  const results = await pipeline.exec();
  if (!results) throw new Error('redis pipeline was discarded');
  for (const [err] of results) if (err) throw err;
  return results.map(([, value]) => value);
}
