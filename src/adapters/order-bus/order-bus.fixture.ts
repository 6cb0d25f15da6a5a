/** What the OrderBus contract's parts share: the buses under test, their settings, messages and waiting helpers. */
import type { Delivery, OrderBus } from '../../core/ports/order-bus.ts';
import type { Alert, OrderMessage, SeckillResult } from '../../core/model.ts';

export interface OrderBusFixture {
  bus: OrderBus;
  makePeer?: () => Promise<OrderBus>;
  cleanup: () => Promise<void>;
}

export const CONTRACT_MAX_ATTEMPTS = 3;
/** Fixtures make their buses with this pay timeout, so timeout tests finish quickly. */
export const CONTRACT_PAY_TIMEOUT_MS = 300;
/** Fixtures make their buses with these waits after an infrastructure failure, so outage tests finish quickly. */
export const CONTRACT_RETRY_BACKOFF = { firstMs: 10, maxMs: 50 };
/** Fixtures make their buses with this alert queue bound. */
export const CONTRACT_ALERT_QUEUE_MAX = 20;

/** Long enough for a broker to deliver something that should not be delivered. */
export const QUIET_MS = 250;
export const FIRST: Delivery = { attempt: 1, redelivered: false };

export function order(i: number): OrderMessage {
  return { uuid: `uuid-${String(i).padStart(6, '0')}`, userId: 1000 + i, seckillGoodId: 1 + (i % 3), reservedAt: 1_700_000_000_000 + i };
}

/** `count` orders numbered from `from`: a batch. */
export function orders(from: number, count: number): OrderMessage[] {
  return Array.from({ length: count }, (_, i) => order(from + i));
}

export function result(uuid: string, status: 'SUCCESS' | 'FAIL'): SeckillResult {
  return status === 'SUCCESS'
    ? { uuid, userId: 7, seckillGoodId: 3, status, orderNo: `NO-${uuid}` }
    : { uuid, userId: 7, seckillGoodId: 3, status, reason: 'SOLD_OUT' };
}

export function alert(i: number): Alert {
  return { kind: 'CACHE_RESYNC_FAILED', message: `alert ${i}`, seckillGoodId: i, details: { tries: i }, at: new Date(1_700_000_000_000 + i).toISOString() };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}
