import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../core/ports/order-bus.ts';
import type { OrderMessage } from '../../core/model.ts';
import { createMemoryOrderBus, type MemoryOrderBus } from './memory-order-bus.ts';
import { CONTRACT_ALERT_QUEUE_MAX, CONTRACT_MAX_ATTEMPTS, CONTRACT_PAY_TIMEOUT_MS, CONTRACT_RETRY_BACKOFF, describeOrderBus, order, orders, result, sleep, waitFor } from './order-bus.contract.ts';

describeOrderBus('MemoryOrderBus', async () => {
  const buses: MemoryOrderBus[] = [createMemoryOrderBus({ maxAttempts: CONTRACT_MAX_ATTEMPTS, payTimeoutMs: CONTRACT_PAY_TIMEOUT_MS, retryBackoff: CONTRACT_RETRY_BACKOFF, alertQueueMax: CONTRACT_ALERT_QUEUE_MAX })];
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

/** Consume orders, recording every batch's uuids. */
async function recordUuids(bus: MemoryOrderBus): Promise<string[][]> {
  const seen: string[][] = [];
  await bus.consumeOrders(async (batch) => {
    seen.push(batch.map((m) => m.uuid));
  });
  return seen;
}

const uuids = (batch: OrderMessage[]): string[] => batch.map((m) => m.uuid);

describe('MemoryOrderBus only', () => {
  it('a duplicated order batch is delivered twice, whole, the copy flagged redelivered, so consumers can prove idempotency', async () => {
    const bus = createMemoryOrderBus({ duplicateDeliveries: 1 });
    const seen: [OrderMessage[], Delivery][] = [];
    await bus.consumeOrders(async (batch, delivery) => {
      seen.push([batch, delivery]);
    });
    await bus.publishOrders([]); // publishes nothing, so duplicates nothing
    await bus.publishOrders(orders(1, 3));
    await bus.publishOrders([order(4)]);

    await waitFor(() => seen.length === 3);
    await sleep(50);
    expect(seen).toEqual([
      [orders(1, 3), { attempt: 1, redelivered: false }],
      [orders(1, 3), { attempt: 1, redelivered: true }],
      [[order(4)], { attempt: 1, redelivered: false }],
    ]);
    await bus.close();
  });

  it('the duplicateDeliveries option duplicates the first n order batches', async () => {
    const bus = createMemoryOrderBus({ duplicateDeliveries: 2 });
    const seen = await recordUuids(bus);
    const batches = [orders(1, 2), [order(3)], orders(4, 2)];
    for (const batch of batches) await bus.publishOrders(batch);
    await waitFor(() => seen.length === 5);
    await sleep(50);
    expect(seen.sort()).toEqual([batches[0]!, batches[0]!, batches[1]!, batches[1]!, batches[2]!].map(uuids).sort());
    await bus.close();
  });

  it('a subscriber that throws does not stop the others from getting the result batch', async () => {
    const errors: unknown[] = [];
    const bus = createMemoryOrderBus({ onSubscriberError: (err) => errors.push(err) });
    const got: string[][] = [];
    await bus.subscribeResults(() => {
      throw new Error('boom');
    });
    await bus.subscribeResults((rs) => got.push(rs.map((r) => r.uuid)));
    await bus.publishResults([result('u1', 'SUCCESS'), result('u2', 'SUCCESS')]);
    await waitFor(() => got.length === 1 && errors.length === 1);
    expect(got).toEqual([['u1', 'u2']]);
    await bus.close();
  });

  it('order batches wait in the queue while no consumer is attached (one entry each), and are all delivered once one is', async () => {
    const bus = createMemoryOrderBus();
    const batches = [orders(1, 3), [order(4)], orders(5, 2)];
    for (const batch of batches) await bus.publishOrders(batch);
    await sleep(10);
    expect(bus.pendingCount()).toBe(3);
    const seen = await recordUuids(bus);
    await waitFor(() => seen.length === 3);
    expect(seen).toEqual(batches.map(uuids));
    expect(bus.pendingCount()).toBe(0);
    await bus.close();
  });
});
