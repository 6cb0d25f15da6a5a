/**
 * The RabbitMQ topology of the sale, owned by the order bus and asserted on every (re)connect.
 * Every message is a JSON array: a batch of order requests, of results of one status, of good ids.
 *
 *   order.pending        durable queue of order batches, competing consumers (the worker)
 *   order.pending.dead   durable queue: order messages that failed `maxAttempts` times
 *   order-result         topic exchange, routing keys Order.success / Order.fail
 *   sold-out-sign        fanout exchange: "goods N… have stock again" (body: the good ids) and "these
 *                        sales changed" (body: {"sales":[…]}, see sale-signs.ts)
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
 * per subscription, not here, and stay classic whatever the queue type (a quorum queue cannot be exclusive).
 *
 * Queue type: `classic` declares the durable queues as before; `quorum` declares them as replicated quorum
 * queues (RabbitMQ ≥ 3.10 for per-queue message TTL and at-least-once dead-lettering). The two work queues
 * then also carry `x-delivery-limit`, dead-lettering (at-least-once) into their dead queue: the broker counts
 * every delivery that did not end in an ack, including those of a consumer that died with the message in
 * hand — which a hand-made count (`x-attempt`, republished by a consumer that lived to do it) never sees.
 * So a batch that crashes every worker that takes it ends in the dead queue instead of looping forever.
 * Handler failures are still counted by hand (`maxAttempts`, the last error kept in a header), and outage
 * retries are republished rather than requeued, so an outage never counts toward either limit (see
 * rabbitmq-work-consumer.ts). A queue's type cannot change in place: declaring an existing queue as the
 * other type fails with QueueDeclarationConflict, naming the queue.
 */
import type { Channel, ChannelModel, Options } from 'amqplib';

export type QueueType = 'classic' | 'quorum';

/** An existing queue was declared with other arguments (another type, another TTL …): the broker refused. */
export class QueueDeclarationConflict extends Error {
  constructor(
    readonly queue: string,
    readonly queueType: QueueType,
    cause: unknown,
  ) {
    super(
      `RabbitMQ queue "${queue}" already exists with other arguments than a ${queueType} queue of this release ` +
        `(${cause instanceof Error ? cause.message : String(cause)}). A queue's type cannot change in place: ` +
        `declare it as it is, or drain and delete the queue first.`,
      { cause },
    );
    this.name = 'QueueDeclarationConflict';
  }
}

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
  /** How the durable queues are declared (not a name, but part of what every declaration must agree on). */
  queueType: QueueType;
  /** Quorum work queues: deliveries without an ack before the broker dead-letters a message. */
  deliveryLimit: number;
}

export const RESULT_ROUTING_KEYS = { SUCCESS: 'Order.success', FAIL: 'Order.fail', ALL: 'Order.*' } as const;

export function topologyNames(
  prefix: string,
  payTimeoutMs = 15 * 60_000,
  alertQueueMax = 10_000,
  queues: { type?: QueueType; deliveryLimit?: number } = {},
): TopologyNames {
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
    queueType: queues.type ?? 'classic',
    deliveryLimit: queues.deliveryLimit ?? 20,
  };
}

/** The arguments of a durable queue of this type; `extra` are the queue's own (TTL, dead-lettering …). */
function durable(names: TopologyNames, extra: Record<string, unknown> = {}): Options.AssertQueue {
  if (names.queueType === 'classic') return Object.keys(extra).length ? { durable: true, arguments: extra } : { durable: true };
  return { durable: true, arguments: { 'x-queue-type': 'quorum', ...extra } };
}

/** Quorum queues that dead-letter: at-least-once (the broker keeps a message until its dead queue confirmed it). */
function deadLettersTo(names: TopologyNames, queue: string): Record<string, unknown> {
  const to = { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue };
  return names.queueType === 'quorum' ? { ...to, 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } : to;
}

/** A work queue: under quorum, the broker dead-letters a message after `deliveryLimit` deliveries without an ack. */
function workQueue(names: TopologyNames, dead: string): Options.AssertQueue {
  return names.queueType === 'classic' ? durable(names) : durable(names, { 'x-delivery-limit': names.deliveryLimit, ...deadLettersTo(names, dead) });
}

async function declare(channel: Channel, names: TopologyNames, queue: string, options: Options.AssertQueue): Promise<void> {
  try {
    await channel.assertQueue(queue, options);
  } catch (err) {
    // 406 PRECONDITION_FAILED: the queue exists with other arguments (and the broker closed the channel).
    if ((err as { code?: unknown }).code === 406) throw new QueueDeclarationConflict(queue, names.queueType, err);
    throw err;
  }
}

/** Idempotent: declaring what exists with the same arguments changes nothing. */
export async function assertTopology(channel: Channel, names: TopologyNames): Promise<void> {
  await declare(channel, names, names.deadQueue, durable(names));
  await declare(channel, names, names.pendingQueue, workQueue(names, names.deadQueue));
  await channel.assertExchange(names.resultExchange, 'topic', { durable: true });
  await channel.assertExchange(names.stockAgainExchange, 'fanout', { durable: true });
  await declare(channel, names, names.timeoutDeadQueue, durable(names));
  await declare(channel, names, names.timeoutQueue, workQueue(names, names.timeoutDeadQueue));
  await declare(channel, names, names.delayQueue, durable(names, { 'x-message-ttl': names.payTimeoutMs, ...deadLettersTo(names, names.timeoutQueue) }));
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
  await declare(channel, names, names.alertQueue, durable(names, { 'x-max-length': names.alertQueueMax, 'x-overflow': 'drop-head' }));
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
