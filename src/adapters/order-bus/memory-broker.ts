/**
 * The in-memory "broker" the embedded order bus's processes share (memory-order-bus.ts holds what each
 * process holds), and what operators do on its queues (the admin api), as rabbitmq-queue-admin.ts does on
 * RabbitMQ.
 */
import type { Alert, OrderMessage } from '../../core/model.ts';
import type { OrderBus } from '../../core/ports/order-bus.ts';
import { schedulePump, workQueue, type WorkQueue } from './memory-work-queue.ts';

/** The shared "broker": what RabbitMQ holds, as opposed to what each process holds. */
export interface Broker {
  now: () => number;
  orders: WorkQueue;
  timeouts: WorkQueue;
  /** SUCCESS batches whose pay timer is running (the delay queue's length). */
  payTimers: number;
  alerts: string[];
  resultSubscribers: Set<(body: string) => void>;
  stockSubscribers: Set<(body: string) => void>;
  duplicatesLeft: number;
}

export function createBroker(now: () => number, duplicatesLeft: number): Broker {
  return {
    now,
    orders: workQueue(now()),
    timeouts: workQueue(now()),
    payTimers: 0,
    alerts: [],
    resultSubscribers: new Set(),
    stockSubscribers: new Set(),
    duplicatesLeft,
  };
}

type QueueAdmin = Pick<OrderBus, 'raiseAlert' | 'takeAlerts' | 'takeDeadOrders' | 'replayDeadOrders' | 'queueDepths'>;

/** The operators' side of the queues, for one process's bus; `ensureOpen` throws once that bus is closed. */
export function queueAdmin(broker: Broker, ensureOpen: () => void, alertQueueMax: number): QueueAdmin {
  function take<T>(list: string[], max: number): T[] {
    ensureOpen();
    return list.splice(0, Math.max(0, max)).map((body) => JSON.parse(body) as T);
  }

  return {
    async raiseAlert(alert) {
      ensureOpen();
      broker.alerts.push(JSON.stringify(alert));
      const over = broker.alerts.length - alertQueueMax;
      if (over > 0) broker.alerts.splice(0, over);
    },
    async takeAlerts(max) {
      return take<Alert>(broker.alerts, max);
    },
    async takeDeadOrders(max) {
      return take<OrderMessage[]>(broker.orders.dead, max).flat();
    },
    async replayDeadOrders(max) {
      ensureOpen();
      const batches = broker.orders.dead.splice(0, Math.max(0, max));
      for (const body of batches) broker.orders.pending.push({ body, attempt: 1, redelivered: false });
      if (batches.length > 0) schedulePump(broker.orders);
      return batches.reduce((n, body) => n + (JSON.parse(body) as unknown[]).length, 0);
    },
    async queueDepths() {
      ensureOpen();
      return {
        pendingOrders: broker.orders.pending.length,
        deadOrders: broker.orders.dead.length,
        payTimers: broker.payTimers,
        dueTimeouts: broker.timeouts.pending.length,
        deadTimeouts: broker.timeouts.dead.length,
        alerts: broker.alerts.length,
      };
    },
  };
}
