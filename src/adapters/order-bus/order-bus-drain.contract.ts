/**
 * The OrderBus contract, part three: when the pending queue last held nothing, and the deadline on sending
 * an order batch. The reconciler decides a reservation with no result only from these (reconcile.ts).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { SeckillError } from '../../core/errors.ts';
import type { OrderBus } from '../../core/ports/order-bus.ts';
import { deferred, order, sleep, waitFor } from './order-bus.fixture.ts';

export function describeOrderBusDrain(engine: { bus: () => OrderBus; drainSettleMs: number }): void {
  let bus: OrderBus;
  beforeEach(() => {
    bus = engine.bus();
  });
  /** Asked over a while (the broker's figures lag): the drained moment never reaches `before`. */
  async function staysBefore(before: number): Promise<void> {
    const until = Date.now() + engine.drainSettleMs;
    do {
      const at = await bus.pendingDrainedAt();
      expect(at === null || at < before).toBe(true);
      await sleep(200);
    } while (Date.now() < until);
  }
  const passes = (after: number) =>
    waitFor(async () => {
      const at = await bus.pendingDrainedAt();
      return at !== null && at >= after;
    }, engine.drainSettleMs + 15_000);

  describe('pending queue drained', () => {
    it('a batch waiting with no consumer keeps the drained moment before its publish; once acknowledged, the moment passes it', async () => {
      const publishedAt = Date.now();
      await bus.publishOrders([order(1)]);
      await staysBefore(publishedAt);
      await bus.consumeOrders(async () => undefined);
      await passes(publishedAt);
    });

    it("a batch in a handler's hand (a worker frozen or cut off) keeps it back however long; let go, the moment passes it", async () => {
      const held = deferred();
      let taken = false;
      await bus.consumeOrders(async () => {
        taken = true;
        await held.promise;
      });
      const publishedAt = Date.now();
      await bus.publishOrders([order(2)]);
      await waitFor(() => taken);
      await staysBefore(publishedAt);
      held.resolve();
      await passes(publishedAt);
    });

    it('a batch that cannot be sent by its deadline is not sent: UNAVAILABLE, and no consumer ever sees it', async () => {
      const seen: unknown[] = [];
      await bus.consumeOrders(async (batch) => {
        seen.push(batch);
      });
      const error = await bus.publishOrders([order(3)], { sendBy: Date.now() - 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SeckillError);
      expect((error as SeckillError).code).toBe('UNAVAILABLE');
      await bus.publishOrders([order(4)], { sendBy: Date.now() + 60_000 });
      await waitFor(() => seen.length === 1);
      await sleep(250);
      expect(seen).toEqual([[order(4)]]);
    });
  });
}
