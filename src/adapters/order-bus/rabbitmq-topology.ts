/**
 * The RabbitMQ topology of the sale, owned by the order bus and asserted on every (re)connect.
 * Every message is a JSON array: a batch of order requests, of results of one status, of good ids.
 *
 *   order.pending        durable queue of order batches, competing consumers (the worker)
 *   order.pending.dead   durable queue: order messages that failed `maxAttempts` times
 *   order-result         topic exchange, routing keys Order.success / Order.fail
 *   sold-out-sign        fanout exchange: "good N has stock again" (body: the good id)
 *   alert                durable queue: problems an operator must look at; at most `alertQueueMax`,
 *                        the oldest dropped (arguments set when this creates it, see assertAlertQueue)
 *
 *   order.delay.<ttl>ms  durable queue bound to Order.success, x-message-ttl = the pay timeout,
 *                        dead-lettering (through the default exchange) into order.timeout: one message
 *                        per decided batch, carrying its orders
 *   order.timeout        durable queue, competing consumers: due pay timeouts (a SUCCESS batch)
 *   order.timeout.dead   durable queue: timeout messages that failed `maxAttempts` times
 *
 * The TTL is in the delay queue's name because a queue's arguments cannot change: after a new pay
 * timeout the old delay queue may still be bound and deliver early or late copies, which the timeout
 * handler ignores (it closes an order only when its stored pay deadline has passed). An operator can
 * delete the old queue.
 *
 * Subscribers' queues (results, stock-again) are anonymous, exclusive and auto-delete; they are made
 * per subscription, not here.
 */
import type { Channel, ChannelModel } from 'amqplib';

export interface TopologyNames {
  pendingQueue: string;
  deadQueue: string;
  alertQueue: string;
  resultExchange: string;
  stockAgainExchange: string;
  delayQueue: string;
  timeoutQueue: string;
  timeoutDeadQueue: string;
  payTimeoutMs: number;
  alertQueueMax: number;
}

export const RESULT_ROUTING_KEYS = { SUCCESS: 'Order.success', FAIL: 'Order.fail', ALL: 'Order.*' } as const;

export function topologyNames(prefix: string, payTimeoutMs = 15 * 60_000, alertQueueMax = 10_000): TopologyNames {
  return {
    pendingQueue: `${prefix}order.pending`,
    deadQueue: `${prefix}order.pending.dead`,
    alertQueue: `${prefix}alert`,
    resultExchange: `${prefix}order-result`,
    stockAgainExchange: `${prefix}sold-out-sign`,
    delayQueue: `${prefix}order.delay.${payTimeoutMs}ms`,
    timeoutQueue: `${prefix}order.timeout`,
    timeoutDeadQueue: `${prefix}order.timeout.dead`,
    payTimeoutMs,
    alertQueueMax,
  };
}

/** Idempotent: declaring what exists with the same arguments changes nothing. */
export async function assertTopology(channel: Channel, names: TopologyNames): Promise<void> {
  await channel.assertQueue(names.pendingQueue, { durable: true });
  await channel.assertQueue(names.deadQueue, { durable: true });
  await channel.assertExchange(names.resultExchange, 'topic', { durable: true });
  await channel.assertExchange(names.stockAgainExchange, 'fanout', { durable: true });
  await channel.assertQueue(names.timeoutQueue, { durable: true });
  await channel.assertQueue(names.timeoutDeadQueue, { durable: true });
  await channel.assertQueue(names.delayQueue, {
    durable: true,
    arguments: { 'x-message-ttl': names.payTimeoutMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': names.timeoutQueue },
  });
  await channel.bindQueue(names.delayQueue, names.resultExchange, RESULT_ROUTING_KEYS.SUCCESS);
}

/**
 * The alert queue, bounded when this creates it. A queue's arguments cannot change, so one made by an older
 * release (unbounded) is left as it is rather than declared with other arguments, which the broker would
 * refuse by closing the channel. Two processes creating it at once declare the same arguments.
 */
export async function assertAlertQueue(model: ChannelModel, names: TopologyNames): Promise<void> {
  const probe = await model.createChannel();
  probe.on('error', () => undefined);
  try {
    await probe.checkQueue(names.alertQueue);
    await probe.close();
    return;
  } catch {
    // Not found: the broker closed the probe channel.
  }
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  await channel.assertQueue(names.alertQueue, {
    durable: true,
    arguments: { 'x-max-length': names.alertQueueMax, 'x-overflow': 'drop-head' },
  });
  await channel.close();
}

/** Removes everything `assertTopology` and `assertAlertQueue` made (tests; tearing down a namespace). */
export async function deleteTopology(channel: Channel, names: TopologyNames): Promise<void> {
  await channel.deleteQueue(names.pendingQueue);
  await channel.deleteQueue(names.deadQueue);
  await channel.deleteQueue(names.alertQueue);
  await channel.deleteExchange(names.resultExchange);
  await channel.deleteExchange(names.stockAgainExchange);
  await channel.deleteQueue(names.delayQueue);
  await channel.deleteQueue(names.timeoutQueue);
  await channel.deleteQueue(names.timeoutDeadQueue);
}
