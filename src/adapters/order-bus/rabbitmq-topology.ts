/**
 * The RabbitMQ topology of the sale, owned by the order bus and asserted on every (re)connect.
 *
 *   order.pending        durable queue, competing consumers (the worker)
 *   order.pending.dead   durable queue: order messages that failed `maxAttempts` times
 *   order-result         topic exchange, routing keys Order.success / Order.fail
 *   sold-out-sign        fanout exchange: "good N has stock again" (body: the good id)
 *   alert                durable queue: problems an operator must look at
 *
 * Subscribers' queues (results, stock-again) are anonymous, exclusive and auto-delete; they are made
 * per subscription, not here. The pay-timeout path (a delay queue with x-message-ttl dead-lettering to
 * order.timeout, bound to Order.success) is meant to be added to `assertTopology`.
 */
import type { Channel } from 'amqplib';

export interface TopologyNames {
  pendingQueue: string;
  deadQueue: string;
  alertQueue: string;
  resultExchange: string;
  stockAgainExchange: string;
}

export const RESULT_ROUTING_KEYS = { SUCCESS: 'Order.success', FAIL: 'Order.fail', ALL: 'Order.*' } as const;

export function topologyNames(prefix: string): TopologyNames {
  return {
    pendingQueue: `${prefix}order.pending`,
    deadQueue: `${prefix}order.pending.dead`,
    alertQueue: `${prefix}alert`,
    resultExchange: `${prefix}order-result`,
    stockAgainExchange: `${prefix}sold-out-sign`,
  };
}

/** Idempotent: declaring what exists with the same arguments changes nothing. */
export async function assertTopology(channel: Channel, names: TopologyNames): Promise<void> {
  await channel.assertQueue(names.pendingQueue, { durable: true });
  await channel.assertQueue(names.deadQueue, { durable: true });
  await channel.assertQueue(names.alertQueue, { durable: true });
  await channel.assertExchange(names.resultExchange, 'topic', { durable: true });
  await channel.assertExchange(names.stockAgainExchange, 'fanout', { durable: true });
}

/** Removes everything `assertTopology` made (tests; tearing down a namespace). */
export async function deleteTopology(channel: Channel, names: TopologyNames): Promise<void> {
  await channel.deleteQueue(names.pendingQueue);
  await channel.deleteQueue(names.deadQueue);
  await channel.deleteQueue(names.alertQueue);
  await channel.deleteExchange(names.resultExchange);
  await channel.deleteExchange(names.stockAgainExchange);
}
