/**
 * Consumes due pay timeouts: one delivery is the SUCCESS batch of one worker transaction, after it waited
 * out the delay queue. In one transaction, the orders of the batch still UNPAID and past their stored pay
 * deadline become TIMEOUT and their units return to stock (one statement per good); then the cache and
 * the sold-out signs are fixed once per good. Anything else (paid, cancelled, already closed, a copy
 * from an old delay queue that came early) is left alone — the reconciler closes an order that is due
 * later and whose message was lost.
 */
import type { Logger } from 'pino';
import { closeOrders, type CloseOrdersDeps } from '../../core/close-orders.ts';
import type { OrderBus, Subscription } from '../../core/ports/order-bus.ts';

/** Clocks of different hosts disagree a little; a message this early still counts as due. */
const CLOCK_SLACK_MS = 1000;

export async function consumeOrderTimeouts(
  deps: CloseOrdersDeps & {
    bus: CloseOrdersDeps['bus'] & Pick<OrderBus, 'consumeTimeouts'>;
    logger: Logger;
  },
  opts: { prefetch: number },
): Promise<Subscription> {
  return deps.bus.consumeTimeouts(
    async (results) => {
      const orderNos = results.flatMap((r) => (r.status === 'SUCCESS' && r.orderNo ? [r.orderNo] : []));
      if (orderNos.length === 0) return;
      const onlyDueBy = new Date(deps.clock.now().getTime() + CLOCK_SLACK_MS);
      const closed = await closeOrders(deps, orderNos, 'TIMEOUT', { onlyDueBy });
      if (closed.length > 0) {
        deps.logger.info({ closed: closed.length, of: orderNos.length, seckillGoodIds: [...new Set(closed.map((o) => o.seckillGoodId))] }, 'unpaid orders timed out; units returned');
      }
      if (closed.length < orderNos.length) deps.logger.debug({ left: orderNos.length - closed.length }, 'timeouts not closed (paid, closed, or not due yet: left to the reconciler)');
    },
    { prefetch: opts.prefetch },
  );
}
