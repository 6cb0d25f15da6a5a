/**
 * Consumes due pay timeouts (a SUCCESS result that waited out the delay queue). Closes the order as
 * TIMEOUT only if it is still UNPAID and its stored deadline has passed; anything else (paid, cancelled,
 * already closed, a copy from an old delay queue that came early) is acked and left alone — the
 * reconciler closes an order that is due later and whose message was lost.
 */
import type { Logger } from 'pino';
import { closeOrders, type CloseOrdersDeps } from '../../core/close-orders.ts';
import type { OrderBus, OrderStore, Subscription } from '../../core/ports.ts';

/** Clocks of different hosts disagree a little; a message this early still counts as due. */
const CLOCK_SLACK_MS = 1000;

export async function consumeOrderTimeouts(
  deps: CloseOrdersDeps & {
    store: CloseOrdersDeps['store'] & Pick<OrderStore, 'getOrder'>;
    bus: CloseOrdersDeps['bus'] & Pick<OrderBus, 'consumeTimeouts'>;
    logger: Logger;
  },
  opts: { prefetch: number },
): Promise<Subscription> {
  return deps.bus.consumeTimeouts(
    async (result) => {
      if (!result.orderNo) return;
      const order = await deps.store.getOrder(result.orderNo);
      if (!order || order.status !== 'UNPAID') return;
      if (order.payDeadline.getTime() > deps.clock.now().getTime() + CLOCK_SLACK_MS) {
        deps.logger.debug({ orderNo: order.orderNo }, 'timeout message before the deadline; left to the reconciler');
        return;
      }
      const closed = await closeOrders(deps, [order.orderNo], 'TIMEOUT');
      if (closed.length) deps.logger.info({ orderNo: order.orderNo, seckillGoodId: order.seckillGoodId }, 'unpaid order timed out; unit returned');
    },
    { prefetch: opts.prefetch },
  );
}
