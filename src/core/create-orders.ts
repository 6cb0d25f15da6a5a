/**
 * The worker's use case: turn queued requests into orders, then tell everyone.
 *
 * Order of effects, chosen so that a crash at any point is repaired by redelivery:
 * 1. database transaction (order + stored result; idempotent on uuid),
 * 2. cache: settle the reservation (SUCCESS) or give the unit back (FAIL) — both keyed by uuid,
 * 3. publish the result, 4. the caller acks. A redelivered message finds its stored result in step 1
 *    and repeats steps 2–3, which change nothing the second time.
 */
import { randomBytes } from 'node:crypto';
import type { Alert, Clock, OrderBus, OrderMessage, OrderStore, SeckillResult, StockCache } from './ports.ts';

export interface CreateOrdersDeps {
  store: Pick<OrderStore, 'createOrders'>;
  cache: Pick<StockCache, 'settle' | 'release'>;
  bus: Pick<OrderBus, 'publishResult' | 'broadcastStockAgain' | 'raiseAlert'>;
  clock: Clock;
  payTimeoutMs: number;
}

export interface CreateOrdersSummary {
  created: number;
  failed: number;
  repeats: number;
  results: SeckillResult[];
}

/** Order numbers: time-ordered (base36 ms) + 10 random base36 chars, unique across processes. */
export function makeOrderNo(now = Date.now()): string {
  const random = randomBytes(8).readBigUInt64BE() % 36n ** 10n;
  return now.toString(36).toUpperCase().padStart(9, '0') + random.toString(36).toUpperCase().padStart(10, '0');
}

export async function createOrders(deps: CreateOrdersDeps, messages: readonly OrderMessage[]): Promise<CreateOrdersSummary> {
  const outcomes = await deps.store.createOrders(messages, {
    now: deps.clock.now(),
    payTimeoutMs: deps.payTimeoutMs,
    makeOrderNo: () => makeOrderNo(deps.clock.now().getTime()),
  });
  const summary: CreateOrdersSummary = { created: 0, failed: 0, repeats: 0, results: [] };
  const restocked = new Set<number>();

  await Promise.all(
    outcomes.map(async ({ result, created }, i) => {
      const message = messages[i]!;
      if (!created) summary.repeats++;
      if (result.status === 'SUCCESS') {
        if (created) summary.created++;
      } else if (created) {
        summary.failed++;
      }
      try {
        if (result.status === 'SUCCESS') await deps.cache.settle(message.seckillGoodId, message.uuid);
        // The unit this uuid holds in the cache goes back exactly once (release is keyed by uuid).
        else if (await deps.cache.release(message.seckillGoodId, message.uuid)) restocked.add(message.seckillGoodId);
      } catch (cause) {
        // The order is decided and stored; the reservation stays recorded, so the reconciler can finish
        // this later. The buyer still hears the result now.
        await deps.bus.raiseAlert(
          alert('CACHE_UPDATE_FAILED', `Could not ${result.status === 'SUCCESS' ? 'settle' : 'release'} a reservation: ${String(cause)}`, message, deps.clock),
        );
      }
      // A uuid reused for another good keeps its first outcome; its stray reservation was released above.
      if (result.reason === 'UUID_CONFLICT') {
        await deps.bus.raiseAlert(alert('UUID_CONFLICT', 'A request id was reused for another good or buyer.', message, deps.clock));
        return;
      }
      await deps.bus.publishResult(result);
      summary.results.push(result);
    }),
  );
  // Every api process clears its sold-out sign for a good that has a unit again.
  await Promise.all([...restocked].map((id) => deps.bus.broadcastStockAgain(id)));
  return summary;
}

function alert(kind: string, message: string, m: OrderMessage, clock: Clock): Alert {
  return { kind, message, seckillGoodId: m.seckillGoodId, uuid: m.uuid, details: { userId: m.userId }, at: clock.now().toISOString() };
}
