import { describe, expect, it } from 'vitest';
import type { Delivery, OrderMessage } from '../../core/ports.ts';
import { createMemoryOrderBus, type MemoryOrderBus } from './memory-order-bus.ts';
import { CONTRACT_MAX_ATTEMPTS, CONTRACT_PAY_TIMEOUT_MS, describeOrderBus, order, sleep, waitFor } from './order-bus.contract.ts';

describeOrderBus('MemoryOrderBus', async () => {
  const buses: MemoryOrderBus[] = [createMemoryOrderBus({ maxAttempts: CONTRACT_MAX_ATTEMPTS, payTimeoutMs: CONTRACT_PAY_TIMEOUT_MS })];
  const bus = buses[0]!;
  return {
    bus,
    makePeer: async () => {
      const peer = bus.peer();
      buses.push(peer);
      return peer;
    },
    cleanup: async () => {
      for (const b of buses) await b.close();
    },
  };
});

describe('MemoryOrderBus only', () => {
  it('duplicateNext(n) delivers the next n orders twice, the copy flagged redelivered, so consumers can prove idempotency', async () => {
    const bus = createMemoryOrderBus();
    const seen: [OrderMessage, Delivery][] = [];
    await bus.consumeOrders(async (message, delivery) => {
      seen.push([message, delivery]);
    });
    bus.duplicateNext(1);
    await bus.publishOrder(order(1));
    await bus.publishOrder(order(2));

    await waitFor(() => seen.length === 3);
    await sleep(50);
    expect(seen).toEqual([
      [order(1), { attempt: 1, redelivered: false }],
      [order(1), { attempt: 1, redelivered: true }],
      [order(2), { attempt: 1, redelivered: false }],
    ]);
    await bus.close();
  });

  it('the duplicateDeliveries option duplicates the first n orders', async () => {
    const bus = createMemoryOrderBus({ duplicateDeliveries: 2 });
    const uuids: string[] = [];
    await bus.consumeOrders(async (message) => {
      uuids.push(message.uuid);
    });
    for (const i of [1, 2, 3]) await bus.publishOrder(order(i));
    await waitFor(() => uuids.length === 5);
    expect(uuids.sort()).toEqual([order(1).uuid, order(1).uuid, order(2).uuid, order(2).uuid, order(3).uuid]);
    await bus.close();
  });

  it('a subscriber that throws does not stop the others from getting the result', async () => {
    const errors: unknown[] = [];
    const bus = createMemoryOrderBus({ onSubscriberError: (err) => errors.push(err) });
    const got: string[] = [];
    await bus.subscribeResults(() => {
      throw new Error('boom');
    });
    await bus.subscribeResults((r) => got.push(r.uuid));
    await bus.publishResult({ uuid: 'u1', userId: 1, seckillGoodId: 1, status: 'SUCCESS', orderNo: 'N1' });
    await waitFor(() => got.length === 1 && errors.length === 1);
    await bus.close();
  });

  it('orders wait in the queue while no consumer is attached, and are all delivered once one is', async () => {
    const bus = createMemoryOrderBus();
    for (const i of [1, 2, 3]) await bus.publishOrder(order(i));
    await sleep(10);
    expect(bus.pendingCount()).toBe(3);
    const uuids: string[] = [];
    await bus.consumeOrders(async (m) => {
      uuids.push(m.uuid);
    });
    await waitFor(() => uuids.length === 3);
    expect(uuids).toEqual([1, 2, 3].map((i) => order(i).uuid));
    expect(bus.pendingCount()).toBe(0);
    await bus.close();
  });
});
