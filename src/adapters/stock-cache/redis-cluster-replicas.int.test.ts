import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisClusterAvailable, startRedisCluster, type RedisClusterNode, type TestRedisCluster } from '../../../test/support/redis-cluster.ts';
import { apiClient, bootTestApp, loginAdmin } from '../../../test/support/app.ts';
import { makeBuyers } from '../../../test/support/buyers.ts';
import { adminSales, buyAndWait } from '../../../test/support/sales.ts';
import { servicesAvailable } from '../../../test/support/services.ts';
import type { StockCache } from '../../core/ports/stock-cache.ts';
import { createRedisStockCache } from './redis-stock-cache.ts';

const servicesUp = await servicesAvailable('postgres', 'rabbitmq');

// 3 masters + 3 replicas: with displayReadsFromReplicas the displayed pre-stock is read from replicas,
// and every reservation, release, settle, script and reservation lookup goes to a master.
describe.skipIf(!redisClusterAvailable())('RedisStockCache on a Redis Cluster with replicas', () => {
  let cluster: TestRedisCluster;
  let cache: StockCache;
  let masters: RedisClusterNode[];
  let replicas: RedisClusterNode[];
  const goods = Array.from({ length: 12 }, (_, i) => i + 1);

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    const roles = await cluster.roles();
    masters = cluster.nodes.filter((n) => roles.get(`${n.host}:${n.port}`) === 'master');
    replicas = cluster.nodes.filter((n) => roles.get(`${n.host}:${n.port}`) === 'slave');
    cache = createRedisStockCache({ clusterNodes: cluster.nodes, displayReadsFromReplicas: true, keyPrefix: `test:${randomBytes(6).toString('hex')}:` });
    for (let i = 0; ; i++) {
      try {
        await cache.ping();
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
  afterAll(async () => {
    await cache?.close();
    await cluster?.stop();
  });

  /** Calls of these commands per node group since `before`. */
  async function callsSince(nodes: RedisClusterNode[], before: Map<string, number>[], ...commands: string[]): Promise<number> {
    let total = 0;
    for (const [i, node] of nodes.entries()) {
      const now = await cluster.commandCalls(node);
      for (const c of commands) total += (now.get(c) ?? 0) - (before[i]!.get(c) ?? 0);
    }
    return total;
  }
  const snapshot = (nodes: RedisClusterNode[]) => Promise.all(nodes.map((n) => cluster.commandCalls(n)));

  it('the displayed stock is read from replicas, and none of the masters serves it', async () => {
    expect(masters).toHaveLength(3);
    expect(replicas).toHaveLength(3);
    for (const id of goods) await cache.load(id, 100, [], { onlyIfMissing: false });
    // A replica may be a moment behind: the display converges on what the master holds.
    await eventually(async () => expect([...(await cache.readStocks(goods)).values()]).toEqual(goods.map(() => 100)));

    const [m0, r0] = await Promise.all([snapshot(masters), snapshot(replicas)]);
    for (let i = 0; i < 20; i++) await cache.readStocks(goods);
    expect(await callsSince(replicas, r0, 'get')).toBeGreaterThanOrEqual(20 * goods.length);
    expect(await callsSince(masters, m0, 'get')).toBe(0);
  });

  it('reservations, releases, settles, the read script and reservation lookups all run on masters', async () => {
    const [m0, r0] = await Promise.all([snapshot(masters), snapshot(replicas)]);
    for (const id of goods) {
      expect((await cache.reserve(id, 7, `a-${id}`, 1)).kind).toBe('RESERVED');
      expect((await cache.reserve(id, 8, `b-${id}`, 1)).kind).toBe('RESERVED');
      await cache.settle(id, [`a-${id}`]);
      expect(await cache.release(id, [`b-${id}`])).toBe(1);
      expect(await cache.restock(id, [7])).toBe(1);
      expect(await cache.read(id)).toEqual({ preStock: 100, inFlight: 0 });
      expect(await cache.reservationOf(id, `a-${id}`)).toBeNull();
      expect(await cache.reservations(id)).toEqual([]);
    }
    // Replicas apply the writes masters replicate (a script's effects, HDEL …), but serve none of these reads or scripts.
    const onReplicas = await callsSince(replicas, r0, 'evalsha', 'eval', 'hget', 'hgetall');
    expect(onReplicas).toBe(0);
    expect(await callsSince(masters, m0, 'evalsha', 'eval')).toBeGreaterThanOrEqual(goods.length * 5);
    expect(await callsSince(masters, m0, 'hget')).toBeGreaterThanOrEqual(goods.length);
    await eventually(async () => expect([...(await cache.readStocks(goods)).values()]).toEqual(goods.map(() => 100)));
  });
  it.skipIf(!servicesUp)('the app with REDIS_READ_FROM_REPLICAS: the goods list and detail read replicas, a purchase shows there a moment later', async () => {
    const app = await bootTestApp('services', { REDIS_CLUSTER_NODES: cluster.nodesSetting, REDIS_READ_FROM_REPLICAS: 'true' });
    try {
      const api = apiClient(app.httpUrl);
      const admin = await loginAdmin(api);
      const { sale, stats } = adminSales(api, () => admin);
      const goodId = await sale(10);
      const [buyer] = await makeBuyers(app, 1);
      await buyAndWait(api, buyer!.token, goodId);
      expect((await stats(goodId)).preStock).toBe(9); // read on the master: at once

      const r0 = await snapshot(replicas);
      // The page polls; a replica a moment behind shows 10 for a while, then 9.
      await eventually(async () => {
        expect((await api('GET', `/api/seckill/goods/${goodId}`)).body.stock).toBe(9);
        expect((await api('GET', '/api/seckill/goods')).body.items.find((g: { id: number }) => g.id === goodId).stock).toBe(9);
      });
      expect(await callsSince(replicas, r0, 'get')).toBeGreaterThanOrEqual(2);
    } finally {
      await app.destroy();
    }
  });
});

async function eventually(check: () => Promise<void>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await check();
    } catch (err) {
      if (i > 200) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
