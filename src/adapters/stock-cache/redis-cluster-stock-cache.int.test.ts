import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisClusterAvailable, startRedisCluster, type TestRedisCluster } from '../../../test/support/redis-cluster.ts';
import { createRedisStockCache } from './redis-stock-cache.ts';
import { describeStockCache } from './stock-cache.contract.ts';

// The whole contract on a private 3-master Redis Cluster: every script must keep its keys in one slot
// (a cross-slot script fails with CROSSSLOT), and goods spread over the three masters.
describe.skipIf(!redisClusterAvailable())('RedisStockCache on a Redis Cluster (3 masters)', () => {
  let cluster: TestRedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const fresh = (options: { enableAutoPipelining: boolean }) => async () => {
    const cache = createRedisStockCache({
      clusterNodes: cluster.nodes,
      keyPrefix: `test:${randomBytes(6).toString('hex')}:`,
      redisOptions: { ...options, enableOfflineQueue: false, commandTimeout: 2000, maxRetriesPerRequest: 1 },
    });
    await until(() => cache.ping());
    return { cache, cleanup: () => cache.close() };
  };

  describeStockCache('redis cluster', fresh({ enableAutoPipelining: false }));
  describeStockCache('redis cluster, auto-pipelined', fresh({ enableAutoPipelining: true }));

  it('goods land on every master, each good in one slot; a chunked load works across the cluster', async () => {
    const keyPrefix = `test:${randomBytes(6).toString('hex')}:`;
    const cache = createRedisStockCache({ clusterNodes: cluster.nodes, keyPrefix });
    const admin = new Cluster(cluster.nodes);
    try {
      const goods = Array.from({ length: 30 }, (_, i) => i + 1);
      for (const id of goods) await cache.load(id, 5, id === 1 ? Array.from({ length: 12_000 }, (_, i) => i + 100) : [], { onlyIfMissing: false });
      for (const id of goods) expect((await cache.reserve(id, 1, `u-${id}`, 1)).kind).toBe('RESERVED');
      for (const id of goods) {
        const slots = new Set(['stock', 'buyers', 'resv'].map((k) => slotOf(`${keyPrefix}{sg:${id}}:${k}`)));
        expect(slots.size).toBe(1);
      }
      const mastersHolding = new Set<string>();
      for (const node of admin.nodes('master')) {
        const keys = await node.keys(`${keyPrefix}*`);
        if (keys.length) mastersHolding.add(`${node.options.host}:${node.options.port}`);
        // Every key of a good on the node that holds its stock: no good is split.
        for (const key of keys) expect(keys).toContain(key.replace(/:(buyers|resv)$/, ':stock'));
      }
      expect(mastersHolding.size).toBe(3);
      expect((await cache.readStocks(goods)).get(1)).toBe(4);
      expect(await cache.read(1)).toEqual({ preStock: 4, inFlight: 1 });
    } finally {
      await cache.close();
      admin.disconnect();
    }
  });
});

describe.skipIf(!redisClusterAvailable())('RedisStockCache on a Redis Cluster: deadlines', () => {
  it('a master that stops answering → its goods answer UNAVAILABLE after the command timeout, not a hang; the others keep working', async () => {
    const cluster = await startRedisCluster({ masters: 3 });
    const cache = createRedisStockCache({
      clusterNodes: cluster.nodes,
      keyPrefix: 'test:deadline:',
      // What the app configures (compose.ts): a command deadline, no offline queue, one retry.
      redisOptions: { enableOfflineQueue: false, commandTimeout: 300, maxRetriesPerRequest: 1 },
    });
    try {
      await until(() => cache.ping());
      const goods = Array.from({ length: 12 }, (_, i) => i + 1);
      for (const id of goods) await cache.load(id, 5, [], { onlyIfMissing: false });
      const admin = new Cluster(cluster.nodes);
      await admin.ping(); // ready: its slot table is loaded
      const frozenNode = cluster.nodes[0]!;
      const onFrozen = new Set<number>();
      for (const id of goods) {
        const owner = admin.slots[slotOf(`test:deadline:{sg:${id}}:stock`)]?.[0];
        if (owner === `${frozenNode.host}:${frozenNode.port}`) onFrozen.add(id);
      }
      admin.disconnect();
      expect(onFrozen.size).toBeGreaterThan(0);
      expect(onFrozen.size).toBeLessThan(goods.length);

      const thaw = cluster.freeze(frozenNode);
      try {
        const outcomes = await Promise.allSettled(goods.map((id) => cache.reserve(id, 1, `u-${id}`, 1)));
        outcomes.forEach((o, i) => {
          if (onFrozen.has(goods[i]!)) expect(o).toMatchObject({ status: 'rejected', reason: { code: 'UNAVAILABLE' } });
          else expect(o).toMatchObject({ status: 'fulfilled', value: { kind: 'RESERVED' } });
        });
      } finally {
        thaw();
      }
    } finally {
      await cache.close();
      await cluster.stop();
    }
  });
});

async function until(check: () => Promise<unknown>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await check();
      return;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** CRC16 slot of a key, as Redis Cluster computes it (hash tag honoured). */
function slotOf(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
