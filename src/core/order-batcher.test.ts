import { describe, expect, it } from 'vitest';
import { createMemoryStockCache } from '../adapters/stock-cache/memory-stock-cache.ts';
import { SeckillError } from './errors.ts';
import { createOrderBatcher } from './order-batcher.ts';
import type { OrderMessage } from './model.ts';
import { systemTimers } from '../adapters/timers/system-timers.ts';

const GOOD = 1;
const order = (i: number, seckillGoodId = GOOD): OrderMessage => ({ uuid: `uuid-${i}`, userId: i, seckillGoodId, reservedAt: 0 });

async function cacheWith(stock: number, reserved: OrderMessage[]) {
  const cache = createMemoryStockCache();
  for (const id of new Set(reserved.map((m) => m.seckillGoodId))) await cache.load(id, stock, [], { onlyIfMissing: true });
  for (const m of reserved) await cache.reserve(m.seckillGoodId, m.userId, m.uuid, 0);
  return cache;
}

describe('order batcher', () => {
  it('orders of one moment go out as one message; each caller resolves only after that publish', async () => {
    const published: OrderMessage[][] = [];
    let confirm!: () => void;
    const bus = { publishOrders: (m: readonly OrderMessage[]) => new Promise<void>((r) => ((confirm = r), published.push([...m]))) };
    const batcher = createOrderBatcher({ bus, cache: await cacheWith(10, []), timers: systemTimers }, { maxOrders: 100, maxWaitMs: 0 });
    let settled = 0;
    const calls = [1, 2, 3].map((i) => batcher.publish(order(i), { releaseOnFailure: true }).then(() => settled++));
    await new Promise((r) => setImmediate(r));
    expect(published).toEqual([[order(1), order(2), order(3)]]);
    expect(settled).toBe(0);
    confirm();
    await Promise.all(calls);
    expect(settled).toBe(3);
  });

  it('a full batch is sent at once, without waiting for the timer', async () => {
    const published: number[] = [];
    const bus = { publishOrders: async (m: readonly OrderMessage[]) => void published.push(m.length) };
    const batcher = createOrderBatcher({ bus, cache: await cacheWith(10, []), timers: systemTimers }, { maxOrders: 2, maxWaitMs: 50 });
    const first = [1, 2].map((i) => batcher.publish(order(i), { releaseOnFailure: true }));
    await Promise.all(first);
    expect(published).toEqual([2]);
    const third = batcher.publish(order(3), { releaseOnFailure: true });
    await batcher.flush();
    await third;
    expect(published).toEqual([2, 1]);
  });

  it('a failed publish gives back every unit of its batch (per good) before any caller hears UNAVAILABLE', async () => {
    const orders = [order(1), order(2), order(3, 2), order(4, 2)];
    const cache = await cacheWith(5, orders);
    const bus = { publishOrders: async () => Promise.reject(new Error('broker down')) };
    const batcher = createOrderBatcher({ bus, cache, timers: systemTimers }, { maxOrders: 100, maxWaitMs: 0 });
    const stockWhenHeard: (number | null)[] = [];
    await Promise.all(
      orders.map((m) =>
        batcher.publish(m, { releaseOnFailure: true }).then(
          () => expect.unreachable(),
          async (err: unknown) => {
            expect(err).toMatchObject({ code: 'UNAVAILABLE' });
            stockWhenHeard.push((await cache.read(1)).preStock, (await cache.read(2)).preStock);
          },
        ),
      ),
    );
    expect(stockWhenHeard).toEqual(Array(8).fill(5));
    expect((await cache.read(1)).inFlight + (await cache.read(2)).inFlight).toBe(0);
  });

  it('a repeated request (not owning its unit) and an unconfirmed publish give nothing back', async () => {
    const orders = [order(1), order(2)];
    const cache = await cacheWith(5, orders);
    let unconfirmed = false;
    const bus = {
      publishOrders: async () => {
        throw unconfirmed ? new SeckillError('UNAVAILABLE', 'no confirm', { details: { unconfirmed: true } }) : new Error('broker down');
      },
    };
    const batcher = createOrderBatcher({ bus, cache, timers: systemTimers }, { maxOrders: 100, maxWaitMs: 0 });
    await expect(batcher.publish(order(1), { releaseOnFailure: false })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    unconfirmed = true;
    await expect(batcher.publish(order(2), { releaseOnFailure: true })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await cache.read(GOOD)).toEqual({ preStock: 3, inFlight: 2 });
  });
});
