/**
 * OrderBus: messaging between api, worker and ws processes.
 */
import type { Alert, OrderMessage, SeckillGood, SeckillResult } from '../model.ts';

export interface Delivery {
  /** 1 on the first delivery, higher when redelivered after a failure. */
  attempt: number;
  /** The broker says this message may have been delivered before. */
  redelivered: boolean;
}

/** A handler that resolves has processed the message (it is acked); one that rejects asks for a retry. */
export type Handler<T> = (message: T, delivery: Delivery) => Promise<void>;

export interface Subscription {
  /** Stop taking new messages and wait for the ones in hand. */
  close(): Promise<void>;
}

/**
 * Messages waiting on the bus's durable queues, broker-wide (not only this process's): ready to be taken,
 * not counting those in a consumer's hand. A message is a batch (of orders, or of results for pay timers).
 */
export interface QueueDepths {
  /** Order batches not yet taken by a worker: a backlog grows here when the workers fall behind. */
  pendingOrders: number;
  /** Order batches that failed every attempt (replay them once their cause is fixed). */
  deadOrders: number;
  /** SUCCESS batches whose pay timeout has not passed yet. */
  payTimers: number;
  /** SUCCESS batches whose pay timeout has passed, not yet taken by a worker. */
  dueTimeouts: number;
  /** Timeout batches that failed every attempt. */
  deadTimeouts: number;
  /** Problems waiting for an operator. */
  alerts: number;
}

/**
 * Messaging between api, worker and ws processes. Every hop carries batches: one message holds the order
 * requests an api process gathered in a few milliseconds, the results a worker decided in one transaction,
 * the goods that have stock again. A batch is never split or merged by the bus; consumers stay idempotent
 * per uuid and order number, so a batch delivered twice changes nothing the second time.
 */
export interface OrderBus {
  /**
   * Persist a batch of order requests as ONE message on the pending queue; resolves once the broker confirmed
   * it. With `sendBy` (epoch ms), a batch that cannot be handed to the broker by then (a broker that stopped
   * reading, a process that was frozen) is not sent at all: rejects UNAVAILABLE, and nothing of it arrives.
   */
  publishOrders(messages: readonly OrderMessage[], opts?: { sendBy?: number }): Promise<void>;
  /**
   * Take order batches (competing consumers: each message goes to one of them). At-least-once:
   * a message may be delivered more than once. A rejected handler causes a redelivery; after
   * `maxAttempts` the message goes to the dead-letter queue instead. A handler that rejects with an
   * infrastructure failure (SeckillError UNAVAILABLE) is retried after a growing wait and that does not count
   * as an attempt: a database outage delays orders, it never dead-letters them.
   */
  consumeOrders(handler: Handler<OrderMessage[]>, opts?: { prefetch?: number }): Promise<Subscription>;
  /**
   * Publish decided results (confirmed): one message for the SUCCESS results and one for the FAIL results.
   * The SUCCESS message also starts the pay timer of its orders: after the pay timeout it is delivered,
   * as one batch, to `consumeTimeouts` (a TTL queue dead-lettering into the timeout queue).
   */
  publishResults(results: readonly SeckillResult[]): Promise<void>;
  /** Take due pay timeouts, one SUCCESS batch per delivery (competing consumers, at-least-once, same retry rules as orders). */
  consumeTimeouts(handler: Handler<SeckillResult[]>, opts?: { prefetch?: number }): Promise<Subscription>;
  /** Every subscriber (in every process) receives every result batch published after it subscribed. */
  subscribeResults(handler: (results: SeckillResult[]) => void): Promise<Subscription>;
  /** Tell every process, in one message, that these goods have stock again (clear sold-out signs). */
  broadcastStockAgain(seckillGoodIds: readonly number[]): Promise<void>;
  subscribeStockAgain(handler: (seckillGoodIds: number[]) => void): Promise<Subscription>;
  /**
   * Tell every process, on the same fanout as the stock-again signs, the new state of sales an admin changed
   * (edited, paused, resumed), whole, so each process applies it without a database read.
   */
  broadcastSalesChanged(goods: readonly SeckillGood[]): Promise<void>;
  subscribeSalesChanged(handler: (goods: SeckillGood[]) => void): Promise<Subscription>;
  /** Put a problem an operator must look at on the alert queue. */
  raiseAlert(alert: Alert): Promise<void>;
  /** Read (and remove) alerts; operators and tests. */
  takeAlerts(max: number): Promise<Alert[]>;
  /** Read (and remove) up to `max` dead-lettered order batches, as their order requests; operators and tests. */
  takeDeadOrders(max: number): Promise<OrderMessage[]>;
  /**
   * Put up to `max` dead-lettered order batches back on the pending queue as new messages (attempt 1),
   * each removed from the dead-letter queue only once its copy is confirmed. Returns the orders replayed.
   */
  replayDeadOrders(max: number): Promise<number>;
  /** How many messages wait on each durable queue (metrics); rejects UNAVAILABLE when the broker cannot say. */
  queueDepths(): Promise<QueueDepths>;
  /**
   * The latest moment (epoch ms) by which every order message that left a publisher before it has been
   * acknowledged (its results committed) or dead-lettered: the pending queue was seen holding no message at
   * all, neither waiting nor in a worker's hands, after that moment. null while that is not known (never seen
   * empty yet). A moment once reported stays true; a broker that cannot be asked leaves it where it was.
   */
  pendingDrainedAt(): Promise<number | null>;
  /** Resolves when the bus is connected and listening (health checks); rejects UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
