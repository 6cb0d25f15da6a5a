/**
 * Alerts are for a person: one outage must not bury the queue under thousands of copies of one problem.
 * An alert of the same kind about the same good, order and request as one raised in the last `windowMs`
 * is dropped (and counted); the first one of each stands.
 */
import type { OrderBus } from './ports/order-bus.ts';
import type { Clock } from './ports/timers.ts';
import type { Alert } from './model.ts';

export interface DedupedAlerts {
  raiseAlert(alert: Alert): Promise<void>;
  /** Alerts dropped as repeats since the start. */
  dropped(): number;
}

export function dedupeAlerts(
  bus: Pick<OrderBus, 'raiseAlert'>,
  clock: Clock,
  opts: { windowMs?: number; maxKeys?: number; /** Told of each alert that goes to the queue (a log line for operators). */ onRaised?: (alert: Alert) => void } = {},
): DedupedAlerts {
  const { windowMs = 60_000, maxKeys = 10_000 } = opts;
  const lastRaised = new Map<string, number>();
  let dropped = 0;
  return {
    async raiseAlert(alert) {
      const key = `${alert.kind}|${alert.seckillGoodId ?? ''}|${alert.orderNo ?? ''}|${alert.uuid ?? ''}`;
      const now = clock.now().getTime();
      const last = lastRaised.get(key);
      if (last !== undefined && now - last < windowMs) {
        dropped++;
        return;
      }
      if (lastRaised.size >= maxKeys) lastRaised.clear();
      lastRaised.set(key, now);
      opts.onRaised?.(alert);
      await bus.raiseAlert(alert);
    },
    dropped: () => dropped,
  };
}
